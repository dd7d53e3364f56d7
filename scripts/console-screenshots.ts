/**
 * `npm run screenshots`: the console's main pages at 1280x800 (and the key list at phone
 * width) into docs/console/, taken from a throw-away service with a few keys in it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launchChromium } from '../test/support/browser';
import { KmsService } from '../test/support/kms-service';
import { b64, kmsClient } from '../test/support/tencent-client';

const OUT = path.join(__dirname, '..', 'docs', 'console');

async function main(): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  const [kms, browser] = await Promise.all([KmsService.start(), launchChromium()]);
  try {
    const cred = await kms.createAccount('screenshots');
    const sdk = kmsClient(kms.endpoint, cred);
    const ids: string[] = [];
    for (const [alias, description] of [
      ['orders', 'Card numbers in the orders table'],
      ['invoices', 'Invoice PDFs'],
      ['backups', 'Nightly database backups'],
    ])
      ids.push((await sdk.CreateKey({ Alias: alias, Description: description, Tags: [{ TagKey: 'team', TagValue: 'payments' }] })).KeyId!);
    await sdk.EnableKeyRotation({ KeyId: ids[0] });
    await sdk.DisableKey({ KeyId: ids[2] });
    await sdk.CreateKey({ Alias: 'partner-byok', Type: 2 });
    await sdk.CreateKey({ Alias: 'release-signing', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_ECC' });
    await sdk.Encrypt({ KeyId: ids[0], Plaintext: b64('card 4111') });

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const base = `http://${kms.endpoint}/console/`;
    const shot = async (name: string) => {
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: path.join(OUT, `${name}.png`) });
      console.log(`docs/console/${name}.png`);
    };
    await page.goto(base);
    await page.getByLabel('SecretId').fill(cred.SecretId);
    await shot('sign-in');
    await page.getByLabel('SecretKey').fill(cred.SecretKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('tr[data-key-id]').first().waitFor();
    await shot('keys');
    await page.goto(`${base}#/keys/${ids[0]}`);
    await page.getByTestId('key-id').waitFor();
    await shot('key-detail');
    await page.goto(`${base}#/create`);
    await page.getByLabel('Alias').fill('customer-data');
    await shot('create-key');
    await page.goto(`${base}#/crypto/${ids[0]}`);
    await page.getByLabel('Plaintext (text, up to 4 KB)').fill('card 4111');
    await page.getByRole('button', { name: 'Encrypt', exact: true }).click();
    await page.locator('#ciphertext-out').waitFor();
    await shot('encrypt');
    const byok = (await sdk.ListKeyDetail({ SearchKeyAlias: 'partner-byok', KeyState: 0 })).KeyMetadatas![0].KeyId!;
    await page.goto(`${base}#/keys/${byok}/import`);
    await page.getByRole('button', { name: 'Get the wrapping key' }).click();
    await page.getByTestId('openssl-commands').waitFor();
    await shot('import-wizard');
    await page.goto(`${base}#/audit`);
    await page.locator('tr[data-action]').first().waitFor();
    await shot('audit');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}#/keys`);
    await page.locator('tr[data-key-id]').first().waitFor();
    await shot('keys-phone');
  } finally {
    await browser.close();
    await kms.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
