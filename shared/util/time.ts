/**
 * Event times arrive with 0-7 fractional digits and either `Z` or an offset
 * (`2017-06-26T18:41:00.9584103Z`, `...5350054+00:00`). JavaScript's Date keeps milliseconds
 * only, so ordering uses a sortable UTC string with nanosecond precision instead.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

export function toInstant(text: string): string | undefined {
  // An event's time is read twice (validated, then stamped on its documents): the last answer is kept.
  if (text === lastText) return lastInstant;
  const instant = utcInstant(text) ?? parseInstant(text);
  lastText = text;
  lastInstant = instant;
  return instant;
}

let lastText: string | undefined;
let lastInstant: string | undefined;

const digitAt = (text: string, i: number): number => {
  const d = text.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -1;
};

/** `digits` decimal digits at `at` as a number, or -1 when any is not a digit. */
function digitsAt(text: string, at: number, digits: number): number {
  let n = 0;
  for (let i = at; i < at + digits; i++) {
    const d = digitAt(text, i);
    if (d < 0) return -1;
    n = n * 10 + d;
  }
  return n;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The instant of the form nearly every event time takes, `YYYY-MM-DDTHH:MM:SS[.fraction]` in UTC
 * (`Z`, `+00:00` or no zone), read by its characters: the pattern, two Dates and an ISO string per
 * time were a tenth of normalization. Undefined for any other form and any out-of-range field,
 * which parseInstant then decides; where this answers, parseInstant gives the same text
 * (test/unit/util.test.ts compares them).
 */
export function utcInstant(text: string): string | undefined {
  const n = text.length;
  if (n < 19 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58)
    return undefined;
  const sep = text.charCodeAt(10);
  if (sep !== 84 && sep !== 116 && sep !== 32) return undefined; // T, t or a space
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  // Years before 100 are read as 19xx by Date.UTC: parseInstant keeps that quirk.
  if (year < 100 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59)
    return undefined;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number))) return undefined;
  let end = 19;
  let fraction = '';
  const mark = text.charCodeAt(19);
  if (mark === 46 || mark === 44) {
    // `.` or `,`, then at least one digit.
    end = 20;
    while (end < n && digitAt(text, end) >= 0) end++;
    if (end === 20) return undefined;
    fraction = text.slice(20, Math.min(end, 29));
  }
  const zone = text.slice(end);
  if (zone !== '' && zone !== 'Z' && zone !== 'z' && zone !== '+00:00' && zone !== '-00:00' && zone !== '+0000' && zone !== '-0000')
    return undefined;
  return `${text.slice(0, 10)}T${text.slice(11, 19)}.${fraction.padEnd(9, '0')}Z`;
}

/** Any event time the pattern above accepts, by the pattern and Date arithmetic (offsets included). */
export function parseInstant(text: string): string | undefined {
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
