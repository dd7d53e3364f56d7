import { QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError, QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable } from '../../src/persistence/database-errors';

/** Which errors the faces answer with their retry-later code rather than as internal errors. */
it('counts a refused or broken connection as the database being unavailable', () => {
  expect(isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
  expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
  expect(isDatabaseUnavailable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
  expect(isDatabaseUnavailable(new QueryFailedError('SELECT 1', [], Object.assign(new Error('terminating connection due to idle-session timeout'), { code: '57P05' })))).toBe(true);
  // A transaction whose connection the pool dropped as the server went away.
  expect(isDatabaseUnavailable(new QueryRunnerAlreadyReleasedError())).toBe(true);
  expect(isDatabaseUnavailable(new QueryRunnerProviderAlreadyReleasedError())).toBe(true);
});

it('does not count a query the database refused', () => {
  expect(isDatabaseUnavailable(new QueryFailedError('INSERT', [], Object.assign(new Error('duplicate key'), { code: '23505' })))).toBe(false);
  expect(isDatabaseUnavailable(new Error('something else'))).toBe(false);
});
