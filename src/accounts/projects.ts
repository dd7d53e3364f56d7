import * as crypto from 'node:crypto';

/**
 * The project of an account in a region: one id per (account, region), 32 lowercase hex
 * characters, the same on every instance and across restarts without being stored. Faces
 * whose URLs name a project check it against the authenticated account; knowing an id grants
 * nothing by itself.
 */
export function projectIdOf(uin: string, region: string): string {
  return crypto.createHash('sha256').update(`project\0${uin}\0${region}`).digest('hex').slice(0, 32);
}

/** The region of `uin` whose project is `projectId`, if any. */
export function regionOfProject(uin: string, projectId: string, regions: readonly string[]): string | undefined {
  return regions.find((r) => projectIdOf(uin, r) === projectId);
}
