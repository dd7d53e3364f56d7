import { Face } from '../../faces/face';
import { ClusterFirstUseRegister } from '../../http/first-use-register';

export const URL_PREFIX = '/v1.0/';

/** The Huawei Cloud KMS REST API v1.0, under /v1.0/. It keeps no tables of its own. */
export const HUAWEI_FACE: Face = {
  name: 'huawei',
  prefix: URL_PREFIX,
  // Required, not imported: only a serving process loads the request code (Face.http).
  http: () => (require('./huawei.module') as typeof import('./huawei.module')).HUAWEI_HTTP,
  // The signatures' first uses, for every worker (one register, shared with the other faces).
  servePrimary: (cfg) => ClusterFirstUseRegister.serve(cfg.signatureRegisterEntries),
};
