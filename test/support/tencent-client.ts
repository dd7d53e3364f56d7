import type { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Client } from 'tencentcloud-sdk-nodejs/tencentcloud/services/kms/v20190118/kms_client';
import { Credential } from './kms-service';

export type SignMethod = 'TC3-HMAC-SHA256' | 'HmacSHA256' | 'HmacSHA1';

/**
 * The official Tencent Cloud SDK client, unmodified, pointed at the test service; with an
 * https.Agent as `agent` (it carries the CA to trust and any client certificate), over HTTPS.
 */
export function kmsClient(endpoint: string, cred: Pick<Credential, 'SecretId' | 'SecretKey'>, opts: { signMethod?: SignMethod; reqMethod?: 'POST' | 'GET'; region?: string; agent?: Agent } = {}): Client {
  const transport = { protocol: opts.agent instanceof HttpsAgent ? 'https://' : 'http://', agent: opts.agent };
  return new Client({
    credential: { secretId: cred.SecretId, secretKey: cred.SecretKey },
    region: opts.region ?? 'ap-guangzhou',
    profile: { signMethod: opts.signMethod ?? 'TC3-HMAC-SHA256', httpProfile: { endpoint, ...transport, reqMethod: opts.reqMethod ?? 'POST', reqTimeout: 30 } },
  });
}

/** The error code the SDK raised, or 'OK'. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (!code) throw e;
    return code;
  }
}

export const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
