import { KmsService, kmsCli } from './support/kms-service';

/** `kms account projects`: one project per served region, ids 32 lowercase hex, stable and distinct. */

let kms: KmsService;
beforeAll(async () => {
  kms = await KmsService.start({ env: { KMS_REGIONS: 'ap-guangzhou,ap-shanghai,ap-beijing' } });
});
afterAll(() => kms.stop());

interface Project {
  Region: string;
  ProjectId: string;
}
const projects = (uin: string) => kms.cli<Project[]>('account', 'projects', '--account', uin);

it('lists a project for every served region, in the configured order', async () => {
  const a = await kms.createAccount('projects-a');
  const list = await projects(a.Uin);
  expect(list.map((p) => p.Region)).toEqual(['ap-guangzhou', 'ap-shanghai', 'ap-beijing']);
  for (const p of list) {
    expect(Object.keys(p).sort()).toEqual(['ProjectId', 'Region']);
    expect(p.ProjectId).toMatch(/^[0-9a-f]{32}$/);
  }
  expect(new Set(list.map((p) => p.ProjectId)).size).toBe(3);
});

it('gives the same ids every time and after a restart, and other ids to another account', async () => {
  const a = await kms.createAccount('projects-b');
  const b = await kms.createAccount('projects-c');
  const before = await projects(a.Uin);
  expect(await projects(a.Uin)).toEqual(before);
  await kms.stopProcess();
  await kms.launch();
  expect(await projects(a.Uin)).toEqual(before);
  const other = await projects(b.Uin);
  for (const p of other) expect(before.map((x) => x.ProjectId)).not.toContain(p.ProjectId);
});

it('refuses an unknown account, and a command without --account', async () => {
  const r = await kmsCli(kms.env, 'account', 'projects', '--account', '199999999999');
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('no account 199999999999');
  expect(r.stdout).toBe('');
  const u = await kmsCli(kms.env, 'account', 'projects');
  expect(u.code).toBe(2);
  expect(u.stderr).toContain('missing --account');
});
