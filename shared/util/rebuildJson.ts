import { setOwn } from './ownProperties.js';

/** Where a value sits: the nearest object property name above it ('' at the root), inherited through arrays. */
export interface JsonPlace {
  key: string;
  /** True when the value is that property's own value, not an element of an array under it. */
  direct: boolean;
}

/**
 * A copy of a JSON value in which `replace` may substitute any value (containers included, which
 * are then not descended) and `renameKey` may rewrite object keys. Walks an explicit stack, not the
 * call stack, so no depth overflows it; key order and special keys (`__proto__`) are kept.
 */
export function rebuildJson(
  root: unknown,
  replace: (value: unknown, place: JsonPlace) => { value: unknown } | undefined,
  renameKey: (key: string) => string = (key) => key,
): unknown {
  const box: unknown[] = [undefined];
  const stack: Array<{ value: unknown; place: JsonPlace; target: unknown[] | Record<string, unknown>; slot: number | string }> = [
    { value: root, place: { key: '', direct: false }, target: box, slot: 0 },
  ];
  while (stack.length > 0) {
    const { value, place, target, slot } = stack.pop() as (typeof stack)[number];
    const replaced = replace(value, place);
    let out: unknown;
    if (replaced) out = replaced.value;
    else if (Array.isArray(value)) {
      const copy: unknown[] = new Array<unknown>(value.length);
      // Pushed last-first so they are visited in order.
      for (let i = value.length - 1; i >= 0; i--)
        stack.push({ value: value[i], place: { key: place.key, direct: false }, target: copy, slot: i });
      out = copy;
    } else if (value !== null && typeof value === 'object') {
      const copy: Record<string, unknown> = {};
      const entries = Object.entries(value as Record<string, unknown>);
      const keys = entries.map(([k]) => renameKey(k));
      // Keys are placed now, in order; values are filled as the walk reaches them (two keys
      // renamed alike keep the first position and the last value, as Object.fromEntries would).
      for (const k of keys) setOwn(copy, k, undefined);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, v] = entries[i] as [string, unknown];
        stack.push({ value: v, place: { key: k, direct: true }, target: copy, slot: keys[i] as string });
      }
      out = copy;
    } else out = value;
    if (typeof slot === 'number') (target as unknown[])[slot] = out;
    else setOwn(target as Record<string, unknown>, slot, out);
  }
  return box[0];
}
