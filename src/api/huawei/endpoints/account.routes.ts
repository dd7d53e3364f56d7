import { KeysService } from '../../../keys/keys.service';
import { arr, int, obj, str } from '../answers';
import { RouteDef } from '../route';

/** The project's key count and the account's quota. */
export function accountRoutes(keys: KeysService): RouteDef[] {
  return [
    {
      method: 'GET',
      name: 'user-instances',
      path: '/v1.0/{project_id}/kms/user-instances',
      operation: 'ListKeys',
      summary: "The number of the project's CMKs.",
      answer: obj({ instance_num: int("The project's keys.") }),
      rateLimit: 50,
      accountWide: true,
      async run({ principal }) {
        return { instance_num: (await keys.counts(principal)).region };
      },
    },
    {
      method: 'GET',
      name: 'user-quotas',
      path: '/v1.0/{project_id}/kms/user-quotas',
      operation: 'GetServiceStatus',
      summary: "The account's CMK quota (over all its projects) and how much of it is used.",
      answer: obj({ quotas: obj({ resources: arr(obj({ type: str('CMK or grant_per_CMK.'), used: int('Used.'), quota: int('The quota.') })) }) }),
      rateLimit: 50,
      accountWide: true,
      async run({ principal }) {
        const c = await keys.counts(principal);
        // Grants are not offered here: none is used and none may be made.
        return { quotas: { resources: [{ type: 'CMK', used: c.account, quota: c.quota }, { type: 'grant_per_CMK', used: 0, quota: 0 }] } };
      },
    },
  ];
}
