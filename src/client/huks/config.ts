import { BusinessError, invalidArgument } from './business-error';
import { HuksExceptionErrCode } from './enums';

/** Where the service is and which credential signs: the one thing the seed's API cannot say. */
export interface HuksClientConfig {
  /** `https://host:port` (or `http://` on a loopback service without TLS). */
  endpoint?: string;
  secretId?: string;
  secretKey?: string;
  region?: string;
  /** PEM certificate(s) of a private CA that signed the service's certificate. */
  ca?: string | Buffer | Array<string | Buffer>;
}

export interface ResolvedConfig {
  url: URL;
  secretId: string;
  secretKey: string;
  region: string;
  ca?: string | Buffer | Array<string | Buffer>;
}

let configured: HuksClientConfig = {};

const FIELDS = ['endpoint', 'secretId', 'secretKey', 'region'] as const;
const ENV: Record<(typeof FIELDS)[number], string> = {
  endpoint: 'KMS_ENDPOINT',
  secretId: 'KMS_SECRET_ID',
  secretKey: 'KMS_SECRET_KEY',
  region: 'KMS_REGION',
};

function parseEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw invalidArgument(`endpoint ${JSON.stringify(endpoint)} is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidArgument('endpoint must be an http:// or https:// URL.');
  if (url.search || url.hash || url.username || url.password) throw invalidArgument('endpoint must not carry a query, fragment or user.');
  return url;
}

const isCa = (v: unknown): boolean => typeof v === 'string' || Buffer.isBuffer(v);

/**
 * Replaces the settings; a field left out falls back to its environment variable (KMS_ENDPOINT,
 * KMS_SECRET_ID, KMS_SECRET_KEY, KMS_REGION) when a call is made. Malformed values: 401.
 */
export function configure(config: HuksClientConfig): void {
  if (typeof config !== 'object' || config === null) throw invalidArgument('configure takes { endpoint, secretId, secretKey, region, ca? }.');
  for (const f of FIELDS) {
    const v = config[f];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0)) throw invalidArgument(`${f} must be a non-empty string.`);
  }
  if (config.endpoint !== undefined) parseEndpoint(config.endpoint);
  const { ca } = config;
  if (ca !== undefined && !(isCa(ca) || (Array.isArray(ca) && ca.every(isCa)))) throw invalidArgument('ca must be PEM text, a Buffer, or an array of them.');
  configured = { ...config };
}

/** The settings a call uses; a missing one is 12000013 (the credential the call needs is absent), before any request. */
export function resolveConfig(): ResolvedConfig {
  const value = (f: (typeof FIELDS)[number]): string => {
    const v = configured[f] ?? process.env[ENV[f]];
    if (!v) throw new BusinessError(HuksExceptionErrCode.HUKS_ERR_CODE_CREDENTIAL_NOT_EXIST, `No ${f}: call huks.configure({ ${f} }) or set ${ENV[f]}.`);
    return v;
  };
  const endpoint = value('endpoint');
  let url: URL;
  try {
    url = parseEndpoint(endpoint);
  } catch {
    throw new BusinessError(HuksExceptionErrCode.HUKS_ERR_CODE_CREDENTIAL_NOT_EXIST, `${ENV.endpoint} is not an http(s) URL.`);
  }
  const out: ResolvedConfig = { url, secretId: value('secretId'), secretKey: value('secretKey'), region: value('region') };
  if (configured.ca !== undefined) out.ca = configured.ca;
  return out;
}
