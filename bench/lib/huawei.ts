import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner';
import * as crypto from 'node:crypto';
import { projectIdOf } from '../../src/accounts/projects';
import { REGION } from './constants';
import { SignedRequest } from './request';

/**
 * The Huawei face's encrypt-data, signed by the vendor SDK's own AKSKSigner (as HcClient
 * signs: every header it sends, the JSON body hashed, `/` appended to the path). A signature
 * serves one request there (again only from the same address within 2 s), so a run gets one
 * signed request per second of its duration (each with a new `sequence`, as a client sends),
 * which wrk picks by the wall clock (WrkPlan pick `time`).
 */
export interface HuaweiTarget {
  endpoint: string;
  keyId: string;
  credential: { Uin: string; SecretId: string; SecretKey: string };
}

export function signedEncryptData(t: HuaweiTarget, plainText: string): SignedRequest {
  const projectId = projectIdOf(t.credential.Uin, REGION);
  const url = `http://${t.endpoint}/v1.0/${projectId}/kms/encrypt-data`;
  const data = { key_id: t.keyId, plain_text: plainText, sequence: crypto.randomUUID() };
  const credentials = new BasicCredentials().withAk(t.credential.SecretId).withSk(t.credential.SecretKey);
  const headers = AKSKSigner.sign({ endpoint: url, method: 'POST', headers: { 'Content-Type': 'application/json' }, queryParams: {}, data } as never, credentials) as Record<string, string>;
  return { url, headers, body: JSON.stringify(data) };
}

/** `count` requests signed now, one per second slot from `base` (epoch seconds) on. */
export function encryptDataSlots(t: HuaweiTarget, plainText: string, count: number): { requests: SignedRequest[]; base: number } {
  const base = Math.floor(Date.now() / 1000);
  return { requests: Array.from({ length: count }, () => signedEncryptData(t, plainText)), base };
}
