import { useState } from 'preact/hooks';
import { signIn } from '../api';
import { ErrorAlert, useCall } from '../ui';

/** SecretId and SecretKey: kept in this tab's memory only, used to sign requests in the browser. */
export function SignIn({ onSignedIn }: { onSignedIn: (regions: string[]) => void }) {
  const [secretId, setSecretId] = useState('');
  const [secretKey, setSecretKey] = useState('');
  const [region, setRegion] = useState('ap-guangzhou');
  const c = useCall<string[]>();
  const submit = async (e: Event) => {
    e.preventDefault();
    const regions = await c.run(() => signIn(secretId, secretKey, region.trim()));
    if (regions) {
      setSecretKey('');
      onSignedIn(regions);
    }
  };
  return (
    <main class="container sign-in py-5">
      <h1 class="h3 mb-1">hsm-kms console</h1>
      <p class="text-body-secondary">Sign in with an API key pair. It stays in this tab's memory only; requests are signed here, and the SecretKey is never sent.</p>
      <form onSubmit={submit} class="card card-body shadow-sm" autocomplete="off">
        <div class="mb-3">
          <label class="form-label" for="secret-id">
            SecretId
          </label>
          <input id="secret-id" class="form-control font-monospace" required value={secretId} onInput={(e) => setSecretId((e.target as HTMLInputElement).value)} spellcheck={false} autoFocus />
        </div>
        <div class="mb-3">
          <label class="form-label" for="secret-key">
            SecretKey
          </label>
          <input id="secret-key" type="password" class="form-control font-monospace" required value={secretKey} onInput={(e) => setSecretKey((e.target as HTMLInputElement).value)} autocomplete="off" />
        </div>
        <div class="mb-3">
          <label class="form-label" for="sign-in-region">
            Region
          </label>
          <input id="sign-in-region" class="form-control" required value={region} onInput={(e) => setRegion((e.target as HTMLInputElement).value)} />
        </div>
        <ErrorAlert error={c.error} />
        <button type="submit" class="btn btn-primary" disabled={c.busy}>
          {c.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
