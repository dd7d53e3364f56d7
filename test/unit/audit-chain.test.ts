import { TouchedKeys } from '../../src/audit/audit-context';
import { AuditEvent, ChainedRecord, genesisHash, queuedRecord, recordHash } from '../../src/audit/audit-event';
import { ConfigError, loadConfig } from '../../src/config/config';

/** The pieces of the audit trail that need neither database nor token: chaining, key notes, configuration. */

const event: AuditEvent = {
  at: 1_764_000_000_123,
  face: 'tencent',
  action: 'Encrypt',
  account: '100000000001',
  subUser: '100000000002',
  secretId: 'AKIDexampleexampleexampleexample1234',
  keys: '7f0c0000-0000-4000-8000-000000000001/v2',
  requestId: '4b0e6a1e-0000-4000-8000-000000000000',
  source: '127.0.0.1',
  clientCert: 'CN=client',
  result: 'Success',
  durationMs: 1.4,
};

/** The record as the table stores it: queuedRecord's row, read back column by column. */
function chainRecord(writer: string, seq: number, prev: string, e: AuditEvent): ChainedRecord {
  const q = queuedRecord(writer, seq, prev, e);
  const [w, s, at, face, action, account, subUser, secretId, keys, requestId, source, clientCert, result, durationMs, hash] = JSON.parse(q.row);
  expect([s, at, hash]).toEqual([q.seq, q.at, q.hash]);
  return { writer: w, seq: s, at, face, action, account, subUser, secretId, keys, requestId, source, clientCert, result, durationMs, hash };
}

describe('queuedRecord', () => {
  const w = 'writer-1';
  it('is deterministic and chains on the previous hash', () => {
    const a = chainRecord(w, 1, genesisHash(w), event);
    expect(chainRecord(w, 1, genesisHash(w), event).hash).toBe(a.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(chainRecord(w, 1, genesisHash('writer-2'), event).hash).not.toBe(a.hash);
    const b = chainRecord(w, 2, a.hash, event);
    expect(recordHash(a.hash, b)).toBe(b.hash);
  });

  it('covers every field: changing any one changes the hash', () => {
    const base = chainRecord(w, 7, genesisHash(w), event);
    const variants: Array<Partial<AuditEvent>> = [
      { at: event.at + 1 },
      { face: 'cli' },
      { action: 'Decrypt' },
      { account: '100000000009' },
      { subUser: undefined },
      { secretId: 'AKIDother' },
      { keys: '7f0c0000-0000-4000-8000-000000000001/v1' },
      { requestId: 'x' },
      { source: '10.0.0.1' },
      { clientCert: undefined },
      { result: 'UnauthorizedOperation' },
      { durationMs: 3 },
    ];
    for (const v of variants) expect(chainRecord(w, 7, genesisHash(w), { ...event, ...v }).hash).not.toBe(base.hash);
    expect(chainRecord(w, 8, genesisHash(w), event).hash).not.toBe(base.hash);
    expect(chainRecord('writer-3', 7, genesisHash(w), event).hash).not.toBe(base.hash);
  });

  it('keeps field boundaries: moving text between fields changes the hash', () => {
    const a = chainRecord(w, 1, genesisHash(w), { ...event, action: 'Encrypt', result: 'Success' });
    const b = chainRecord(w, 1, genesisHash(w), { ...event, action: 'EncryptSuccess', result: '' });
    expect(a.hash).not.toBe(b.hash);
  });

  it('cuts values to their columns before hashing, and rounds times', () => {
    const r = chainRecord(w, 1, genesisHash(w), { ...event, action: 'A'.repeat(100), source: 'x'.repeat(200), result: 'R'.repeat(200), durationMs: 2.6, at: 5.9 });
    expect(r.action).toHaveLength(64);
    expect(r.source).toHaveLength(64);
    expect(r.result).toHaveLength(96);
    expect(r.durationMs).toBe(3);
    expect(r.at).toBe(5);
    expect(recordHash(genesisHash(w), r)).toBe(r.hash);
    expect(chainRecord(w, 1, genesisHash(w), { ...event, subUser: '' }).subUser).toBeNull();
  });
});

describe('the keys a call touches', () => {
  it('formats keys with the version used', () => {
    const t = new TouchedKeys();
    expect(t.toString()).toBe('');
    t.note('k1');
    t.note('k1', 2);
    t.note('k1');
    t.note('k2');
    expect(t.toString()).toBe('k1/v2 k2');
  });
});

describe('configuration', () => {
  it('defaults to required and a year', () => {
    expect(loadConfig({}).audit).toEqual({ mode: 'required', retentionDays: 365 });
    expect(loadConfig({ KMS_AUDIT: 'best-effort', KMS_AUDIT_RETENTION_DAYS: '30' }).audit).toEqual({ mode: 'best-effort', retentionDays: 30 });
    expect(loadConfig({ KMS_AUDIT: 'off' }).audit.mode).toBe('off');
  });
  it('refuses anything else', () => {
    expect(() => loadConfig({ KMS_AUDIT: 'on' })).toThrow(ConfigError);
    expect(() => loadConfig({ KMS_AUDIT_RETENTION_DAYS: '0' })).toThrow(/KMS_AUDIT_RETENTION_DAYS/);
    expect(() => loadConfig({ KMS_AUDIT_RETENTION_DAYS: '1.5' })).toThrow(/KMS_AUDIT_RETENTION_DAYS/);
  });
});
