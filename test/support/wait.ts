/** Milliseconds until `check` holds, polling every `everyMs`; Infinity if it never does within `limitMs`. */
export async function msUntil(check: () => Promise<boolean>, limitMs = 5000, everyMs = 20): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < limitMs) {
    if (await check()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return Infinity;
}
