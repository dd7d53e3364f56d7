import { objectSchema } from './fields';
import { CODES } from './huawei-error';
import { RouteDef } from './route';

const ERROR_SCHEMA = {
  type: 'object',
  description: 'Every error: the code and message twice, nested as documented and flat as the SDKs read them.',
  properties: {
    error: { type: 'object', properties: { error_code: { type: 'string' }, error_msg: { type: 'string' } }, required: ['error_code', 'error_msg'] },
    error_code: { type: 'string', enum: [...new Set(Object.values(CODES).map(([, code]) => code))].sort() },
    error_msg: { type: 'string' },
  },
  required: ['error', 'error_code', 'error_msg'],
};

/** The OpenAPI 3 document of the face, generated from its route table. */
export function openApiDocument(routes: readonly RouteDef[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const pathParams = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: m[1] === 'project_id' ? { type: 'string', pattern: '^[0-9a-f]{32}$' } : { type: 'string' },
    }));
    const status = String(r.status ?? 200);
    paths[r.path] ??= {};
    paths[r.path][r.method.toLowerCase()] = {
      operationId: r.name,
      summary: r.summary,
      'x-kms-operation': r.operation,
      'x-rate-limit-per-second': r.rateLimit,
      parameters: pathParams,
      ...(r.fields && { requestBody: { required: true, content: { 'application/json': { schema: objectSchema(r.fields) } } } }),
      responses: {
        [status]: r.answer ? { description: 'Success.', content: { 'application/json': { schema: r.answer } } } : { description: 'Success, without a body.' },
        default: { description: 'An error (see the error table).', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
      security: [{ akSk: [] }, { authToken: [] }],
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'KMS, REST API v1.0 (Huawei Cloud KMS compatible)', version },
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: {
        akSk: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'SDK-HMAC-SHA256 AK/SK signature with X-Sdk-Date, as the vendor SDK core signs.' },
        authToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: 'A token of `kms iam-token create`, valid 24 hours.' },
      },
    },
  };
}
