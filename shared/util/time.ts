/**
 * Event times arrive with 0-7 fractional digits and either `Z` or an offset
 * (`2017-06-26T18:41:00.9584103Z`, `...5350054+00:00`). JavaScript's Date keeps milliseconds
 * only, so ordering uses a sortable UTC string with nanosecond precision instead.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

export function toInstant(text: string): string | undefined {
  // An event's time is read twice (validated, then stamped on its documents): the last answer is kept.
  if (text === last.text) return last.instant;
  const instant = parseInstant(text);
  last = { text, instant };
  return instant;
}

let last: { text: string | undefined; instant: string | undefined } = { text: undefined, instant: undefined };

function parseInstant(text: string): string | undefined {
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '00', frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  // Date.UTC rolls over out-of-range fields (month 13, hour 99); refuse them instead.
  const check = new Date(ms);
  if (
    Number.isNaN(ms) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    check.getUTCHours() !== Number(h) ||
    check.getUTCMinutes() !== Number(mi) ||
    check.getUTCSeconds() !== Number(s)
  ) {
    return undefined;
  }
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
  }
  const utc = new Date(ms - offsetMinutes * 60_000);
  if (Number.isNaN(utc.getTime())) return undefined;
  const base = utc.toISOString().slice(0, 19);
  const nanos = (frac + '000000000').slice(0, 9);
  return `${base}.${nanos}Z`;
}

export function isInstant(text: string): boolean {
  return toInstant(text) !== undefined;
}
