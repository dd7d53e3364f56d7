import { TsmLicense, loadTsmLicenses } from '../../../config/tsm-licenses';
import { AlgorithmInfo } from '../../../crypto/algorithm-catalog';
import { CryptoService } from '../../../crypto/crypto.service';
import { ActionDef } from './action';
import { cmkAlgorithmName, usageName } from '../key-rules';

const info = (a: AlgorithmInfo) => ({ KeyUsage: usageName(a.keyUsage), Algorithm: cmkAlgorithmName(a.algorithm) });

/** What this deployment offers: the algorithms its token supports, and its TSM SDK licenses (read once, at start). */
export function deploymentActions(crypto: CryptoService, licenses: TsmLicense[] = loadTsmLicenses()): ActionDef[] {
  return [
    {
      name: 'ListAlgorithms',
      params: [],
      stateless: true,
      accountWide: true,
      async run() {
        const c = await crypto.algorithms();
        return { SymmetricAlgorithms: c.symmetric.map(info), AsymmetricAlgorithms: c.asymmetric.map(info), AsymmetricSignVerifyAlgorithms: c.signVerify.map(info) };
      },
    },
    {
      name: 'DescribeTSMLicenses',
      params: [],
      accountWide: true,
      run: async () => ({ Licenses: licenses }),
    },
  ];
}
