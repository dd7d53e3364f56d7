import { Face } from '../../faces/face';
import { ClusterFirstUseRegister } from '../../http/first-use-register';
import { huksConfig } from './huks-config';

export const URL_PREFIX = '/huks/v1/';

/** HUKS-style key sessions under /huks/v1/ (docs/huks-protocol.md). It keeps no tables of its own. */
export const HUKS_FACE: Face = {
  name: 'huks',
  prefix: URL_PREFIX,
  // Required, not imported: only a serving process loads the request code (Face.http).
  http: () => (require('./huks.module') as typeof import('./huks.module')).HUKS_HTTP,
  servePrimary: (cfg) => {
    huksConfig(); // a bad setting stops the start, before any worker runs
    ClusterFirstUseRegister.serve(cfg.signatureRegisterEntries);
    (require('./session-router') as typeof import('./session-router')).serveSessionsPrimary();
  },
};
