import { KmsConfig } from '../../../config/config';
import { ActionDef } from './action';

export function serviceActions(cfg: KmsConfig): ActionDef[] {
  return [
    {
      name: 'GetServiceStatus',
      stateless: true,
      accountWide: true,
      params: [],
      // Self-hosted: the service is always "purchased" and in normal standing (InvalidType 1).
      run: async () => ({ ServiceEnabled: true, InvalidType: 1, UserLevel: 0, ProExpireTime: 0, ProRenewFlag: 0 }),
    },
    {
      name: 'GetRegions',
      stateless: true,
      accountWide: true,
      params: [],
      regionOptional: true,
      run: async () => ({ Regions: cfg.regions.map((r) => r.name) }),
    },
  ];
}
