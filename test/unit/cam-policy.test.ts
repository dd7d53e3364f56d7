import { Policy, PolicyError, accountResource, keyResource } from '../../src/accounts/policy';
import { camPolicyLanguage } from '../../src/api/tencent/cam-policy';

const cam = (statement: unknown[], strict = true) => camPolicyLanguage.parse(JSON.stringify({ version: '2.0', statement }), strict);
const key = (keyId: string, creator = '2') => keyResource('ap-guangzhou', '1', creator, keyId);
const ACCOUNT = accountResource('ap-guangzhou', '1');

it('evaluates neutral statements: operation globs, field globs, deny wins, account-wide only when asked', () => {
  const p = new Policy([
    { effect: 'allow', operations: ['Encrypt', 'Describe*'], resources: [{ region: 'ap-*', account: '1', creator: '*', keyId: '*', accountWide: false }] },
    { effect: 'deny', operations: ['*'], resources: [{ region: '*', account: '*', creator: '*', keyId: 'bad*', accountWide: false }] },
  ]);
  expect(p.allows('Encrypt', key('k1'))).toBe(true);
  expect(p.allows('DescribeKey', key('k1'))).toBe(true);
  expect(p.allows('Decrypt', key('k1'))).toBe(false);
  expect(p.allows('Encrypt', key('bad1'))).toBe(false);
  expect(p.allows('Encrypt', keyResource('eu-frankfurt', '1', '2', 'k1'))).toBe(false);
  expect(p.allows('Encrypt', ACCOUNT)).toBe(false);
  expect(new Policy([{ effect: 'allow', operations: ['*'], resources: [{ region: '*', account: '1', creator: '*', keyId: '*', accountWide: true }] }]).allows('CreateKey', ACCOUNT)).toBe(true);
});

it('reads CAM resources as structured patterns, the shortened forms included', () => {
  const allow = (resource: string) => cam([{ effect: 'allow', action: 'name/kms:*', resource }]);
  expect(allow('*').allows('CreateKey', ACCOUNT)).toBe(true);
  expect(allow('qcs::kms:ap-guangzhou:1:key/creatorUin/2/k1').allows('Encrypt', key('k1'))).toBe(true);
  expect(allow('qcs::kms:ap-guangzhou:1:key/creatorUin/2/k1').allows('Encrypt', key('k1', '3'))).toBe(false);
  expect(allow('qcs::kms:ap-guangzhou:1:key/creatorUin/*/*').allows('CreateKey', ACCOUNT)).toBe(false);
  expect(allow('qcs::kms:ap-guangzhou:1:key/creatorUin/*').allows('CreateKey', ACCOUNT)).toBe(false);
  expect(allow('qcs::kms:ap-guangzhou:1:key/creatorUin/*').allows('Encrypt', key('k1'))).toBe(true);
  for (const r of ['qcs::kms:ap-guangzhou:1:key/*', 'qcs::kms:ap-guangzhou:1:*', 'qcs::kms:ap-*:*', 'qcs::kms:*']) {
    expect(allow(r).allows('CreateKey', ACCOUNT)).toBe(true);
    expect(allow(r).allows('Encrypt', key('k1'))).toBe(true);
  }
  expect(allow('qcs::kms:ap-guangzhou:9:*').allows('Encrypt', key('k1'))).toBe(false);
});

it('refuses a resource whose * stands for several parts mid-string when stored, and fails closed reading one back', () => {
  const odd = 'qcs::kms:*:key/creatorUin/2/k1';
  expect(() => cam([{ effect: 'allow', action: 'name/kms:*', resource: odd }])).toThrow(PolicyError);
  expect(() => cam([{ effect: 'allow', action: 'name/kms:*', resource: odd }])).toThrow(/is not of the form qcs::kms:<region>:<account>:key\/creatorUin\/<uin>\/<keyId>/);
  expect(cam([{ effect: 'allow', action: 'name/kms:*', resource: odd }], false).allows('Encrypt', key('k1'))).toBe(false);
  const denied = cam([{ effect: 'allow', action: 'name/kms:*', resource: '*' }, { effect: 'deny', action: 'name/kms:Decrypt', resource: odd }], false);
  expect(denied.allows('Decrypt', key('other'))).toBe(false);
  expect(denied.allows('Encrypt', key('other'))).toBe(true);
});

it('keeps the unknown-key rule: tried with the creators the patterns name and one only a wildcard matches', () => {
  const named = cam([{ effect: 'allow', action: 'name/kms:Encrypt', resource: 'qcs::kms:ap-guangzhou:1:key/creatorUin/7/k1' }]);
  expect(named.mayAllowKey('Encrypt', 'ap-guangzhou', '1', 'k1')).toBe(true);
  expect(named.mayAllowKey('Encrypt', 'ap-guangzhou', '1', 'k2')).toBe(false);
  const anyone = cam([{ effect: 'allow', action: 'name/kms:Encrypt', resource: 'qcs::kms:ap-guangzhou:1:key/creatorUin/*/k1' }]);
  expect(anyone.mayAllowKey('Encrypt', 'ap-guangzhou', '1', 'k1')).toBe(true);
  expect(anyone.mayAllowKey('Decrypt', 'ap-guangzhou', '1', 'k1')).toBe(false);
});

it('keeps the CAM checks: version, unknown actions, conditions; empty policy allows nothing', () => {
  expect(() => camPolicyLanguage.parse('{"version":"1.0","statement":[]}', true)).toThrow(/version/);
  expect(() => cam([{ effect: 'allow', action: 'name/kms:decrypt', resource: '*' }])).toThrow(/matches no action of the API/);
  expect(() => cam([{ effect: 'allow', action: 'name/kms:decrypt', resource: '*' }], false)).not.toThrow();
  expect(() => cam([{ effect: 'allow', action: 'name/kms:*', resource: '*', condition: {} }])).toThrow(/conditions are not supported/);
  expect(camPolicyLanguage.parse(camPolicyLanguage.empty, true).allows('Encrypt', key('k1'))).toBe(false);
});
