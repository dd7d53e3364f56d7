import { Json } from './huawei-client';

/** Where `value` departs from `schema` (types, required and undeclared properties, items). */
export function mismatches(schema: Json, value: unknown, at: string): string[] {
  const type = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  if (type !== schema.type) return [`${at}: ${type}, not ${schema.type}`];
  if (schema.type === 'array') return (value as unknown[]).flatMap((v, i) => mismatches(schema.items, v, `${at}[${i}]`));
  if (schema.type !== 'object') return [];
  const v = value as Json;
  return [
    ...(schema.required ?? []).filter((k: string) => !(k in v)).map((k: string) => `${at}.${k}: missing`),
    ...Object.keys(v).flatMap((k) => (schema.properties[k] ? mismatches(schema.properties[k], v[k], `${at}.${k}`) : [`${at}.${k}: not declared`])),
  ];
}

/**
 * Checks answers against the OpenAPI document's schema of their endpoint, found by matching the
 * called path (`{key_id}/tags`, ...) against the document's templates; records each endpoint
 * answered as "METHOD template". Returns the problems of one answer ([] when it conforms).
 */
export function answerChecker(openapi: Json): { check(method: string, name: string, body: Json): string[]; answered: Set<string> } {
  const templates = Object.keys(openapi.paths).map((p) => ({
    path: p,
    re: new RegExp(`^${p.replace('/v1.0/{project_id}/kms/', '').replace(/\{\w+\}/g, '[^/]+')}$`),
  }));
  const answered = new Set<string>();
  return {
    answered,
    check(method, name, body) {
      const t = templates.find((x) => x.re.test(name) && openapi.paths[x.path][method.toLowerCase()]);
      if (!t) return [`${method} ${name}: no such endpoint in the document`];
      const op = openapi.paths[t.path][method.toLowerCase()];
      const { httpStatusCode, ...rest } = body;
      const response = op.responses[String(httpStatusCode)];
      if (!response) return [`${method} ${name}: status ${httpStatusCode} not documented`];
      answered.add(`${method} ${t.path.replace('/v1.0/{project_id}/kms/', '')}`);
      const schema = response.content?.['application/json']?.schema;
      if (!schema) return Object.keys(rest).length ? [`${method} ${name}: a body where none is documented`] : [];
      return mismatches(schema, rest, name);
    },
  };
}
