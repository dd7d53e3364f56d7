import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, setRegion, signOut } from './api';
import { ConfirmHost } from './ui';
import { SignIn } from './pages/sign-in';
import { KeyList } from './pages/key-list';
import { KeyDetail } from './pages/key-detail';
import { CreateKey } from './pages/create-key';
import { CryptoPage } from './pages/crypto';
import { ImportWizard } from './pages/import-wizard';
import { AuditPage } from './pages/audit';

/** Hash routes (#/keys, #/keys/<id>, ...): the server serves one page, and a reload keeps the place. */
function useRoute(): string[] {
  const read = () => location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

const NAV: Array<[string, string]> = [
  ['keys', 'Keys'],
  ['create', 'Create key'],
  ['crypto', 'Encrypt / decrypt'],
  ['audit', 'Audit records'],
];

function Page({ route }: { route: string[] }) {
  const [first, second, third] = route;
  if (first === 'keys' && second && third === 'import') return <ImportWizard keyId={second} />;
  if (first === 'keys' && second) return <KeyDetail keyId={second} />;
  if (first === 'create') return <CreateKey />;
  if (first === 'crypto') return <CryptoPage keyId={second} />;
  if (first === 'audit') return <AuditPage />;
  return <KeyList />;
}

function App() {
  const route = useRoute();
  const [signedIn, setSignedIn] = useState(currentSession() !== null);
  const [regions, setRegions] = useState<string[]>([]);
  const [region, setRegionState] = useState('');
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [route.join('/')]);

  if (!signedIn) {
    return (
      <SignIn
        onSignedIn={(rs) => {
          setRegions(rs);
          setRegionState(currentSession()!.region);
          setSignedIn(true);
          if (!location.hash) location.hash = '#/keys';
        }}
      />
    );
  }
  const here = route[0] ?? 'keys';
  return (
    <>
      <a class="visually-hidden-focusable skip-link" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <nav class="navbar navbar-expand-lg bg-dark border-bottom" data-bs-theme="dark" aria-label="Main">
        <div class="container-fluid">
          <a class="navbar-brand" href="#/keys">
            hsm-kms
          </a>
          <button class="navbar-toggler" type="button" aria-controls="nav-menu" aria-expanded={menuOpen} aria-label="Menu" onClick={() => setMenuOpen(!menuOpen)}>
            <span class="navbar-toggler-icon" />
          </button>
          <div class={`collapse navbar-collapse${menuOpen ? ' show' : ''}`} id="nav-menu">
            <ul class="navbar-nav me-auto">
              {NAV.map(([path, label]) => (
                <li class="nav-item" key={path}>
                  <a class={`nav-link${here === path ? ' active' : ''}`} aria-current={here === path ? 'page' : undefined} href={`#/${path}`}>
                    {label}
                  </a>
                </li>
              ))}
            </ul>
            <div class="d-flex flex-wrap align-items-center gap-2 py-2 py-lg-0">
              <label class="text-light small" for="region">
                Region
              </label>
              <select
                id="region"
                class="form-select form-select-sm w-auto"
                value={region}
                onChange={(e) => {
                  const r = (e.target as HTMLSelectElement).value;
                  setRegion(r);
                  setRegionState(r);
                  location.hash = '#/keys';
                }}
              >
                {(regions.includes(region) ? regions : [region, ...regions]).map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </select>
              <span class="text-light small font-monospace" title="SecretId">
                {currentSession()?.secretId}
              </span>
              <button
                type="button"
                class="btn btn-sm btn-outline-light"
                onClick={() => {
                  signOut();
                  setSignedIn(false);
                }}
              >
                Sign out
              </button>
            </div>
          </div>
        </div>
      </nav>
      <main id="main" tabIndex={-1} class="container-lg py-3">
        {/* Keyed by region too: a region change reloads the page's data. */}
        <Page key={`${region}/${route.join('/')}`} route={route} />
      </main>
      <ConfirmHost />
    </>
  );
}

render(<App />, document.getElementById('app')!);
