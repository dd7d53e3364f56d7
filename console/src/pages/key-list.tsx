import { useEffect, useState } from 'preact/hooks';
import { call } from '../api';
import { KeyMetadata, KEY_USAGES } from '../keys';
import { ErrorAlert, PageTitle, Spinner, StateBadge, fmtTime, useCall } from '../ui';

interface Filters {
  state: number;
  search: string;
  tags: string;
  origin: string;
  usage: string;
  newestFirst: boolean;
  limit: number;
}

const STATES: Array<[number, string]> = [
  [0, 'All states'],
  [1, 'Enabled'],
  [2, 'Disabled'],
  [3, 'PendingDelete'],
  [4, 'PendingImport'],
  [5, 'Archived'],
];

/** `env=prod|test, team` to TagFilters: a key with any of the values, or with any value. */
export function tagFilters(text: string): Array<{ TagKey: string; TagValue?: string[] }> {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const eq = s.indexOf('=');
      return eq < 0 ? { TagKey: s } : { TagKey: s.slice(0, eq).trim(), TagValue: s.slice(eq + 1).split('|').map((v) => v.trim()) };
    });
}

const DEFAULTS: Filters = { state: 0, search: '', tags: '', origin: 'ALL', usage: 'ALL', newestFirst: true, limit: 20 };

/** ListKeyDetail with its filters, paging and sorting. */
export function KeyList() {
  const [draft, setDraft] = useState<Filters>(DEFAULTS);
  const [filters, setFilters] = useState<Filters>(DEFAULTS);
  const [offset, setOffset] = useState(0);
  const c = useCall<{ TotalCount: number; KeyMetadatas: KeyMetadata[] }>();

  useEffect(() => {
    void c.run(() =>
      call('ListKeyDetail', {
        Offset: offset,
        Limit: filters.limit,
        OrderType: filters.newestFirst ? 0 : 1,
        KeyState: filters.state,
        ...(filters.search ? { SearchKeyAlias: filters.search } : {}),
        Origin: filters.origin,
        KeyUsage: filters.usage,
        ...(filters.tags.trim() ? { TagFilters: tagFilters(filters.tags) } : {}),
      }),
    );
  }, [filters, offset]);

  const set = <K extends keyof Filters>(k: K, v: Filters[K]) => setDraft({ ...draft, [k]: v });
  const apply = (f: Filters) => {
    setFilters(f);
    setOffset(0);
  };
  const total = c.result?.TotalCount ?? 0;
  const rows = c.result?.KeyMetadatas ?? [];
  const sort = () => {
    const f = { ...filters, newestFirst: !filters.newestFirst };
    setDraft(f);
    apply(f);
  };

  return (
    <>
      <div class="d-flex flex-wrap justify-content-between align-items-center gap-2">
        <PageTitle>Keys</PageTitle>
        <a class="btn btn-primary mb-3" href="#/create">
          Create key
        </a>
      </div>
      <form
        class="row g-2 align-items-end mb-3 filters"
        aria-label="Filters"
        onSubmit={(e) => {
          e.preventDefault();
          apply(draft);
        }}
      >
        <div class="col-12 col-md-3">
          <label class="form-label small" for="f-search">
            Alias contains
          </label>
          <input id="f-search" class="form-control" type="search" value={draft.search} onInput={(e) => set('search', (e.target as HTMLInputElement).value)} />
        </div>
        <div class="col-6 col-md-2">
          <label class="form-label small" for="f-state">
            State
          </label>
          <select id="f-state" class="form-select" value={draft.state} onChange={(e) => set('state', Number((e.target as HTMLSelectElement).value))}>
            {STATES.map(([v, l]) => (
              <option value={v} key={v}>
                {l}
              </option>
            ))}
          </select>
        </div>
        <div class="col-6 col-md-2">
          <label class="form-label small" for="f-origin">
            Origin
          </label>
          <select id="f-origin" class="form-select" value={draft.origin} onChange={(e) => set('origin', (e.target as HTMLSelectElement).value)}>
            <option value="ALL">All origins</option>
            <option value="KMS">KMS</option>
            <option value="EXTERNAL">EXTERNAL</option>
          </select>
        </div>
        <div class="col-6 col-md-2">
          <label class="form-label small" for="f-usage">
            Usage
          </label>
          <select id="f-usage" class="form-select" value={draft.usage} onChange={(e) => set('usage', (e.target as HTMLSelectElement).value)}>
            <option value="ALL">All usages</option>
            {KEY_USAGES.map((u) => (
              <option key={u}>{u}</option>
            ))}
          </select>
        </div>
        <div class="col-6 col-md-3">
          <label class="form-label small" for="f-tags">
            Tags <span class="text-body-secondary">(key=value|value, key)</span>
          </label>
          <input id="f-tags" class="form-control" value={draft.tags} onInput={(e) => set('tags', (e.target as HTMLInputElement).value)} />
        </div>
        <div class="col-6 col-md-2">
          <label class="form-label small" for="f-order">
            Sort
          </label>
          <select id="f-order" class="form-select" value={draft.newestFirst ? 'new' : 'old'} onChange={(e) => set('newestFirst', (e.target as HTMLSelectElement).value === 'new')}>
            <option value="new">Newest first</option>
            <option value="old">Oldest first</option>
          </select>
        </div>
        <div class="col-6 col-md-2">
          <label class="form-label small" for="f-limit">
            Per page
          </label>
          <select id="f-limit" class="form-select" value={draft.limit} onChange={(e) => set('limit', Number((e.target as HTMLSelectElement).value))}>
            {[10, 20, 50, 100].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <div class="col-12 col-md-auto d-flex gap-2">
          <button type="submit" class="btn btn-outline-primary">
            Apply
          </button>
          <button
            type="button"
            class="btn btn-outline-secondary"
            onClick={() => {
              setDraft(DEFAULTS);
              apply(DEFAULTS);
            }}
          >
            Reset
          </button>
        </div>
      </form>
      <ErrorAlert error={c.error} />
      {c.busy && !c.result && <Spinner />}
      {c.result && (
        <>
          <div class="table-responsive">
            <table class="table table-hover align-middle keys-table">
              <caption class="visually-hidden">Keys in this region</caption>
              <thead>
                <tr>
                  <th scope="col">Alias</th>
                  <th scope="col">Key ID</th>
                  <th scope="col">State</th>
                  <th scope="col" class="d-none d-md-table-cell">
                    Usage
                  </th>
                  <th scope="col" class="d-none d-md-table-cell">
                    Origin
                  </th>
                  <th scope="col" class="d-none d-lg-table-cell" aria-sort={filters.newestFirst ? 'descending' : 'ascending'}>
                    <button type="button" class="btn btn-link p-0 text-reset fw-semibold text-decoration-none" onClick={sort} title="Change the order">
                      Created {filters.newestFirst ? '↓' : '↑'}
                    </button>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((k) => (
                  <tr key={k.KeyId} data-key-id={k.KeyId}>
                    <td>
                      <a href={`#/keys/${encodeURIComponent(k.KeyId)}`}>{k.Alias}</a>
                    </td>
                    <td class="font-monospace small text-break">{k.KeyId}</td>
                    <td>
                      <StateBadge state={k.KeyState} />
                    </td>
                    <td class="d-none d-md-table-cell small">{k.KeyUsage}</td>
                    <td class="d-none d-md-table-cell small">{k.Origin}</td>
                    <td class="d-none d-lg-table-cell small">{fmtTime(k.CreateTime)}</td>
                  </tr>
                ))}
                {rows.length === 0 && (
                  <tr>
                    <td colSpan={6} class="text-center text-body-secondary py-4">
                      No key matches.
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
          <nav class="d-flex flex-wrap align-items-center gap-2" aria-label="Pages">
            <button type="button" class="btn btn-outline-secondary btn-sm" disabled={offset === 0 || c.busy} onClick={() => setOffset(Math.max(0, offset - filters.limit))}>
              Previous
            </button>
            <span class="small" aria-live="polite">
              {total === 0 ? '0 keys' : `${offset + 1}–${Math.min(offset + rows.length, total)} of ${total}`}
            </span>
            <button type="button" class="btn btn-outline-secondary btn-sm" disabled={offset + filters.limit >= total || c.busy} onClick={() => setOffset(offset + filters.limit)}>
              Next
            </button>
          </nav>
        </>
      )}
    </>
  );
}
