import { useEffect, useState } from 'preact/hooks';
import { call } from '../api';
import { ErrorAlert, PageTitle, useCall } from '../ui';

interface Algorithms {
  SymmetricAlgorithms: Array<{ KeyUsage: string; Algorithm: string }>;
  AsymmetricAlgorithms: Array<{ KeyUsage: string; Algorithm: string }>;
}

/** CreateKey: a symmetric or asymmetric usage (as ListAlgorithms offers them), or an EXTERNAL key for BYOK. */
export function CreateKey() {
  const [alias, setAlias] = useState('');
  const [description, setDescription] = useState('');
  const [usage, setUsage] = useState('ENCRYPT_DECRYPT');
  const [external, setExternal] = useState(false);
  const [tags, setTags] = useState<Array<{ key: string; value: string }>>([]);
  const [usages, setUsages] = useState<string[]>(['ENCRYPT_DECRYPT']);
  const c = useCall<{ KeyId: string }>();

  useEffect(() => {
    call<Algorithms>('ListAlgorithms')
      .then((a) => setUsages([...new Set([...a.SymmetricAlgorithms, ...a.AsymmetricAlgorithms].map((x) => x.KeyUsage))]))
      .catch(() => undefined); // the list stays the default; CreateKey says what is refused
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const r = await c.run(() =>
      call<{ KeyId: string }>('CreateKey', {
        Alias: alias,
        ...(description ? { Description: description } : {}),
        KeyUsage: usage,
        Type: external ? 2 : 1,
        ...(tags.length ? { Tags: tags.map((t) => ({ TagKey: t.key, TagValue: t.value })) } : {}),
      }),
    );
    if (r) location.hash = external ? `#/keys/${encodeURIComponent(r.KeyId)}/import` : `#/keys/${encodeURIComponent(r.KeyId)}`;
  };
  const setTag = (i: number, field: 'key' | 'value', v: string) => setTags(tags.map((t, j) => (j === i ? { ...t, [field]: v } : t)));

  return (
    <>
      <PageTitle>Create key</PageTitle>
      <form class="card card-body create-form" onSubmit={submit}>
        <div class="mb-3">
          <label class="form-label" for="alias">
            Alias
          </label>
          <input id="alias" class="form-control" required maxLength={60} value={alias} onInput={(e) => setAlias((e.target as HTMLInputElement).value)} aria-describedby="alias-help" />
          <div id="alias-help" class="form-text">
            Letters, digits, _ and -, up to 60 characters; unique in the region.
          </div>
        </div>
        <div class="mb-3">
          <label class="form-label" for="description">
            Description
          </label>
          <input id="description" class="form-control" maxLength={1024} value={description} onInput={(e) => setDescription((e.target as HTMLInputElement).value)} />
        </div>
        <div class="mb-3">
          <label class="form-label" for="usage">
            Usage
          </label>
          <select id="usage" class="form-select" value={usage} onChange={(e) => setUsage((e.target as HTMLSelectElement).value)}>
            {usages.map((u) => (
              <option key={u}>{u}</option>
            ))}
          </select>
        </div>
        <fieldset class="mb-3">
          <legend class="form-label fs-6">Key material</legend>
          <div class="form-check">
            <input class="form-check-input" type="radio" name="origin" id="origin-kms" checked={!external} onChange={() => setExternal(false)} />
            <label class="form-check-label" for="origin-kms">
              Made in the HSM (KMS)
            </label>
          </div>
          <div class="form-check">
            <input class="form-check-input" type="radio" name="origin" id="origin-external" checked={external} onChange={() => setExternal(true)} disabled={usage !== 'ENCRYPT_DECRYPT'} />
            <label class="form-check-label" for="origin-external">
              Imported: bring your own key (EXTERNAL, symmetric only)
            </label>
          </div>
        </fieldset>
        <fieldset class="mb-3">
          <legend class="form-label fs-6">Tags</legend>
          {tags.map((t, i) => (
            <div class="input-group mb-2" key={i}>
              <input class="form-control" aria-label={`Tag ${i + 1} key`} placeholder="key" value={t.key} onInput={(e) => setTag(i, 'key', (e.target as HTMLInputElement).value)} />
              <input class="form-control" aria-label={`Tag ${i + 1} value`} placeholder="value" value={t.value} onInput={(e) => setTag(i, 'value', (e.target as HTMLInputElement).value)} />
              <button type="button" class="btn btn-outline-secondary" aria-label={`Remove tag ${i + 1}`} onClick={() => setTags(tags.filter((_, j) => j !== i))}>
                ×
              </button>
            </div>
          ))}
          <button type="button" class="btn btn-sm btn-outline-secondary" onClick={() => setTags([...tags, { key: '', value: '' }])}>
            Add tag
          </button>
        </fieldset>
        <ErrorAlert error={c.error} />
        <div>
          <button type="submit" class="btn btn-primary" disabled={c.busy}>
            {c.busy ? 'Creating…' : 'Create'}
          </button>
        </div>
      </form>
    </>
  );
}
