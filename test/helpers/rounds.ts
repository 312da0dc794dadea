/**
 * Counts sequential store round trips through the named async methods of `target`: a call that
 * starts while none is in flight opens a new round; calls made in parallel share one. Wraps the
 * methods in place and returns the running count.
 */
export function countRounds(target: object, methods: readonly string[]): () => number {
  let inFlight = 0;
  let rounds = 0;
  const record = target as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const name of methods) {
    const original = record[name]?.bind(target);
    if (!original) throw new Error(`no method ${name} to count`);
    record[name] = async (...args: unknown[]) => {
      if (inFlight === 0) rounds += 1;
      inFlight += 1;
      try {
        return await original(...args);
      } finally {
        inFlight -= 1;
      }
    };
  }
  return () => rounds;
}
