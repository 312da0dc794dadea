/**
 * A gate threshold on a metric, `metric:NAME>=VALUE` (also `<=`, `>`, `<`): the grammar GATE_REQUIRE
 * and the gate's `require` share.
 */
export interface MetricThreshold {
  requirement: string;
  name: string;
  op: '>=' | '<=' | '>' | '<';
  value: number;
}

const THRESHOLD = /^metric:([^<>=\s][^<>=]*?)\s*(>=|<=|>|<)\s*(-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)$/i;

export function parseThreshold(requirement: string): MetricThreshold | undefined {
  const m = THRESHOLD.exec(requirement.trim());
  if (!m) return undefined;
  return { requirement: requirement.trim(), name: (m[1] as string).trim(), op: m[2] as MetricThreshold['op'], value: Number(m[3]) };
}

export function meetsThreshold(observed: number, t: MetricThreshold): boolean {
  switch (t.op) {
    case '>=':
      return observed >= t.value;
    case '<=':
      return observed <= t.value;
    case '>':
      return observed > t.value;
    case '<':
      return observed < t.value;
  }
}
