/**
 * Work that runs off a queue (enrichment, closures) is awaited by polling: read until the answer
 * has what is expected, bounded, and say what was last seen when it never comes.
 */
export async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await read();
  }
  return last;
}
