import { useEffect, useState } from 'preact/hooks';
import { call } from '../api';
import { ErrorAlert, PageTitle, Spinner, useCall } from '../ui';

interface AuditRecord {
  Time: string;
  Face: string;
  Action: string;
  SubUin: string | null;
  SecretId: string | null;
  Keys: Array<{ KeyId: string; Version: number | null }>;
  RequestId: string | null;
  SourceIp: string | null;
  Result: string;
  DurationMs: number;
}

interface Page {
  Records: AuditRecord[];
  NextToken: string | null;
}

interface Query {
  keyId: string;
  action: string;
  since: string;
  until: string;
}

/** A datetime-local value (the browser's time zone) as Unix seconds. */
const seconds = (local: string): number => Math.floor(Date.parse(local) / 1000);

function params(q: Query): Record<string, unknown> {
  return {
    Limit: 50,
    ...(q.keyId ? { KeyId: q.keyId.trim() } : {}),
    ...(q.action ? { ActionName: q.action.trim() } : {}),
    ...(q.since ? { StartTime: seconds(q.since) } : {}),
    ...(q.until ? { EndTime: seconds(q.until) } : {}),
  };
}

const EMPTY: Query = { keyId: '', action: '', since: '', until: '' };

/** The account's audit records (ListAuditRecords, this service's extension; root credentials only), newest first. */
export function AuditPage() {
  const [draft, setDraft] = useState<Query>(EMPTY);
  const [query, setQuery] = useState<Query>(EMPTY);
  const [records, setRecords] = useState<AuditRecord[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const c = useCall<Page>();

  const load = async (q: Query, token: string | null) => {
    const page = await c.run(() => call<Page>('ListAuditRecords', { ...params(q), ...(token ? { NextToken: token } : {}) }));
    if (!page) return;
    setRecords(token ? (r) => [...r, ...page.Records] : page.Records);
    setNext(page.NextToken);
  };
  useEffect(() => void load(query, null), [query]);
  const set = (k: keyof Query, v: string) => setDraft({ ...draft, [k]: v });

  return (
    <>
      <PageTitle>Audit records</PageTitle>
      <p class="text-body-secondary small">Every call of this account, through every API, the refused ones included; newest first. Only the account's root credentials may read them.</p>
      <form
        class="row g-2 align-items-end mb-3"
        aria-label="Filters"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ ...draft });
        }}
      >
        <div class="col-12 col-md-3">
          <label class="form-label small" for="a-key">
            Key ID
          </label>
          <input id="a-key" class="form-control" value={draft.keyId} onInput={(e) => set('keyId', (e.target as HTMLInputElement).value)} />
        </div>
        <div class="col-12 col-md-3">
          <label class="form-label small" for="a-action">
            Action
          </label>
          <input id="a-action" class="form-control" placeholder="Encrypt" value={draft.action} onInput={(e) => set('action', (e.target as HTMLInputElement).value)} />
        </div>
        <div class="col-6 col-md-2">
          <label class="form-label small" for="a-since">
            From
          </label>
          <input id="a-since" type="datetime-local" class="form-control" value={draft.since} onInput={(e) => set('since', (e.target as HTMLInputElement).value)} />
        </div>
        <div class="col-6 col-md-2">
          <label class="form-label small" for="a-until">
            Until
          </label>
          <input id="a-until" type="datetime-local" class="form-control" value={draft.until} onInput={(e) => set('until', (e.target as HTMLInputElement).value)} />
        </div>
        <div class="col-12 col-md-2">
          <button type="submit" class="btn btn-outline-primary w-100">
            Search
          </button>
        </div>
      </form>
      <ErrorAlert error={c.error} />
      {c.busy && records.length === 0 && <Spinner />}
      <div class="table-responsive">
        <table class="table table-sm align-middle audit-table">
          <caption class="visually-hidden">Audit records</caption>
          <thead>
            <tr>
              <th scope="col">Time (UTC)</th>
              <th scope="col">Action</th>
              <th scope="col">Result</th>
              <th scope="col" class="d-none d-md-table-cell">
                Keys
              </th>
              <th scope="col" class="d-none d-lg-table-cell">
                Caller
              </th>
              <th scope="col" class="d-none d-lg-table-cell">
                Source
              </th>
            </tr>
          </thead>
          <tbody>
            {records.map((r) => (
              <tr key={`${r.RequestId}-${r.Time}-${r.Action}`} data-action={r.Action}>
                <td class="small text-nowrap">{r.Time.replace('T', ' ').replace('Z', '')}</td>
                <td>
                  {r.Action} <span class="badge text-bg-light">{r.Face}</span>
                </td>
                <td>
                  <span class={`badge ${r.Result === 'Success' ? 'text-bg-success' : 'text-bg-danger'}`}>{r.Result}</span>
                </td>
                <td class="d-none d-md-table-cell small font-monospace text-break">{r.Keys.map((k) => (k.Version ? `${k.KeyId} v${k.Version}` : k.KeyId)).join(', ')}</td>
                <td class="d-none d-lg-table-cell small font-monospace">{r.SubUin ? `sub-user ${r.SubUin}` : r.SecretId ?? '—'}</td>
                <td class="d-none d-lg-table-cell small">{r.SourceIp ?? '—'}</td>
              </tr>
            ))}
            {!c.busy && records.length === 0 && !c.error && (
              <tr>
                <td colSpan={6} class="text-center text-body-secondary py-4">
                  No record matches.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {next && (
        <button type="button" class="btn btn-outline-secondary" disabled={c.busy} onClick={() => load(query, next)}>
          Load more
        </button>
      )}
    </>
  );
}
