import { AuditLine, AuditPosition, AuditReader } from '../../../audit/audit-reader';
import { UnauthorizedError } from '../../../common/domain-errors';
import { TencentError } from '../tencent-error';
import { ActionDef } from './action';

const MAX_LIMIT = 100;
const invalid = (msg: string): TencentError => new TencentError('InvalidParameter', msg);

/** NextToken: where the page ended (time in ms, writer, sequence number), opaque to callers. */
function encodeToken(r: AuditLine): string {
  return Buffer.from(`${Date.parse(r.time)}.${r.seq}.${r.writer}`).toString('base64url');
}

function decodeToken(token: string): AuditPosition {
  const m = /^(\d{1,15})\.(\d{1,15})\.([A-Za-z0-9_-]{1,64})$/.exec(token.length <= 200 ? Buffer.from(token, 'base64url').toString('utf8') : '');
  if (!m) throw invalid('NextToken is not one this action answered');
  return { at: Number(m[1]), seq: Number(m[2]), writer: m[3] };
}

/** Unix seconds to milliseconds, within what a date can be. */
function timeParam(name: string, seconds: number | undefined): number | undefined {
  if (seconds === undefined) return undefined;
  if (seconds > 253402300799) throw invalid(`${name} must be a Unix time in seconds`);
  return seconds * 1000;
}

/**
 * An extension of this service (not in the 2019-01-18 document): the account's own audit
 * records, newest first, for its root credentials only. Sub-users are refused whatever their
 * policy says, as the records show every caller of the account.
 */
export function auditActions(reader: AuditReader): ActionDef[] {
  return [
    {
      name: 'ListAuditRecords',
      params: ['StartTime', 'EndTime', 'KeyId', 'ActionName', 'Limit', 'NextToken'],
      async run({ principal, params }) {
        if (principal.callerUin !== principal.uin || principal.policy) throw new UnauthorizedError("only the account's root credentials may read its audit records");
        const limit = params.uint('Limit', 20)!;
        if (limit < 1 || limit > MAX_LIMIT) throw invalid(`Limit must be 1..${MAX_LIMIT}`);
        const since = timeParam('StartTime', params.uint('StartTime'));
        const until = timeParam('EndTime', params.uint('EndTime'));
        const keyId = params.str('KeyId');
        if (keyId !== undefined && !/^[A-Za-z0-9-]{1,128}$/.test(keyId)) throw new TencentError('InvalidParameterValue.InvalidKeyId', 'KeyId is not a key id');
        const action = params.str('ActionName');
        if (action !== undefined && !/^[A-Za-z0-9_.:/-]{1,64}$/.test(action)) throw invalid('ActionName is not an action name');
        const token = params.str('NextToken');
        // One more than asked: whether a next page exists, without counting.
        const rows = await reader.list({ account: principal.uin, keyId: keyId || undefined, action: action || undefined, since, until, limit: limit + 1, before: token ? decodeToken(token) : undefined });
        const page = rows.slice(0, limit);
        return {
          Records: page.map((r) => ({
            Time: r.time,
            Face: r.face,
            Action: r.action,
            SubUin: r.subUser,
            SecretId: r.secretId,
            Keys: r.keys.map((k) => ({ KeyId: k.keyId, Version: k.version ?? null })),
            RequestId: r.requestId,
            SourceIp: r.source,
            ClientCert: r.clientCert,
            Result: r.result,
            DurationMs: r.durationMs,
          })),
          NextToken: rows.length > limit ? encodeToken(page[page.length - 1]) : null,
        };
      },
    },
  ];
}
