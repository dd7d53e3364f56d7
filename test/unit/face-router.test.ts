import { Face, faceRouter, policyLanguageOf } from '../../src/faces/face';
import { FACES } from '../../src/api/faces';

it('routes a path to the face with the longest matching prefix, `/` taking the rest', () => {
  const route = faceRouter([
    { prefix: '/', target: 'catch-all' },
    { prefix: '/v9/', target: 'other' },
  ]);
  expect(route('/')).toBe('catch-all');
  expect(route('/?Action=ListKeys')).toBe('catch-all');
  expect(route('/v9/keys')).toBe('other');
  expect(faceRouter([{ prefix: '/v9/', target: 'other' }])('/')).toBeUndefined();
});

it('takes the policy language from exactly one registered face', () => {
  expect(FACES.filter((f) => f.prefix === '/')).toHaveLength(1);
  expect(policyLanguageOf(FACES)).toBeDefined();
  const bare = { ...FACES[0], policyLanguage: undefined } as Face;
  expect(() => policyLanguageOf([bare])).toThrow(/exactly one face/);
  expect(() => policyLanguageOf([FACES[0], FACES[0]])).toThrow(/exactly one face/);
});
