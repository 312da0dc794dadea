/**
 * NCRONTAB schedules as Azure Functions timers use them: six fields,
 * `{second} {minute} {hour} {day} {month} {day-of-week}`, with `*`, lists, ranges, steps and
 * English month/day names. Times are UTC (WEBSITE_TIME_ZONE is not emulated).
 */
const FIELDS = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day-of-week', min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
] as const;

export interface Schedule {
  expression: string;
  next(after: Date): Date;
}

function parseField(text: string, field: (typeof FIELDS)[number]): Set<number> {
  const values = new Set<number>();
  const names: readonly string[] = 'names' in field ? field.names : [];
  const value = (v: string) => {
    const byName = names.indexOf(v.toLowerCase());
    const n = byName >= 0 ? byName + field.min : Number(v);
    // Day-of-week 7 is Sunday too.
    const normalized = field.name === 'day-of-week' && n === 7 ? 0 : n;
    if (!Number.isInteger(normalized) || normalized < field.min || normalized > field.max) {
      throw new Error(`${field.name} "${v}" is outside ${field.min}-${field.max}`);
    }
    return normalized;
  };
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`${field.name} step "${stepText}" is not a positive integer`);
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = field.min;
      hi = field.max;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      lo = value(a);
      hi = value(b);
    } else {
      lo = value(range);
      hi = stepText === undefined ? lo : field.max;
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return values;
}

export function parseNcrontab(expression: string): Schedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 6)
    throw new Error(`"${expression}" is not a six-field NCRONTAB expression ({second} {minute} {hour} {day} {month} {day-of-week})`);
  const sets = parts.map((p, i) => parseField(p, FIELDS[i] as (typeof FIELDS)[number]));
  const [sec, min, hour, day, month, dow] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  return {
    expression,
    next(after: Date): Date {
      const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
      // Bounded search: at most ~4 years of minutes, which covers every valid expression.
      for (let guard = 0; guard < 4 * 366 * 24 * 60; guard++) {
        if (!month.has(t.getUTCMonth() + 1) || !day.has(t.getUTCDate()) || !dow.has(t.getUTCDay())) {
          t.setUTCHours(0, 0, 0, 0);
          t.setUTCDate(t.getUTCDate() + 1);
          continue;
        }
        if (!hour.has(t.getUTCHours())) {
          t.setUTCMinutes(0, 0, 0);
          t.setUTCHours(t.getUTCHours() + 1);
          continue;
        }
        if (!min.has(t.getUTCMinutes())) {
          t.setUTCSeconds(0, 0);
          t.setUTCMinutes(t.getUTCMinutes() + 1);
          continue;
        }
        if (!sec.has(t.getUTCSeconds())) {
          t.setUTCSeconds(t.getUTCSeconds() + 1, 0);
          continue;
        }
        return t;
      }
      throw new Error(`"${expression}" never fires`);
    },
  };
}
