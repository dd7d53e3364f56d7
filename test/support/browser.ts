import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';

/** The names Debian, Ubuntu and Google give the browser's launcher, in the order tried. */
const NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];
const FALLBACKS = ['/usr/lib/chromium/chromium', '/snap/bin/chromium'];

/**
 * The installed Chromium: KMS_CHROMIUM if set, else the first launcher on PATH, else Debian's
 * binary itself. scripts/setup.sh installs Debian's `chromium`.
 */
export function chromiumPath(): string {
  const candidates = [process.env.KMS_CHROMIUM ?? '', ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).flatMap((d) => NAMES.map((n) => path.join(d, n))), ...FALLBACKS];
  const found = candidates.find((c) => {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return fs.statSync(c).isFile();
    } catch {
      return false;
    }
  });
  if (!found) throw new Error(`no Chromium found (tried KMS_CHROMIUM, ${NAMES.join(', ')} on PATH, ${FALLBACKS.join(', ')}); npm run setup installs Debian's chromium`);
  return found;
}

export function launchChromium(): Promise<Browser> {
  // Playwright passes --no-sandbox unless told otherwise: Chromium's sandbox refuses to run as root.
  return chromium.launch({ executablePath: chromiumPath(), args: ['--disable-gpu', '--disable-dev-shm-usage'] });
}

/** Every script error, refused resource and CSP violation a page reports, to assert there is none. */
export function collectProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 404/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return problems;
}
