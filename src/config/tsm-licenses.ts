import * as fs from 'node:fs';
import { ConfigError } from './config';

/** One TSM SDK license, as DescribeTSMLicenses answers it. */
export interface TsmLicense {
  Version: string;
  TsmAppId: string;
  Cert: string;
}

const FIELDS = ['Version', 'TsmAppId', 'Cert'] as const;

/**
 * The licenses DescribeTSMLicenses answers: none, unless KMS_TSM_LICENSES_FILE names a JSON
 * array of {"Version","TsmAppId","Cert"} objects (strings). The file is read once, when the
 * API starts, and refused as a whole if anything in it is off: a typo must not silently
 * drop a license.
 */
export function loadTsmLicenses(file = process.env.KMS_TSM_LICENSES_FILE): TsmLicense[] {
  if (!file) return [];
  const fail = (why: string) => new ConfigError(`KMS_TSM_LICENSES_FILE (${file}): ${why}`);
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw fail((e as Error).message);
  }
  if (!Array.isArray(doc)) throw fail('must be a JSON array of {"Version","TsmAppId","Cert"} objects');
  return doc.map((l: unknown, i) => {
    if (typeof l !== 'object' || l === null || Array.isArray(l)) throw fail(`entry ${i} is not an object`);
    const o = l as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!(FIELDS as readonly string[]).includes(k)) throw fail(`entry ${i} has an unknown field "${k}"`);
    for (const k of FIELDS) if (typeof o[k] !== 'string' || o[k] === '') throw fail(`entry ${i} needs a non-empty string "${k}"`);
    return { Version: o.Version as string, TsmAppId: o.TsmAppId as string, Cert: o.Cert as string };
  });
}
