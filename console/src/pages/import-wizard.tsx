import { useState } from 'preact/hooks';
import { call } from '../api';
import { Breadcrumb, ErrorAlert, PageTitle, fmtTime, useCall } from '../ui';

interface ImportParameters {
  KeyId: string;
  ImportToken: string;
  PublicKey: string;
  ParametersValidTo: number;
}

/** The `openssl pkeyutl` options of each wrapping algorithm, as the import guide gives them. */
const PKEYOPT: Record<string, string> = {
  RSAES_OAEP_SHA_1: '-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha1',
  RSAES_OAEP_SHA_256: '-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256',
  RSAES_PKCS1_V1_5: '-pkeyopt rsa_padding_mode:pkcs1',
};

/** The import guide's commands, with this import's public key filled in: run them in an empty folder. */
export function opensslCommands(publicKey: string, algorithm: string, bytes: number): string {
  return [
    `printf '%s' '${publicKey}' > public_key.base64`,
    `openssl rand -out raw_material.bin ${bytes}`,
    'openssl enc -d -base64 -A -in public_key.base64 -out public_key.bin',
    `openssl pkeyutl -in raw_material.bin -out encrypted_key_material.bin -inkey public_key.bin -keyform DER -pubin -encrypt ${PKEYOPT[algorithm]}`,
    'openssl enc -e -base64 -A -in encrypted_key_material.bin -out encrypted_material.base64',
  ].join('\n');
}

function Steps({ step }: { step: number }) {
  const names = ['Wrapping key', 'Wrap the material', 'Upload'];
  return (
    <ol class="wizard-steps list-unstyled d-flex flex-wrap gap-3 mb-3">
      {names.map((n, i) => (
        <li key={n} class={i + 1 === step ? 'fw-bold' : 'text-body-secondary'} aria-current={i + 1 === step ? 'step' : undefined}>
          {i + 1}. {n}
        </li>
      ))}
    </ol>
  );
}

/** BYOK: GetParametersForImport, the openssl commands to run, and ImportKeyMaterial. */
export function ImportWizard({ keyId }: { keyId: string }) {
  const [algorithm, setAlgorithm] = useState('RSAES_OAEP_SHA_1');
  const [bytes, setBytes] = useState(32);
  const [material, setMaterial] = useState('');
  const [expires, setExpires] = useState('');
  const [done, setDone] = useState(false);
  const params = useCall<ImportParameters>();
  const upload = useCall<unknown>();
  const p = params.result;
  const step = done ? 4 : p ? 2 : 1;

  const readFile = async (e: Event) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) setMaterial((await f.text()).trim());
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const validTo = expires ? Math.floor(Date.parse(expires) / 1000) : 0;
    const r = await upload.run(() => call('ImportKeyMaterial', { KeyId: keyId, ImportToken: p!.ImportToken, EncryptedKeyMaterial: material.replace(/\s+/g, ''), ValidTo: validTo }).then(() => true));
    if (r) setDone(true);
  };

  return (
    <>
      <Breadcrumb trail={[['#/keys', 'Keys'], [`#/keys/${encodeURIComponent(keyId)}`, keyId]]} here="Import" />
      <PageTitle>Import key material</PageTitle>
      <Steps step={Math.min(step, 3)} />
      {!p && (
        <form
          class="card card-body"
          onSubmit={(e) => {
            e.preventDefault();
            void params.run(() => call<ImportParameters>('GetParametersForImport', { KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: 'RSA_2048' }));
          }}
        >
          <p>The service makes an RSA-2048 wrapping key in the HSM. You encrypt your key material to its public key; only the HSM can unwrap it.</p>
          <div class="mb-3">
            <label class="form-label" for="wrapping-algorithm">
              Wrapping algorithm
            </label>
            <select id="wrapping-algorithm" class="form-select" value={algorithm} onChange={(e) => setAlgorithm((e.target as HTMLSelectElement).value)}>
              {Object.keys(PKEYOPT).map((a) => (
                <option key={a}>{a}</option>
              ))}
            </select>
          </div>
          <div class="mb-3">
            <label class="form-label" for="material-bytes">
              Material length
            </label>
            <select id="material-bytes" class="form-select" value={bytes} onChange={(e) => setBytes(Number((e.target as HTMLSelectElement).value))}>
              <option value={32}>32 bytes (AES-256: FIPS regions)</option>
              <option value={16}>16 bytes (SM4: GM regions)</option>
            </select>
          </div>
          <ErrorAlert error={params.error} />
          <div>
            <button type="submit" class="btn btn-primary" disabled={params.busy}>
              Get the wrapping key
            </button>
          </div>
        </form>
      )}
      {p && !done && (
        <>
          <section class="card card-body mb-3" aria-labelledby="commands-title">
            <h2 class="h5" id="commands-title">
              Wrap the material
            </h2>
            <p>
              Run these commands in an empty folder. Keep <code>raw_material.bin</code> safe: to import again after the material expires or is deleted, the same material is needed. The wrapping key and the import token are valid until {fmtTime(p.ParametersValidTo)}.
            </p>
            <pre class="bg-body-tertiary p-2 border rounded small commands" tabIndex={0} aria-label="Commands" data-testid="openssl-commands">
              {opensslCommands(p.PublicKey, algorithm, bytes)}
            </pre>
          </section>
          <form class="card card-body" onSubmit={submit}>
            <h2 class="h5">Upload</h2>
            <div class="mb-3">
              <label class="form-label" for="material-file">
                encrypted_material.base64
              </label>
              <input id="material-file" type="file" class="form-control" accept=".base64,.txt,text/plain" onChange={readFile} />
            </div>
            <div class="mb-3">
              <label class="form-label" for="material-text">
                or paste its content
              </label>
              <textarea id="material-text" class="form-control font-monospace" rows={4} required value={material} onInput={(e) => setMaterial((e.target as HTMLTextAreaElement).value)} />
            </div>
            <div class="mb-3">
              <label class="form-label" for="valid-to">
                Material expires (leave empty: never)
              </label>
              <input id="valid-to" type="datetime-local" class="form-control" value={expires} onInput={(e) => setExpires((e.target as HTMLInputElement).value)} />
            </div>
            <ErrorAlert error={upload.error} />
            <div>
              <button type="submit" class="btn btn-primary" disabled={upload.busy}>
                Import
              </button>
            </div>
          </form>
        </>
      )}
      {done && (
        <div class="alert alert-success" role="status" data-testid="notice">
          The material is imported and the key is enabled. <a href={`#/keys/${encodeURIComponent(keyId)}`}>Back to the key</a>
        </div>
      )}
    </>
  );
}
