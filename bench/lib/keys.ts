import { EncryptTarget, sendAction, signedAction } from './request';

/** Makes `count` CMKs with signed CreateKey calls, 16 in flight; returns their KeyIds. */
export async function createKeys(t: EncryptTarget, count: number, progress: (made: number) => void): Promise<string[]> {
  const ids: string[] = [];
  const stamp = Date.now().toString(36);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const r = await sendAction(signedAction(t, 'CreateKey', { Alias: `bench-${stamp}-${i}` }), `CreateKey ${i}`, 'KeyId');
      ids.push(r.KeyId as string);
      if (ids.length % 250 === 0) progress(ids.length);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return ids;
}
