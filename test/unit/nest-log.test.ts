import { Log, nestLog } from '../../src/common/logger';

/** Nest's messages as lines of the service's log (the start's fatal error is checked end to end in test/token-recovery.e2e.test.ts). */

const lines: Array<[string, string, Record<string, unknown>]> = [];
beforeEach(() => {
  lines.length = 0;
  for (const level of ['info', 'warn', 'error'] as const) jest.spyOn(Log, level).mockImplementation((msg: string, fields: Record<string, unknown> = {}) => void lines.push([level, msg, fields]));
});
afterEach(() => jest.restoreAllMocks());

it('passes warnings and errors on with their context, an error with its name and stack frames, and drops the chatter', () => {
  nestLog.log('Nest application successfully started', 'NestApplication');
  nestLog.warn('a provider is deprecated', 'InstanceLoader');
  const e = new TypeError('the token is gone');
  nestLog.error(e, 'ExceptionHandler');
  nestLog.error('plain text, no context');
  expect(lines[0]).toEqual(['warn', 'a provider is deprecated', { context: 'InstanceLoader' }]);
  expect(lines[1][0]).toBe('error');
  expect(lines[1][1]).toBe('the token is gone');
  expect(lines[1][2]).toMatchObject({ context: 'ExceptionHandler', error: 'TypeError' });
  expect((lines[1][2].stack as string[])[0]).toMatch(/^at /);
  expect(lines[2]).toEqual(['error', 'plain text, no context', { context: undefined }]);
  expect(lines).toHaveLength(3);
});
