import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner';
import * as crypto from 'node:crypto';
import { stringify } from 'node:querystring';
import { SDK_SCHEME } from '../../src/api/huawei/sdk-signature';
import { canonicalUris, parseAuthorization, parseSigningDate, requestSignature } from '../../src/http/hmac-request-signature';

/**
 * The face's SDK-HMAC-SHA256 verification against the vendor SDK core's own signer: for paths
 * and queries with characters each side encodes differently, the request as axios sends it
 * (the path through WHATWG URL, the query through querystring) verifies.
 */
const credentials = new BasicCredentials().withAk('AKIDexampleexample').withSk('the-secret-key');
const ENDPOINT = 'http://127.0.0.1:8080';

function verifies(path: string, query: Record<string, string | string[]>, data?: Record<string, unknown>): boolean {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'X-Project-Id': 'p' };
  const signed = AKSKSigner.sign({ endpoint: ENDPOINT + path, method: 'POST', headers, queryParams: query, data } as never, credentials) as Record<string, string>;
  const auth = parseAuthorization(SDK_SCHEME, signed.Authorization)!;
  const sent = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toLowerCase(), v]));
  const rawPath = new URL(ENDPOINT + path).pathname;
  const payloadHash = crypto.createHash('sha256').update(data ? JSON.stringify(data) : '').digest('hex');
  return canonicalUris(rawPath).some((canonicalUri) =>
    requestSignature(SDK_SCHEME, 'the-secret-key', {
      method: 'POST',
      canonicalUri,
      rawQuery: stringify(query),
      headers: auth.signedHeaders.map((h) => [h, sent[h]]),
      payloadHash,
      date: sent['x-sdk-date'],
    }).equals(auth.signature),
  );
}

it.each([
  ['/v1.0/0123abcd/kms/create-key'],
  ['/v1.0/p/kms/0d0466b0-e727-4d9c-b35d-f84bb474a37f/tags/env'],
  ['/v1.0/p/kms/k/tags/a b'],
  ['/v1.0/p/kms/k/tags/é中'],
  ['/v1.0/p/kms/k/tags/a"b{c}|d^e`f<g>h\'i'],
  ['/v1.0/p/kms/k/tags/a+b=c&d;e:f@g!h*(i)~j'],
])('verifies the SDK signer on %s', (path) => {
  expect(verifies(path, {}, { key_id: 'x', n: 1, s: 'é' })).toBe(true);
});

it('verifies queries: sorted names, repeated values, characters to escape', () => {
  expect(verifies('/v1.0/p/kms/tags', { limit: '10', offset: '0', b: ['2', '1'], 'q x': 'a b+c/é' })).toBe(true);
  expect(verifies('/v1.0/p/kms/tags', {})).toBe(true);
});

it('parses authorizations and dates strictly', () => {
  expect(parseAuthorization(SDK_SCHEME, `SDK-HMAC-SHA256 Access=AKID1, SignedHeaders=host;x-sdk-date, Signature=${'ab'.repeat(32)}`)).toMatchObject({ access: 'AKID1', signedHeaders: ['host', 'x-sdk-date'] });
  expect(parseAuthorization(SDK_SCHEME, `SDK-HMAC-SHA256 Access=AKID1, SignedHeaders=host;;x, Signature=${'ab'.repeat(32)}`)).toBeUndefined();
  expect(parseAuthorization(SDK_SCHEME, `SDK-HMAC-SHA256 Access=AKID1, SignedHeaders=host, Signature=${'AB'.repeat(32)}`)).toBeUndefined();
  expect(parseSigningDate('20261130T042029Z')).toBe(Date.UTC(2026, 10, 30, 4, 20, 29) / 1000);
  for (const bad of ['20261130T042029', '20261131T000000Z', '20261130T246000Z', '2026-11-30T04:20:29Z']) expect(parseSigningDate(bad)).toBeUndefined();
});
