/**
 * Azure ML payloads spell the same key differently by source (`ModelName` in the docs,
 * `modelName` in the swagger and SDKs, `RunTags` vs `runTags`). Keys are matched ignoring case.
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function getIgnoringCase(obj: Record<string, unknown>, key: string): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, key)) return obj[key];
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(obj)) {
    if (k.toLowerCase() === lower) return v;
  }
  return undefined;
}

/**
 * Re-keys the top level of `obj` onto the canonical spellings in `canonicalKeys`, leaving
 * unknown keys as they are. Nested objects (tags, properties) keep their own keys untouched.
 */
export function canonicalizeKeys(obj: Record<string, unknown>, canonicalKeys: readonly string[]): Record<string, unknown> {
  const byLower = new Map(canonicalKeys.map((k) => [k.toLowerCase(), k]));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const canonical = byLower.get(k.toLowerCase()) ?? k;
    // An exact-case key wins over a differently cased duplicate.
    if (canonical in out && k !== canonical) continue;
    out[canonical] = v;
  }
  return out;
}
