/**
 * `hsm-kms/huks`: the `@ohos.security.huks` API (seed 000) against keys that live in the
 * service's HSM, over docs/huks-protocol.md. `import huks from 'hsm-kms/huks'` (or require)
 * gives the whole API as one namespace, types included (`huks.HuksOptions`), as the seed's
 * examples use it; every name is a named export too.
 */
import * as huks from './huks';

export * from './huks';
export default huks;
