import { rebuildJson } from '../util/rebuildJson.js';
import { identityHash, pseudonym } from './identity.js';

/**
 * Personal data and secrets in lineage metadata (tags, properties, parameters, descriptions, URIs,
 * free text). Each detector pairs a pattern with a check that rules out near misses: card numbers
 * must pass Luhn, IBANs the mod-97 checksum, IPv4 addresses are not taken from version-like keys,
 * and GUIDs, hex hashes and timestamps never match. Findings name the kind and the field path,
 * never the value.
 */
export const PII_KINDS = [
  'email',
  'phone',
  'national-id',
  'payment-card',
  'iban',
  'ip-address',
  'storage-secret',
  'sas-token',
  'bearer-token',
  'private-key',
] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export interface PiiFinding {
  kind: PiiKind;
  /** Where the value sits, e.g. `data.runProperties.owner_email`. */
  path: string;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length >= 12 && sum % 10 === 0;
}

export function ibanValid(iban: string): boolean {
  const s = iban.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(s)) return false;
  const rearranged = s.slice(4) + s.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch >= 'A' && ch <= 'Z' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of code) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

export interface Detector {
  kind: PiiKind;
  pattern: RegExp;
  accept?: (match: string, key: string) => boolean;
  /**
   * A cheap test every match's text passes, and so any text holding a match: most strings in an
   * event (ids, names, times) fail all of them and skip the patterns. It must hold for any
   * substring of a text it rejects, so it is about characters contained, never about positions.
   */
  mayMatch: (text: string) => boolean;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isUpper = (c: number) => c >= 65 && c <= 90;

/** Digits in `text`, stopping once `enough` are seen. */
function hasDigits(text: string, enough: number): boolean {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (isDigit(text.charCodeAt(i)) && ++n >= enough) return true;
  return false;
}

/** Two capitals and two digits in a row, as every IBAN starts. */
function hasIbanStart(text: string): boolean {
  for (let i = 0; i + 3 < text.length; i++) {
    if (
      isUpper(text.charCodeAt(i)) &&
      isUpper(text.charCodeAt(i + 1)) &&
      isDigit(text.charCodeAt(i + 2)) &&
      isDigit(text.charCodeAt(i + 3))
    )
      return true;
  }
  return false;
}

/**
 * Whether a card number's digits could be in `text`: a card matches as 13 to 19 digits with
 * single spaces or dashes between groups, so it lies inside one stretch of digits, spaces and
 * dashes holding at least 13 digits. Hex ids and hashes (digits cut by letters) have none.
 */
export const CARD_DIGITS = 13;
function hasCardStretch(text: string): boolean {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isDigit(c)) {
      if (++digits >= CARD_DIGITS) return true;
    } else if (c !== 32 && c !== 45) digits = 0;
  }
  return false;
}

function count(text: string, ch: string, enough: number): boolean {
  let n = 0;
  for (let i = text.indexOf(ch); i !== -1; i = text.indexOf(ch, i + 1)) if (++n >= enough) return true;
  return false;
}

const SSN_SHAPE = /\d{3}-\d{2}-\d{4}/;
const VERSION_KEY = /version|ver$|release|build|tag/i;

/**
 * Connection-string labels whose value is a secret (Azure Storage, Service Bus and Event Hubs,
 * SQL and ODBC). Azure's own labels may carry a prefix (`StorageAccountKey=`); the generic ones
 * must stand alone. `SharedAccessKeyName=` (the name of a policy) is not a secret.
 */
const SECRET_LABEL_IN_TEXT = '(?:AccountKey|SharedAccessKey|SharedAccessSignature|(?<![A-Za-z0-9])(?:Password|Pwd))';
/** A field named like one of those labels holds a secret, whatever its value looks like. */
const SECRET_FIELD = /^(?:account[-_]?key|shared[-_]?access[-_]?(?:key|signature)|password|pwd)$/i;

/** Already replaced by redaction (idempotence: a replayed event is redacted again). */
const REDACTED = /^(?:pii:[a-z-]+:[0-9a-f]{24}|redacted:[0-9a-f]{24})$/;

function secretField(text: string, key: string): boolean {
  return SECRET_FIELD.test(key) && text.length > 0 && !REDACTED.test(text);
}

export const DETECTORS: readonly Detector[] = [
  {
    kind: 'private-key',
    pattern: /-----BEGIN (?:RSA |EC |OPENSSH |ENCRYPTED )?PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
    mayMatch: (t) => t.includes('-----BEGIN '),
  },
  // A value behind a connection-string secret label is a secret whatever its length (a short
  // test key is still a key); so is a bare 64-byte storage key in base64.
  {
    kind: 'storage-secret',
    pattern: new RegExp(`${SECRET_LABEL_IN_TEXT}\\s*=\\s*[^;\\s"'<>,\\\\]+|(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])`, 'gi'),
    // Every label in the pattern is followed by `=`, and a bare key is 86 characters and `==`.
    mayMatch: (t) => t.includes('=') && (t.length >= 88 || /accountkey|sharedaccess|password|pwd/i.test(t)),
  },
  {
    kind: 'sas-token',
    pattern: /(?:[?&]|^)(?:sv=[^&\s]+&)?[^\s]*\bsig=[A-Za-z0-9%+/=]{16,}[^\s"]*/g,
    accept: (m) => /\bsig=/.test(m) && /\b(?:sv|se|sp|sr|st)=/.test(m),
    mayMatch: (t) => t.includes('sig='),
  },
  {
    kind: 'bearer-token',
    pattern: /\bBearer\s+[A-Za-z0-9\-._~+/]{20,}=*|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
    mayMatch: (t) => t.includes('Bearer') || t.includes('eyJ'),
  },
  // Not the `container@account` of storage URIs (abfss://raw@acct.dfs.core.windows.net/...), nor
  // git's ssh user: a local part right after `/` is a URI's user info, and Azure hosts no mailboxes.
  {
    kind: 'email',
    pattern: /(?<![/\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g,
    accept: (m) => !/^git@/i.test(m) && !/\.core\.windows\.net$|\.azure\.(com|net)$/i.test(m),
    mayMatch: (t) => t.includes('@'),
  },
  {
    kind: 'iban',
    pattern: /\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b/g,
    accept: (m) => ibanValid(m),
    mayMatch: hasIbanStart,
  },
  // Cards are written in groups of four (Amex 4-6-5), one separator throughout, or not at all.
  {
    kind: 'payment-card',
    pattern: /\b(?:\d{4}([ -]?)\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -]?)\d{6}\2\d{5})\b/g,
    accept: (m) => luhnValid(m.replace(/[ -]/g, '')) && !/^(\d)\1+$/.test(m.replace(/[ -]/g, '')),
    mayMatch: hasCardStretch,
  },
  // US SSN shape, with the ranges the SSA never issues ruled out.
  {
    kind: 'national-id',
    pattern: /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g,
    mayMatch: (t) => SSN_SHAPE.test(t),
  },
  {
    kind: 'phone',
    pattern: /(?<![\w.])\+\d{1,3}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){2,4}(?![\w.])/g,
    accept: (m) => m.replace(/\D/g, '').length >= 8,
    mayMatch: (t) => t.includes('+'),
  },
  {
    kind: 'ip-address',
    pattern:
      /(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w.])|(?<![\w:])(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?![\w:])/gi,
    // A dotted quad under a version-like key is a version, not an address.
    accept: (_m, key) => !VERSION_KEY.test(key),
    mayMatch: (t) => (count(t, '.', 3) && hasDigits(t, 4)) || count(t, ':', 7),
  },
];

/**
 * True when some detector's `mayMatch` could accept `text`: one pass over the characters that
 * every `mayMatch` above implies (an `=`, `@` or `+`; three dots and four digits; seven colons;
 * thirteen digits in a stretch of digits, spaces and dashes; the SSN shape; five dashes in a row; two capitals then two
 * digits; `Bearer` or `eyJ`). Most strings of an event (ids, names, times, paths) fail it and cost
 * no more than this loop. Like `mayMatch`, it only counts, so a part of a rejected text is rejected.
 */
export function mayHoldAny(text: string, start = 0, end = text.length): boolean {
  let digits = 0;
  // Digits since the last character that is not a digit, space or dash (hasCardStretch).
  let stretchDigits = 0;
  let dots = 0;
  let colons = 0;
  let dashes = 0;
  let dashRun = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    const kind = c < 128 ? CHAR_KIND[c] : OTHER;
    if (kind === DIGIT) {
      digits++;
      dashRun = 0;
      if (++stretchDigits >= CARD_DIGITS) return true;
      continue;
    }
    if (kind === DASH) {
      dashes++;
      if (++dashRun >= 5) return true;
      continue;
    }
    dashRun = 0;
    if (kind === SPACE) continue;
    stretchDigits = 0;
    switch (kind) {
      case OTHER:
        break;
      case TRIGGER:
        return true;
      case DOT:
        dots++;
        break;
      case COLON:
        colons++;
        break;
      case LOWER_E:
        if (text.startsWith('eyJ', i)) return true;
        break;
      case UPPER:
        if (c === 66 && text.startsWith('Bearer', i)) return true;
        if (i + 3 < end && isUpper(text.charCodeAt(i + 1)) && isDigit(text.charCodeAt(i + 2)) && isDigit(text.charCodeAt(i + 3)))
          return true;
        break;
    }
  }
  return (
    (dots >= 3 && digits >= 4) ||
    colons >= 7 ||
    (dashes >= 2 && digits >= 9 && SSN_SHAPE.test(start === 0 && end === text.length ? text : text.slice(start, end)))
  );
}

const OTHER = 0;
const DIGIT = 1;
const DASH = 2;
const TRIGGER = 3;
const DOT = 4;
const COLON = 5;
const LOWER_E = 6;
const UPPER = 7;
const SPACE = 8;
/** What `mayHoldAny` makes of each ASCII character. */
const CHAR_KIND = new Uint8Array(128);
for (let c = 48; c <= 57; c++) CHAR_KIND[c] = DIGIT;
for (let c = 65; c <= 90; c++) CHAR_KIND[c] = UPPER;
CHAR_KIND[45] = DASH;
for (const c of '=@+') CHAR_KIND[c.charCodeAt(0)] = TRIGGER;
CHAR_KIND[46] = DOT;
CHAR_KIND[58] = COLON;
CHAR_KIND[101] = LOWER_E;
CHAR_KIND[32] = SPACE;

/** The detectors whose cheap test `text` passes (`mayHoldAny` is true whenever this is not empty). */
export function detectorsThatMayMatch(text: string): Detector[] {
  return DETECTORS.filter((d) => d.mayMatch(text));
}

/**
 * Whether any part of `text` outside GUIDs could hold a finding: `mayHoldAny` on each part, without
 * splitting the text. False means redaction and the scan leave the text as it is.
 */
function mayHoldAnyOutsideGuids(text: string): boolean {
  if (!mayHoldAny(text)) return false;
  let from = 0;
  for (let at = guidAt(text, 0); at !== -1; at = guidAt(text, from)) {
    if (mayHoldAny(text, from, at)) return true;
    from = at + GUID_LENGTH;
  }
  return mayHoldAny(text, from);
}

const GUID_LENGTH = 36;
const isHex = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

/** Where the first GUID at or after `from` starts, or -1: where a GUID pattern (/[0-9a-f]{8}-…-[0-9a-f]{12}/gi) would match next, found without a pattern (test/unit/piiPrefilter.test.ts compares). */
export function guidAt(text: string, from: number): number {
  for (let dash = text.indexOf('-', from + 8); dash !== -1 && dash - 8 + GUID_LENGTH <= text.length; dash = text.indexOf('-', dash + 1)) {
    const start = dash - 8;
    if (isGuidAt(text, start)) return start;
  }
  return -1;
}

function isGuidAt(text: string, start: number): boolean {
  for (let i = 0; i < GUID_LENGTH; i++) {
    const c = text.charCodeAt(start + i);
    if (i === 8 || i === 13 || i === 18 || i === 23 ? c !== 45 : !isHex(c)) return false;
  }
  return true;
}

/**
 * `text` with `fn` applied to its parts outside GUIDs (GUIDs, subscription, experiment and dataset
 * ids, are never personal data, whatever digits they hold). A part `mayHoldAny` rules out is kept
 * as it is without calling `fn`: no detector could match in it.
 */
function outsideGuids(text: string, fn: (segment: string) => string): string {
  const part = (start: number, end: number) => (mayHoldAny(text, start, end) ? fn(text.slice(start, end)) : text.slice(start, end));
  let out = '';
  let from = 0;
  for (let at = guidAt(text, 0); at !== -1; at = guidAt(text, from)) {
    out += part(from, at) + text.slice(at, at + GUID_LENGTH);
    from = at + GUID_LENGTH;
  }
  return out + part(from, text.length);
}

function scanString(text: string, path: string, key: string, findings: PiiFinding[]): void {
  if (secretField(text, key)) {
    findings.push({ kind: 'storage-secret', path });
    return;
  }
  if (!mayHoldAnyOutsideGuids(text)) return;
  const candidates = detectorsThatMayMatch(text);
  if (candidates.length === 0) return;
  const found = new Set<PiiKind>();
  outsideGuids(text, (segment) => {
    for (const d of candidates) {
      if (found.has(d.kind) || !d.mayMatch(segment)) continue;
      d.pattern.lastIndex = 0;
      for (const m of segment.matchAll(d.pattern)) {
        if (!d.accept || d.accept(m[0], key)) {
          found.add(d.kind);
          findings.push({ kind: d.kind, path });
          break;
        }
      }
    }
    return segment;
  });
}

/**
 * Every kind of personal data or secret found in `value`, by field path (no values). Walks the
 * whole value, at any depth, as redaction does: what redaction reaches, the compliance scan reaches.
 */
export function scanPii(value: unknown): PiiFinding[] {
  const findings: PiiFinding[] = [];
  // Depth-first, in document order: a key's own text is scanned just before its value.
  const stack: Array<{ value: unknown; path: string; key: string } | { keyText: string; path: string }> = [{ value, path: '', key: '' }];
  while (stack.length > 0) {
    const item = stack.pop() as (typeof stack)[number];
    if ('keyText' in item) {
      // Keys can carry data too (tag names); scan them as text of their parent.
      scanString(item.keyText, `${item.path}{key}`, '', findings);
      continue;
    }
    const { value: v, path, key } = item;
    if (typeof v === 'string') scanString(v, path || '(root)', key, findings);
    else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: `${path}[${i}]`, key });
    } else if (v && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i] as [string, unknown];
        stack.push({ value: child, path: path ? `${path}.${k}` : k, key: k });
        stack.push({ keyText: k, path });
      }
    }
  }
  return findings;
}

export function redactText(text: string, hashKey: string, key: string): string {
  if (secretField(text, key)) return `pii:storage-secret:${pseudonym(text, hashKey).slice('redacted:'.length)}`;
  // A long text is looked up before it is scanned: finding it costs a hash, scanning it a loop in script.
  const long = text.length >= LONG_TEXT;
  if (long && CLEAN_TEXTS.get(text) === key) return text;
  if (!mayHoldAnyOutsideGuids(text)) {
    if (long) rememberClean(text, key);
    return text;
  }
  if (!long && CLEAN_TEXTS.get(text) === key) return text;
  const candidates = detectorsThatMayMatch(text);
  const out =
    candidates.length === 0
      ? text
      : outsideGuids(text, (segment) => {
          let out = segment;
          for (const d of candidates) {
            if (!d.mayMatch(out)) continue;
            d.pattern.lastIndex = 0;
            // E-mail addresses hash as identity fields do, so the same person joins across free text and identity fields.
            out = out.replace(d.pattern, (m) =>
              !d.accept || d.accept(m, key)
                ? `pii:${d.kind}:${d.kind === 'email' ? identityHash(m, hashKey) : pseudonym(m, hashKey).slice('redacted:'.length)}`
                : m,
            );
          }
          return out;
        });
  if (out === text) rememberClean(text, key);
  return out;
}

/**
 * Texts that held nothing to redact, each with the field it sat under (a field can decide a
 * finding: an IP address under a version-like key is a version): those the prefilter let through,
 * and long ones it cleared. The same workspace ids, repository URLs, AutoML pipeline specs, image
 * names and times recur event after event, and the detectors' patterns over them, then the scan
 * of long texts, were most of redaction's time. Whether a text holds a finding does not depend on
 * the hash key. Bounded: emptied when full; a text holding personal data is never kept, and is
 * redacted each time.
 */
const CLEAN_TEXTS = new Map<string, string>();
const CLEAN_TEXTS_MAX = 4096;
const CLEAN_TEXT_MAX_LENGTH = 4096;
/** Texts from this length on are remembered even when the prefilter alone cleared them (workspace ids, artifact paths). */
const LONG_TEXT = 64;

function rememberClean(text: string, key: string): void {
  if (text.length > CLEAN_TEXT_MAX_LENGTH) return;
  if (CLEAN_TEXTS.size >= CLEAN_TEXTS_MAX) CLEAN_TEXTS.clear();
  CLEAN_TEXTS.set(text, key);
}

/**
 * The same structure with every detected value replaced by a keyed, stable hash
 * (`pii:KIND:HASH`), so equal values still join; everything else is untouched. Keys can carry
 * data too (a tag named after a person's address): they are redacted like text. Any depth.
 */
export function redactPii<T>(value: T, hashKey: string): T {
  return rebuildJson(
    value,
    (v, place) => (typeof v === 'string' ? { value: redactText(v, hashKey, place.key) } : undefined),
    (k) => redactKey(k, hashKey),
  ) as T;
}

/**
 * Keys seen to hold nothing to redact. Events of one kind repeat the same keys (the engine even
 * shares their strings), so most keys are found here instead of scanned; a key that holds personal
 * data is never kept, and is scanned each time. Bounded: emptied when full.
 */
const CLEAN_KEYS = new Set<string>();
const CLEAN_KEYS_MAX = 4096;

/** An object key, redacted like text (keys can carry data too: a tag named after a person's address). */
export function redactKey(k: string, hashKey: string): string {
  if (CLEAN_KEYS.has(k)) return k;
  const out = redactText(k, hashKey, '');
  if (out === k) {
    if (CLEAN_KEYS.size >= CLEAN_KEYS_MAX) CLEAN_KEYS.clear();
    CLEAN_KEYS.add(k);
  }
  return out;
}
