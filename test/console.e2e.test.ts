import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { collectProblems, launchChromium } from './support/browser';
import { openBlob } from './support/byok';
import { Credential, KmsService } from './support/kms-service';
import { send, signTc3 } from './support/signer';
import { b64, kmsClient } from './support/tencent-client';

/**
 * The web console in a real browser (Debian's Chromium driven by playwright-core), against the
 * real service: every click ends in signed Action API calls made by the page itself.
 */

let kms: KmsService;
let root: Credential;
let other: Credential;
let browser: Browser;
let page: Page;
let problems: string[];
let base: string;
let work: string;

beforeAll(async () => {
  [kms, browser] = await Promise.all([KmsService.start(), launchChromium()]);
  [root, other] = await Promise.all([kms.createAccount('console'), kms.createAccount('other')]);
  // A process's first ListAlgorithms measures the token: RSA key pairs made synchronously,
  // seconds on a loaded machine, during which the service answers nothing else. Done here, so
  // that the browser's waits measure the console (the create page asks for the list).
  expect((await send(signTc3(kms.endpoint, root, { action: 'ListAlgorithms', body: '{}' }))).code).toBeUndefined();
  base = `http://${kms.endpoint}/console/`;
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  problems = collectProblems(page);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-console-'));
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await kms?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const title = () => page.locator('h1.page-title');
const stateOf = () => page.locator('h1.page-title .badge');

async function signIn(secretKey: string): Promise<void> {
  await page.getByLabel('SecretId').fill(root.SecretId);
  await page.getByLabel('SecretKey').fill(secretKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Creates a key through the form and waits for the page it leads to. */
async function createKey(alias: string, external = false): Promise<void> {
  await page.goto(base + '#/create');
  await page.getByLabel('Alias').fill(alias);
  if (external) await page.getByLabel(/Imported: bring your own key/).check();
  await page.getByRole('button', { name: 'Create' }).click();
  await page.waitForURL(external ? /#\/keys\/[^/]+\/import$/ : /#\/keys\/[^/]+$/);
}

const keyIdFromUrl = (): string => decodeURIComponent(/#\/keys\/([^/]+)/.exec(page.url())![1]);

describe('serving', () => {
  it('serves the bundle under /console/ with a strict Content-Security-Policy, and nothing else there', async () => {
    const r = await fetch(base);
    expect(r.status).toBe(200);
    const csp = r.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await r.text();
    expect(html).not.toMatch(/<script>|<style>|\son[a-z]+=|https?:\/\//);
    expect((await fetch(base + 'app.js')).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(base + 'app.js', { headers: { 'If-None-Match': r.headers.get('etag')! } })).status).toBe(200);
    expect((await fetch(`http://${kms.endpoint}/console`, { redirect: 'manual' })).headers.get('location')).toBe('/console/');
    expect((await fetch(base + '..%2fpackage.json')).status).toBe(404);
    expect((await fetch(base + 'missing.js')).status).toBe(404);
    expect((await fetch(base, { method: 'POST' })).status).toBe(405);
  });
});

describe('in the browser', () => {
  it('refuses a wrong SecretKey with the API code, then signs in with the right one', async () => {
    await page.goto(base);
    await signIn(root.SecretKey.slice(0, -1) + (root.SecretKey.endsWith('A') ? 'B' : 'A'));
    await expect(page.getByTestId('error').locator('.error-code').textContent()).resolves.toBe('AuthFailure.SignatureFailure');
    await signIn(root.SecretKey);
    await expect(title().textContent()).resolves.toBe('Keys');
    await expect(page.locator('body').textContent()).resolves.not.toContain(root.SecretKey);
  });

  it('creates a key, encrypts and decrypts with it', async () => {
    await createKey('orders');
    const keyId = keyIdFromUrl();
    await expect(page.getByTestId('key-id').textContent()).resolves.toBe(keyId);
    await expect(stateOf().textContent()).resolves.toBe('Enabled');
    await page.getByRole('link', { name: 'Encrypt / decrypt' }).last().click();
    await page.getByLabel('Plaintext (text, up to 4 KB)').fill('card 4111');
    await page.locator('#enc-context').fill('{"table":"orders"}');
    await page.getByRole('button', { name: 'Encrypt', exact: true }).click();
    const blob = await page.locator('#ciphertext-out').inputValue({ timeout: 10_000 });
    expect(blob.length).toBeGreaterThan(40);
    await page.getByRole('tab', { name: 'Decrypt' }).click();
    await page.getByLabel('CiphertextBlob').fill(blob);
    await page.locator('#dec-context').fill('{"table":"orders"}');
    await page.getByRole('button', { name: 'Decrypt', exact: true }).click();
    await expect(page.locator('#plaintext-out').inputValue()).resolves.toBe('card 4111');
    // The wrong context: the API's error, shown as it is.
    await page.locator('#dec-context').fill('{"table":"other"}');
    await page.getByRole('button', { name: 'Decrypt', exact: true }).click();
    await expect(page.getByTestId('error').locator('.error-code').textContent()).resolves.toBe('InvalidParameterValue.InvalidCiphertext');
  });

  it('disables only once confirmed, then schedules the deletion', async () => {
    await page.goto(base + '#/keys');
    await page.getByRole('link', { name: 'orders' }).click();
    const disable = page.locator('#main').getByRole('button', { name: 'Disable' });
    await disable.click();
    await page.locator('dialog[open]').waitFor();
    await page.keyboard.press('Escape'); // the dialog's Cancel
    await page.locator('dialog[open]').waitFor({ state: 'detached' });
    await expect(stateOf().textContent()).resolves.toBe('Enabled');
    await disable.click();
    await page.getByTestId('confirm').click();
    await page.getByTestId('notice').waitFor();
    await expect(stateOf().textContent()).resolves.toBe('Disabled');
    await page.getByLabel(/Deletion window/).fill('9');
    await page.getByRole('button', { name: 'Schedule deletion' }).click();
    await expect(page.locator('dialog[open]').textContent()).resolves.toContain('in 9 days');
    await page.getByTestId('confirm').click();
    await page.getByText('Deletion scheduled.').waitFor();
    await expect(stateOf().textContent()).resolves.toBe('PendingDelete');
    const { KeyMetadata } = await kmsClient(kms.endpoint, root).DescribeKey({ KeyId: keyIdFromUrl() });
    expect(KeyMetadata!.DeletionDate! - KeyMetadata!.CreateTime!).toBeGreaterThanOrEqual(9 * 86400);
  });

  it('imports material through the BYOK wizard by running the openssl commands it shows', async () => {
    await createKey('byok', true);
    const keyId = keyIdFromUrl();
    await page.getByRole('button', { name: 'Get the wrapping key' }).click();
    const commands = await page.getByTestId('openssl-commands').textContent({ timeout: 20_000 });
    execFileSync('sh', ['-e', '-c', commands!], { cwd: work });
    await page.getByLabel('encrypted_material.base64').setInputFiles(path.join(work, 'encrypted_material.base64'));
    // The file is read asynchronously into the text area.
    // A function, not a string: Playwright evaluates string predicates with eval, which the CSP refuses.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await page.waitForFunction(() => (globalThis as any).document.querySelector('#material-text').value.length > 0);
    await expect(page.locator('#material-text').inputValue()).resolves.toMatch(/^[A-Za-z0-9+/]+=*$/);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByTestId('notice').waitFor();
    await page.getByRole('link', { name: 'Back to the key' }).click();
    await expect(stateOf().textContent()).resolves.toBe('Enabled');
    // The key really holds the material run through openssl: its ciphertexts open with it.
    const { CiphertextBlob } = await kmsClient(kms.endpoint, root).Encrypt({ KeyId: keyId, Plaintext: b64('byok') });
    expect(openBlob(CiphertextBlob!, fs.readFileSync(path.join(work, 'raw_material.bin'))).toString()).toBe('byok');
  });

  it("shows the account's audit records, the console's own calls among them", async () => {
    await page.getByRole('link', { name: 'Audit records' }).click();
    await page.getByLabel('Action').fill('DisableKey');
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.locator('tr[data-action="DisableKey"]');
    await row.first().waitFor();
    await expect(row.count()).resolves.toBe(1);
    await expect(row.textContent()).resolves.toContain('Success');
    await expect(row.textContent()).resolves.toContain(root.SecretId);
  });

  it('filters and pages the key list, and is used with the keyboard', async () => {
    await page.goto(base + '#/keys');
    await page.getByLabel('Alias contains').fill('byo');
    await page.keyboard.press('Enter');
    await page.getByText('1–1 of 1').waitFor();
    await expect(page.locator('tr[data-key-id]').textContent()).resolves.toContain('byok');
    await page.getByLabel('State').selectOption({ label: 'PendingDelete' });
    await page.getByLabel('Alias contains').fill('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('tr[data-key-id]', { hasText: 'orders' }).waitFor();
    await expect(page.locator('tr[data-key-id]').count()).resolves.toBe(1);
    await page.getByRole('button', { name: 'Reset' }).click();
    await page.getByLabel('Per page').selectOption('10');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('1–2 of 2').waitFor();
    // The skip link leads past the menu, Tab goes on from there, and Enter opens a focused key.
    await page.locator('.skip-link').focus();
    await expect(page.locator('.skip-link').isVisible()).resolves.toBe(true);
    await page.keyboard.press('Enter');
    await expect(page.evaluate('document.activeElement?.id')).resolves.toBe('main');
    await page.keyboard.press('Tab');
    await expect(page.evaluate('document.activeElement?.textContent')).resolves.toBe('Create key');
    await page.getByRole('link', { name: 'byok' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/keys\/[^/]+$/);
    // Focus moves to the new page's title once the key is loaded.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await page.waitForFunction(() => (globalThis as any).document.activeElement?.classList.contains('page-title'), undefined, { timeout: 10_000 });
  });

  it("shows a key's versions, tags and bound resources, and unbinds from the list once confirmed", async () => {
    const api = kmsClient(kms.endpoint, root);
    const { KeyId } = await api.CreateKey({ Alias: 'releases', Tags: [{ TagKey: 'team', TagValue: 'payments' }] });
    await api.RotateKey({ KeyId: KeyId! });
    await page.goto(base + `#/keys/${encodeURIComponent(KeyId!)}`);
    const versions = page.getByTestId('versions').locator('tbody tr');
    await versions.first().waitFor();
    await expect(versions.count()).resolves.toBe(2);
    // Newest first: the version Encrypt uses, then the one that only decrypts.
    await expect(versions.nth(0).textContent()).resolves.toMatch(/^2.*encrypts$/);
    await expect(versions.nth(1).textContent()).resolves.toMatch(/^1.*decrypts only$/);
    await expect(page.getByTestId('tags').textContent()).resolves.toBe('team: payments');
    await page.getByText('No bound resources.').waitFor();
    await page.getByLabel('Product').fill('cos');
    await page.getByLabel('Resource ID').fill('bucket-1');
    await page.getByRole('button', { name: 'Bind', exact: true }).click();
    await page.getByText('Bound.', { exact: true }).waitFor();
    await expect(page.getByTestId('bindings').textContent()).resolves.toContain('cos/bucket-1');
    await page.getByRole('button', { name: 'Unbind cos/bucket-1' }).click();
    await page.getByTestId('confirm').click();
    await page.getByText('Unbound.', { exact: true }).waitFor();
    await page.getByText('No bound resources.').waitFor();
  });

  it('fits a phone-width screen, with the menu behind its button', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(base + '#/keys');
    await expect(page.getByRole('link', { name: 'Audit records' }).isVisible()).resolves.toBe(false);
    await page.getByRole('button', { name: 'Menu' }).click();
    await expect(page.getByRole('link', { name: 'Audit records' }).isVisible()).resolves.toBe(true);
    await expect(page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).resolves.toBe(true);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('ran without a script error or a Content-Security-Policy violation', () => {
    expect(problems).toEqual([]);
  });
});

describe('ListAuditRecords, the extension behind the audit page', () => {
  const list = (cred: Pick<Credential, 'SecretId' | 'SecretKey'>, body: Record<string, unknown>) => send(signTc3(kms.endpoint, cred, { action: 'ListAuditRecords', body: JSON.stringify(body) }));

  it("pages through the account's own records only, for its root credentials only", async () => {
    await kmsClient(kms.endpoint, other).CreateKey({ Alias: 'elsewhere' });
    const first = await list(root, { Limit: 2 });
    const records = first.body.Records as Array<{ RequestId: string; Action: string }>;
    expect(records).toHaveLength(2);
    const second = await list(root, { Limit: 2, NextToken: first.body.NextToken });
    const more = second.body.Records as Array<{ RequestId: string }>;
    expect(more.map((r) => r.RequestId)).not.toContain(records[1].RequestId);
    const all = (await list(root, { Limit: 100, ActionName: 'CreateKey' })).body.Records as Array<{ Keys: Array<{ KeyId: string }> }>;
    expect(all).toHaveLength(3); // orders, byok and releases, not the other account's
    const sub = await kms.cli<Credential>('user', 'create', '--account', root.Uin, '--name', 'auditor');
    expect((await list(sub, {})).code).toBe('UnauthorizedOperation');
  });

  it('refuses parameters out of range', async () => {
    expect((await list(root, { Limit: 0 })).code).toBe('InvalidParameter');
    expect((await list(root, { Limit: 101 })).code).toBe('InvalidParameter');
    expect((await list(root, { NextToken: 'bm90IGEgdG9rZW4' })).code).toBe('InvalidParameter');
    expect((await list(root, { KeyId: 'bad id' })).code).toBe('InvalidParameterValue.InvalidKeyId');
    expect((await list(root, { StartTime: 1e15 })).code).toBe('InvalidParameter');
    expect((await list(root, { Offset: 1 })).code).toBe('UnknownParameter');
  });
});

describe('ListKeyVersions, ListKeyTags and ListKeyBindings, the extensions behind the key page', () => {
  const ask = (cred: Pick<Credential, 'SecretId' | 'SecretKey'>, action: string, body: Record<string, unknown>) => send(signTc3(kms.endpoint, cred, { action, body: JSON.stringify(body) }));
  const ACTIONS = ['ListKeyVersions', 'ListKeyTags', 'ListKeyBindings'];
  let keyId: string;

  beforeAll(async () => {
    const api = kmsClient(kms.endpoint, root);
    keyId = (await api.CreateKey({ Alias: 'detail', Tags: [{ TagKey: 'env', TagValue: 'prod' }, { TagKey: 'app', TagValue: 'shop' }] })).KeyId!;
    await api.RotateKey({ KeyId: keyId });
    await api.BindCloudResource({ KeyId: keyId, ProductId: 'cbs', ResourceId: 'disk-1' });
  });

  it("answer a key's versions, tags and bound resources", async () => {
    const { KeyMetadata } = await kmsClient(kms.endpoint, root).DescribeKey({ KeyId: keyId });
    const v = await ask(root, 'ListKeyVersions', { KeyId: keyId });
    expect(v.body).toMatchObject({ KeyId: keyId, CurrentVersion: 2 });
    const listed = v.body.Versions as Array<{ Version: number; CreateTime: number }>;
    expect(listed.map((x) => x.Version)).toEqual([1, 2]);
    expect(listed[0].CreateTime).toBe(KeyMetadata!.CreateTime);
    expect(listed[1].CreateTime).toBeGreaterThanOrEqual(listed[0].CreateTime);
    const t = await ask(root, 'ListKeyTags', { KeyId: keyId });
    expect((t.body.Tags as unknown[]).length).toBe(2);
    expect(t.body.Tags).toEqual(expect.arrayContaining([{ TagKey: 'env', TagValue: 'prod' }, { TagKey: 'app', TagValue: 'shop' }]));
    const b = await ask(root, 'ListKeyBindings', { KeyId: keyId });
    expect(b.body.Bindings).toEqual([{ ProductId: 'cbs', ResourceId: 'disk-1', CreateTime: expect.any(Number) }]);
    // An imported key awaiting its material has no version yet.
    const pending = (await kmsClient(kms.endpoint, root).CreateKey({ Alias: 'pending', Type: 2 })).KeyId!;
    expect((await ask(root, 'ListKeyVersions', { KeyId: pending })).body).toMatchObject({ CurrentVersion: 0, Versions: [] });
  });

  it("are each the sub-user's policy's to allow, and answer nothing of another account's key", async () => {
    const policy = path.join(work, 'describe-only.json');
    fs.writeFileSync(policy, JSON.stringify({ version: '2.0', statement: [{ effect: 'allow', action: ['name/kms:DescribeKey', 'name/kms:GetKeyRotationStatus'], resource: '*' }] }));
    const reader = path.join(work, 'reader.json');
    fs.writeFileSync(reader, JSON.stringify({ version: '2.0', statement: [{ effect: 'allow', action: ['name/kms:DescribeKey', 'name/kms:ListKeyVersions', 'name/kms:ListKeyTags', 'name/kms:ListKeyBindings'], resource: '*' }] }));
    const [describer, allowed] = await Promise.all([
      kms.cli<Credential>('user', 'create', '--account', root.Uin, '--name', 'describer', '--policy', policy),
      kms.cli<Credential>('user', 'create', '--account', root.Uin, '--name', 'reader', '--policy', reader),
    ]);
    for (const action of ACTIONS) {
      expect((await ask(describer, action, { KeyId: keyId })).code).toBe('UnauthorizedOperation');
      expect((await ask(allowed, action, { KeyId: keyId })).code).toBeUndefined();
      expect((await ask(other, action, { KeyId: keyId })).code).toBe('ResourceUnavailable.CmkNotFound');
    }
    // In the console, such a sub-user still sees the key, and is told what its policy withholds.
    const tab = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await tab.goto(base);
      await tab.getByLabel('SecretId').fill(describer.SecretId);
      await tab.getByLabel('SecretKey').fill(describer.SecretKey);
      await tab.getByRole('button', { name: 'Sign in' }).click();
      await tab.locator('h1.page-title').waitFor();
      await tab.goto(base + `#/keys/${encodeURIComponent(keyId)}`);
      await expect(tab.getByTestId('key-id').textContent()).resolves.toBe(keyId);
      for (const action of ACTIONS) await tab.getByText(`Your policy does not allow ${action} on this key.`).waitFor();
    } finally {
      await tab.close();
    }
  });

  it('refuse a missing or malformed KeyId and any other parameter', async () => {
    for (const action of ACTIONS) {
      expect((await ask(root, action, {})).code).toBe('MissingParameter');
      expect((await ask(root, action, { KeyId: 'bad id' })).code).toBe('InvalidParameterValue.InvalidKeyId');
      expect((await ask(root, action, { KeyId: keyId, Limit: 1 })).code).toBe('UnknownParameter');
    }
  });
});
