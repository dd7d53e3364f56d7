import { useEffect, useState } from 'preact/hooks';
import { base64ToText, call, textToBase64 } from '../api';
import { KeyMetadata } from '../keys';
import { CopyField, ErrorAlert, PageTitle, useCall } from '../ui';

type Tab = 'encrypt' | 'decrypt' | 'datakey';

/** The enabled symmetric keys, for the key pickers. */
function useKeys(): KeyMetadata[] {
  const [keys, setKeys] = useState<KeyMetadata[]>([]);
  useEffect(() => {
    call<{ KeyMetadatas: KeyMetadata[] }>('ListKeyDetail', { Limit: 200, KeyState: 1, KeyUsage: 'ENCRYPT_DECRYPT' })
      .then((r) => setKeys(r.KeyMetadatas))
      .catch(() => undefined); // the key id can still be typed
  }, []);
  return keys;
}

function KeyPicker({ id, value, onChange, keys }: { id: string; value: string; onChange: (v: string) => void; keys: KeyMetadata[] }) {
  return (
    <div class="mb-3">
      <label class="form-label" for={id}>
        Key
      </label>
      <select id={id} class="form-select" required value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        <option value="">Choose a key…</option>
        {value && !keys.some((k) => k.KeyId === value) && <option value={value}>{value}</option>}
        {keys.map((k) => (
          <option key={k.KeyId} value={k.KeyId}>
            {k.Alias} ({k.KeyId})
          </option>
        ))}
      </select>
    </div>
  );
}

function ContextField({ id, value, onChange }: { id: string; value: string; onChange: (v: string) => void }) {
  return (
    <div class="mb-3">
      <label class="form-label" for={id}>
        Encryption context <span class="text-body-secondary">(optional JSON object; the same one is needed to decrypt)</span>
      </label>
      <input id={id} class="form-control font-monospace" placeholder='{"table":"orders"}' value={value} onInput={(e) => onChange((e.target as HTMLInputElement).value)} />
    </div>
  );
}

const ctx = (v: string) => (v.trim() ? { EncryptionContext: v.trim() } : {});

function Encrypt({ keys, keyId, setKeyId }: { keys: KeyMetadata[]; keyId: string; setKeyId: (v: string) => void }) {
  const [text, setText] = useState('');
  const [context, setContext] = useState('');
  const c = useCall<{ CiphertextBlob: string }>();
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void c.run(() => call('Encrypt', { KeyId: keyId, Plaintext: textToBase64(text), ...ctx(context) }));
      }}
    >
      <KeyPicker id="enc-key" value={keyId} onChange={setKeyId} keys={keys} />
      <div class="mb-3">
        <label class="form-label" for="plaintext">
          Plaintext (text, up to 4 KB)
        </label>
        <textarea id="plaintext" class="form-control" rows={4} required value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      </div>
      <ContextField id="enc-context" value={context} onChange={setContext} />
      <ErrorAlert error={c.error} />
      <button type="submit" class="btn btn-primary mb-3" disabled={c.busy}>
        Encrypt
      </button>
      {c.result && <CopyField id="ciphertext-out" label="CiphertextBlob" value={c.result.CiphertextBlob} />}
    </form>
  );
}

function Decrypt() {
  const [blob, setBlob] = useState('');
  const [context, setContext] = useState('');
  const c = useCall<{ KeyId: string; Plaintext: string }>();
  const out = c.result ? base64ToText(c.result.Plaintext) : null;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void c.run(() => call('Decrypt', { CiphertextBlob: blob.trim(), ...ctx(context) }));
      }}
    >
      <div class="mb-3">
        <label class="form-label" for="ciphertext-in">
          CiphertextBlob
        </label>
        <textarea id="ciphertext-in" class="form-control font-monospace" rows={4} required value={blob} onInput={(e) => setBlob((e.target as HTMLTextAreaElement).value)} />
      </div>
      <ContextField id="dec-context" value={context} onChange={setContext} />
      <ErrorAlert error={c.error} />
      <button type="submit" class="btn btn-primary mb-3" disabled={c.busy}>
        Decrypt
      </button>
      {c.result && out && (
        <>
          <p class="small">
            Decrypted with key <span class="font-monospace">{c.result.KeyId}</span>
          </p>
          {out.text !== null ? <CopyField id="plaintext-out" label="Plaintext (UTF-8)" value={out.text} /> : <CopyField id="plaintext-out" label="Plaintext (base64: not UTF-8 text)" value={c.result.Plaintext} />}
        </>
      )}
    </form>
  );
}

function DataKey({ keys, keyId, setKeyId }: { keys: KeyMetadata[]; keyId: string; setKeyId: (v: string) => void }) {
  const [spec, setSpec] = useState('AES_256');
  const [context, setContext] = useState('');
  const c = useCall<{ Plaintext: string; CiphertextBlob: string }>();
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void c.run(() => call('GenerateDataKey', { KeyId: keyId, KeySpec: spec, ...ctx(context) }));
      }}
    >
      <KeyPicker id="dk-key" value={keyId} onChange={setKeyId} keys={keys} />
      <div class="mb-3">
        <label class="form-label" for="key-spec">
          Key spec
        </label>
        <select id="key-spec" class="form-select" value={spec} onChange={(e) => setSpec((e.target as HTMLSelectElement).value)}>
          <option>AES_256</option>
          <option>AES_128</option>
        </select>
      </div>
      <ContextField id="dk-context" value={context} onChange={setContext} />
      <ErrorAlert error={c.error} />
      <button type="submit" class="btn btn-primary mb-3" disabled={c.busy}>
        Generate data key
      </button>
      {c.result && (
        <>
          <div class="alert alert-warning small">The plaintext data key is shown once: use it, then forget it; keep the CiphertextBlob to get it back with Decrypt.</div>
          <CopyField id="dk-plaintext" label="Plaintext data key (base64)" value={c.result.Plaintext} rows={2} />
          <CopyField id="dk-ciphertext" label="CiphertextBlob" value={c.result.CiphertextBlob} />
        </>
      )}
    </form>
  );
}

const TABS: Array<[Tab, string]> = [
  ['encrypt', 'Encrypt'],
  ['decrypt', 'Decrypt'],
  ['datakey', 'Data key'],
];

/** Online Encrypt, Decrypt and GenerateDataKey. */
export function CryptoPage({ keyId: initial }: { keyId?: string }) {
  const [tab, setTab] = useState<Tab>('encrypt');
  const [keyId, setKeyId] = useState(initial ?? '');
  const keys = useKeys();
  // Arrow keys move between tabs, as the ARIA tabs pattern has it.
  const onKey = (e: KeyboardEvent) => {
    const i = TABS.findIndex(([t]) => t === tab);
    const next = e.key === 'ArrowRight' ? (i + 1) % TABS.length : e.key === 'ArrowLeft' ? (i + TABS.length - 1) % TABS.length : -1;
    if (next < 0) return;
    e.preventDefault();
    setTab(TABS[next][0]);
    document.getElementById(`tab-${TABS[next][0]}`)?.focus();
  };
  return (
    <>
      <PageTitle>Encrypt and decrypt</PageTitle>
      <ul class="nav nav-tabs mb-3" role="tablist" onKeyDown={onKey}>
        {TABS.map(([t, label]) => (
          <li class="nav-item" role="presentation" key={t}>
            <button type="button" id={`tab-${t}`} role="tab" class={`nav-link${tab === t ? ' active' : ''}`} aria-selected={tab === t} aria-controls={`panel-${t}`} tabIndex={tab === t ? 0 : -1} onClick={() => setTab(t)}>
              {label}
            </button>
          </li>
        ))}
      </ul>
      <div class="card card-body" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'encrypt' && <Encrypt keys={keys} keyId={keyId} setKeyId={setKeyId} />}
        {tab === 'decrypt' && <Decrypt />}
        {tab === 'datakey' && <DataKey keys={keys} keyId={keyId} setKeyId={setKeyId} />}
      </div>
    </>
  );
}
