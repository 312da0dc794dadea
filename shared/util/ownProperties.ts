/**
 * Payload keys are data, whatever they are called. `out[key] = value` on a plain object would
 * replace its prototype when the key is `__proto__` (losing the key and its content), and
 * `obj[key]` would read an inherited member for `__proto__` or `constructor`. Code that copies or
 * merges payload-named keys goes through these two.
 */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

export function getOwn<T>(source: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(source, key) ? source[key] : undefined;
}
