import { Face } from '../../faces/face';
import { ClusterFirstUseRegister } from '../../http/first-use-register';
import { camPolicyLanguage } from './cam-policy';
import { V1NonceEntity } from './v1-nonce.entity';

/**
 * The Tencent Cloud KMS Action API, the catch-all face on `/`. Its v1 nonce table is created by
 * the core's initial migration (1763900000000), which predates faces and keeps its name so
 * existing databases upgrade; the face registers only the entity.
 */
export const TENCENT_FACE: Face = {
  name: 'tencent',
  prefix: '/',
  // Required, not imported: only a serving process loads the request code (Face.http).
  http: () => (require('./tencent.module') as typeof import('./tencent.module')).TENCENT_HTTP,
  entities: [V1NonceEntity],
  migrations: [],
  policyLanguage: camPolicyLanguage,
  // The TC3 signatures' first uses, for every worker.
  servePrimary: (cfg) => ClusterFirstUseRegister.serve(cfg.signatureRegisterEntries),
};
