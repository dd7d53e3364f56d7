import Database from 'better-sqlite3';
import * as path from 'node:path';
import { Client } from 'pg';
import { kmsCli } from './kms-service';

/**
 * SQL on a service's database behind its back (SQLite file or PostgreSQL), as someone who can
 * write the database but not use the token would: `$1`-style parameters on both.
 */
export async function sql<T = Record<string, unknown>>(env: Record<string, string>, text: string, params: unknown[] = []): Promise<T[]> {
  if (env.KMS_DATABASE_URL) {
    const c = new Client({ connectionString: env.KMS_DATABASE_URL });
    await c.connect();
    try {
      return (await c.query(text, params)).rows as T[];
    } finally {
      await c.end();
    }
  }
  const db = new Database(path.join(env.KMS_DATA_DIR, 'kms.sqlite'));
  try {
    db.pragma('busy_timeout = 5000');
    const st = db.prepare(text.replace(/\$(\d+)/g, '@p$1'));
    const named = Object.fromEntries(params.map((v, i) => [`p${i + 1}`, v]));
    const args = params.length ? [named] : [];
    return (st.reader ? st.all(...args) : (st.run(...args), [])) as T[];
  } finally {
    db.close();
  }
}

export interface AuditLine {
  time: string;
  face: string;
  action: string;
  account: string | null;
  subUser: string | null;
  secretId: string | null;
  keys: Array<{ keyId: string; version?: number }>;
  requestId: string | null;
  source: string | null;
  clientCert: string | null;
  result: string;
  durationMs: number;
  writer: string;
  seq: number;
}

export const jsonLines = (out: string): AuditLine[] => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditLine);

/** Every record, newest first (through `kms audit list`). */
export async function auditList(env: Record<string, string>, ...filters: string[]): Promise<AuditLine[]> {
  const r = await kmsCli(env, 'audit', 'list', '--limit', '100000', ...filters);
  if (r.code !== 0) throw new Error(`kms audit list failed (${r.code}): ${r.stderr}`);
  return jsonLines(r.stdout);
}

/** How many records the store holds (plain SQL: far cheaper than a CLI run). */
async function recordCount(env: Record<string, string>): Promise<number> {
  try {
    const [row] = await sql<{ n: number | string }>(env, 'SELECT count(*) AS n FROM audit_records');
    return Number(row.n);
  } catch {
    return -1; // the store is out of reach (a test took it away): the CLI will say more
  }
}

/**
 * Waits until `pred` holds of the records (they are written in batches every 200 ms). Only a
 * new (or pruned) record can change the answer, so the CLI lists again only once the count moves.
 */
export async function waitForRecords(env: Record<string, string>, pred: (lines: AuditLine[]) => boolean, ms = 10_000): Promise<AuditLine[]> {
  const until = Date.now() + ms;
  for (;;) {
    const seen = await recordCount(env);
    const lines = await auditList(env);
    if (pred(lines) || Date.now() > until) return lines;
    while (Date.now() <= until && (await recordCount(env)) === seen) await new Promise((r) => setTimeout(r, 100));
  }
}
