/** A binding option that should be text, or the host's default when it is absent. */
export function bindingText(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

/** `%NAME%` in binding options names an app setting, as in Azure. */
export function resolveSetting(value: unknown, env: Record<string, string | undefined> = process.env): unknown {
  if (typeof value !== 'string') return value;
  const m = /^%([^%]+)%$/.exec(value);
  if (!m) return value;
  const resolved = env[m[1] as string];
  if (resolved === undefined) throw new Error(`app setting ${m[1]} is not set (referenced as ${value})`);
  return resolved;
}
