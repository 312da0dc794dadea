/**
 * Hostile shapes shared by the hostile-input tests and the fuzz suite, built without recursion so
 * building them cannot overflow the stack either.
 */
export function nested(depth: number, leaf: unknown = 'leaf', as: 'object' | 'array' = 'object'): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = as === 'object' ? { n: value } : [value];
  return value;
}

/** Containers between the root and the deepest value (a scalar is 0, `{}` is 1). */
export function depthOf(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') {
      max = Math.max(max, d);
      continue;
    }
    max = Math.max(max, d + 1);
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}
