import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call } from '../api';
import { KeyMetadata, isSymmetric } from '../keys';
import { Breadcrumb, CopyField, ErrorAlert, PageTitle, Spinner, StateBadge, confirmAction, fmtTime, useCall } from '../ui';

interface Version {
  Version: number;
  CreateTime: number;
}
interface Binding {
  ProductId: string;
  ResourceId: string;
  CreateTime: number;
}

interface Detail {
  key: KeyMetadata;
  rotation: boolean | null;
  publicKeyPem: string | null;
  /** null: the caller's policy does not allow the read (a sub-user may describe a key without it). */
  currentVersion: number;
  versions: Version[] | null;
  tags: Array<{ TagKey: string; TagValue: string }> | null;
  bindings: Binding[] | null;
}

/** The answer of an extra read, or null when a policy refuses it: the rest of the page still shows. */
async function unlessRefused<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiError && e.code === 'UnauthorizedOperation') return null;
    throw e;
  }
}

function NotAllowed({ action }: { action: string }) {
  return <p class="small mb-0 text-body-secondary">Your policy does not allow {action} on this key.</p>;
}

async function load(keyId: string): Promise<Detail> {
  const { KeyMetadata: key } = await call<{ KeyMetadata: KeyMetadata }>('DescribeKey', { KeyId: keyId });
  // The rest in parallel; ListKeyVersions, ListKeyTags and ListKeyBindings are this service's extensions.
  const [rotation, publicKeyPem, versions, tags, bindings] = await Promise.all([
    isSymmetric(key) && key.Origin === 'KMS' ? call<{ KeyRotationEnabled: boolean }>('GetKeyRotationStatus', { KeyId: keyId }).then((r) => r.KeyRotationEnabled) : null,
    isSymmetric(key) ? null : call<{ PublicKeyPem: string }>('GetPublicKey', { KeyId: keyId }).then((r) => r.PublicKeyPem),
    unlessRefused(call<{ CurrentVersion: number; Versions: Version[] }>('ListKeyVersions', { KeyId: keyId })),
    unlessRefused(call<{ Tags: NonNullable<Detail['tags']> }>('ListKeyTags', { KeyId: keyId })),
    unlessRefused(call<{ Bindings: Binding[] }>('ListKeyBindings', { KeyId: keyId })),
  ]);
  return { key, rotation, publicKeyPem, currentVersion: versions?.CurrentVersion ?? 0, versions: versions?.Versions ?? null, tags: tags?.Tags ?? null, bindings: bindings?.Bindings ?? null };
}

function Row({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <>
      <dt class="col-sm-4 col-lg-3">{label}</dt>
      <dd class="col-sm-8 col-lg-9 text-break">{children}</dd>
    </>
  );
}

/** One text attribute with its own save button (UpdateAlias, UpdateKeyDescription). */
function EditField({ id, label, value, onSave }: { id: string; label: string; value: string; onSave: (v: string) => Promise<unknown> }) {
  const [v, setV] = useState(value);
  return (
    <form
      class="mb-3"
      onSubmit={(e) => {
        e.preventDefault();
        void onSave(v);
      }}
    >
      <label class="form-label" for={id}>
        {label}
      </label>
      <div class="input-group">
        <input id={id} class="form-control" value={v} onInput={(e) => setV((e.target as HTMLInputElement).value)} />
        <button type="submit" class="btn btn-outline-primary" disabled={v === value}>
          Save
        </button>
      </div>
    </form>
  );
}

/** Metadata, rotation, lifecycle actions, edits and bindings of one key. */
export function KeyDetail({ keyId }: { keyId: string }) {
  const c = useCall<Detail>();
  const act = useCall<unknown>();
  const [notice, setNotice] = useState('');
  const [window, setWindow] = useState(7);
  const [rotateDays, setRotateDays] = useState(365);
  const [product, setProduct] = useState('');
  const [resource, setResource] = useState('');
  const reload = () => c.run(() => load(keyId));
  useEffect(() => void reload(), [keyId]);

  /** Runs an action (after confirmation when asked), then shows the key anew. */
  const run = async (action: string, params: Record<string, unknown>, done: string, confirm?: { title: string; body: ComponentChildren; label: string }) => {
    if (confirm && !(await confirmAction(confirm.title, confirm.body, confirm.label))) return;
    setNotice('');
    const r = await act.run(() => call(action, { KeyId: keyId, ...params }));
    if (r) {
      await reload();
      setNotice(done);
    }
  };

  if (!c.result) return c.error ? <ErrorAlert error={c.error} /> : <Spinner />;
  const { key, rotation, publicKeyPem, currentVersion, versions, tags, bindings } = c.result;
  const s = key.KeyState;
  const name = <strong>{key.Alias}</strong>;
  return (
    <>
      <Breadcrumb trail={[['#/keys', 'Keys']]} here={key.Alias} />
      <PageTitle>
        {key.Alias} <StateBadge state={s} />
      </PageTitle>
      {notice && (
        <div class="alert alert-success" role="status" data-testid="notice">
          {notice}
        </div>
      )}
      <ErrorAlert error={act.error ?? c.error} />
      <div class="row g-3">
        <section class="col-12 col-lg-7" aria-labelledby="md-title">
          <div class="card card-body">
            <h2 class="h5" id="md-title">
              Metadata
            </h2>
            <dl class="row mb-0 small">
              <Row label="Key ID">
                <span class="font-monospace" data-testid="key-id">
                  {key.KeyId}
                </span>
              </Row>
              <Row label="State">{s}</Row>
              <Row label="Usage">{key.KeyUsage}</Row>
              <Row label="Origin">{key.Origin}</Row>
              <Row label="Description">{key.Description || '—'}</Row>
              <Row label="Created">{fmtTime(key.CreateTime)}</Row>
              <Row label="Creator">{key.CreatorUin}</Row>
              <Row label="Resource">{key.ResourceId}</Row>
              {s === 'PendingDelete' && <Row label="Deletion date">{fmtTime(key.DeletionDate)}</Row>}
              {key.Origin === 'EXTERNAL' && <Row label="Material valid to">{key.ValidTo ? fmtTime(key.ValidTo) : s === 'PendingImport' ? 'no material yet' : 'does not expire'}</Row>}
              {rotation !== null && (
                <Row label="Rotation">
                  <span data-testid="rotation">{rotation ? `on, every ${key.RotateDays ?? '?'} days` : 'off'}</span>
                  {rotation && <div>next {fmtTime(key.NextRotateTime)}</div>}
                  {key.LastRotateTime ? <div>last {fmtTime(key.LastRotateTime)}</div> : null}
                </Row>
              )}
            </dl>
          </div>
          {publicKeyPem && <div class="card card-body mt-3">{<CopyField id="public-key" label="Public key (PEM)" value={publicKeyPem} rows={7} />}</div>}
          <div class="card card-body mt-3">
            <h2 class="h5" id="versions-title">
              Versions
            </h2>
            {versions === null ? (
              <NotAllowed action="ListKeyVersions" />
            ) : versions.length ? (
              <table class="table table-sm small mb-0" aria-labelledby="versions-title" data-testid="versions">
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">Created</th>
                    <th scope="col">Use</th>
                  </tr>
                </thead>
                <tbody>
                  {[...versions].reverse().map((v) => (
                    <tr key={v.Version}>
                      <td>{v.Version}</td>
                      <td>{fmtTime(v.CreateTime)}</td>
                      <td>{v.Version === currentVersion ? <span class="badge text-bg-primary">encrypts</span> : 'decrypts only'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p class="small mb-0">No material yet.</p>
            )}
          </div>
          <div class="card card-body mt-3">
            <h2 class="h5">Tags</h2>
            {tags === null ? (
              <NotAllowed action="ListKeyTags" />
            ) : tags.length ? (
              <ul class="list-inline mb-0" data-testid="tags">
                {tags.map((t) => (
                  <li class="list-inline-item" key={t.TagKey}>
                    <span class="badge text-bg-light border font-monospace">
                      {t.TagKey}: {t.TagValue}
                    </span>
                  </li>
                ))}
              </ul>
            ) : (
              <p class="small mb-0">No tags.</p>
            )}
          </div>
          <div class="card card-body mt-3">
            <h2 class="h5">Edit</h2>
            <EditField id="edit-alias" label="Alias" value={key.Alias} onSave={(v) => run('UpdateAlias', { Alias: v }, 'Alias changed.')} />
            <EditField id="edit-description" label="Description" value={key.Description} onSave={(v) => run('UpdateKeyDescription', { Description: v }, 'Description changed.')} />
          </div>
        </section>
        <section class="col-12 col-lg-5" aria-labelledby="actions-title">
          <div class="card card-body">
            <h2 class="h5" id="actions-title">
              Actions
            </h2>
            <div class="d-flex flex-wrap gap-2 mb-3">
              {s === 'Enabled' && isSymmetric(key) && (
                <a class="btn btn-outline-primary" href={`#/crypto/${encodeURIComponent(key.KeyId)}`}>
                  Encrypt / decrypt
                </a>
              )}
              {s === 'Disabled' && (
                <button type="button" class="btn btn-success" onClick={() => run('EnableKey', {}, 'Key enabled.')}>
                  Enable
                </button>
              )}
              {s === 'Enabled' && (
                <button type="button" class="btn btn-outline-danger" onClick={() => run('DisableKey', {}, 'Key disabled.', { title: 'Disable this key?', body: <p>Nothing can encrypt or decrypt with {name} until it is enabled again.</p>, label: 'Disable' })}>
                  Disable
                </button>
              )}
              {s === 'Enabled' && (
                <button type="button" class="btn btn-outline-secondary" onClick={() => run('ArchiveKey', {}, 'Key archived.', { title: 'Archive this key?', body: <p>{name} will only decrypt until its archiving is cancelled.</p>, label: 'Archive' })}>
                  Archive
                </button>
              )}
              {s === 'Archived' && (
                <button type="button" class="btn btn-outline-secondary" onClick={() => run('CancelKeyArchive', {}, 'Archiving cancelled.')}>
                  Cancel archive
                </button>
              )}
              {s === 'PendingDelete' && (
                <button type="button" class="btn btn-warning" onClick={() => run('CancelKeyDeletion', {}, 'Deletion cancelled; the key is disabled.')}>
                  Cancel deletion
                </button>
              )}
              {key.Origin === 'EXTERNAL' && s !== 'PendingDelete' && (
                <a class="btn btn-outline-primary" href={`#/keys/${encodeURIComponent(key.KeyId)}/import`}>
                  Import material
                </a>
              )}
              {key.Origin === 'EXTERNAL' && s !== 'PendingImport' && s !== 'PendingDelete' && (
                <button
                  type="button"
                  class="btn btn-outline-danger"
                  onClick={() => run('DeleteImportedKeyMaterial', {}, 'Key material deleted.', { title: 'Delete the imported material?', body: <p>{name} cannot encrypt or decrypt until the same material is imported again.</p>, label: 'Delete material' })}
                >
                  Delete material
                </button>
              )}
            </div>
            {s !== 'PendingDelete' && (
              <form
                class="mb-3"
                onSubmit={(e) => {
                  e.preventDefault();
                  void run('ScheduleKeyDeletion', { PendingWindowInDays: window }, 'Deletion scheduled.', {
                    title: 'Schedule this key for deletion?',
                    body: (
                      <p>
                        {name} will be deleted for good in {window} days, with everything encrypted under it, unless the deletion is cancelled before then.
                      </p>
                    ),
                    label: `Delete in ${window} days`,
                  });
                }}
              >
                <label class="form-label" for="window">
                  Deletion window (days, 7 to 30)
                </label>
                <div class="input-group">
                  <input id="window" type="number" min={7} max={30} class="form-control" value={window} onInput={(e) => setWindow(Number((e.target as HTMLInputElement).value))} />
                  <button type="submit" class="btn btn-danger">
                    Schedule deletion
                  </button>
                </div>
              </form>
            )}
            {rotation !== null && (
              <div class="mb-1">
                <h3 class="h6">Rotation</h3>
                {rotation ? (
                  <button type="button" class="btn btn-outline-secondary me-2 mb-2" onClick={() => run('DisableKeyRotation', {}, 'Automatic rotation off.')}>
                    Turn rotation off
                  </button>
                ) : (
                  <form
                    class="mb-2"
                    onSubmit={(e) => {
                      e.preventDefault();
                      void run('EnableKeyRotation', { RotateDays: rotateDays }, 'Automatic rotation on.');
                    }}
                  >
                    <label class="form-label" for="rotate-days">
                      Rotate every (days, 7 to 365)
                    </label>
                    <div class="input-group">
                      <input id="rotate-days" type="number" min={7} max={365} class="form-control" value={rotateDays} onInput={(e) => setRotateDays(Number((e.target as HTMLInputElement).value))} />
                      <button type="submit" class="btn btn-outline-primary">
                        Turn rotation on
                      </button>
                    </div>
                  </form>
                )}
                <button type="button" class="btn btn-outline-primary mb-2" onClick={() => run('RotateKey', {}, 'Rotated: new data is encrypted with a new version; older ciphertexts still decrypt.')}>
                  Rotate now
                </button>
              </div>
            )}
          </div>
          <div class="card card-body mt-3">
            <h2 class="h5">Cloud resource bindings</h2>
            <p class="small text-body-secondary">A key bound to a resource cannot be scheduled for deletion or have its material deleted until it is unbound.</p>
            {bindings === null ? (
              <NotAllowed action="ListKeyBindings" />
            ) : bindings.length ? (
              <ul class="list-group list-group-flush small mb-3" data-testid="bindings">
                {bindings.map((b) => (
                  <li class="list-group-item d-flex justify-content-between align-items-center gap-2 px-0" key={`${b.ProductId}/${b.ResourceId}`}>
                    <span class="text-break">
                      <span class="font-monospace">
                        {b.ProductId}/{b.ResourceId}
                      </span>{' '}
                      <span class="text-body-secondary">since {fmtTime(b.CreateTime)}</span>
                    </span>
                    <button
                      type="button"
                      class="btn btn-sm btn-outline-danger"
                      aria-label={`Unbind ${b.ProductId}/${b.ResourceId}`}
                      onClick={() =>
                        run('UnbindCloudResource', { ProductId: b.ProductId, ResourceId: b.ResourceId }, 'Unbound.', {
                          title: 'Unbind this resource?',
                          body: <p>{`${b.ProductId}/${b.ResourceId}`} will no longer be recorded as using this key.</p>,
                          label: 'Unbind',
                        })
                      }
                    >
                      Unbind
                    </button>
                  </li>
                ))}
              </ul>
            ) : (
              <p class="small">No bound resources.</p>
            )}
            <form
              onSubmit={(e) => {
                e.preventDefault();
                void run('BindCloudResource', { ProductId: product, ResourceId: resource }, 'Bound.');
              }}
            >
              <div class="row g-2">
                <div class="col-5">
                  <label class="form-label small" for="product">
                    Product
                  </label>
                  <input id="product" class="form-control" required value={product} onInput={(e) => setProduct((e.target as HTMLInputElement).value)} />
                </div>
                <div class="col-7">
                  <label class="form-label small" for="resource">
                    Resource ID
                  </label>
                  <input id="resource" class="form-control" required value={resource} onInput={(e) => setResource((e.target as HTMLInputElement).value)} />
                </div>
              </div>
              <div class="d-flex gap-2 mt-2">
                <button type="submit" class="btn btn-outline-primary">
                  Bind
                </button>
              </div>
            </form>
          </div>
        </section>
      </div>
    </>
  );
}
