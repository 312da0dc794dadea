import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DETECTORS, detectorsThatMayMatch, guidAt, mayHoldAny, redactPii, redactText, scanPii } from '../../shared/privacy/pii.js';

/**
 * Redaction skips a string when one pass over its characters says no detector could match it
 * (issue 17 item 5). That pass must never say no where a detector's own test says maybe, or a
 * secret would be stored in clear.
 */
const KEY = 'pii-prefilter-key-0123456789';

/** Characters every detector's test looks for, so random strings often come close. */
const TRIGGERS = [...'0123456789=@+.:-BeyJearrAZGBW sig/?&_'].map((c) => fc.constant(c));
const nearMiss = fc
  .array(fc.oneof(...TRIGGERS, fc.constantFrom('Bearer ', 'eyJ', '-----BEGIN ', 'sig=', 'GB82', '123-45-6789', '1234', '20240101')), {
    maxLength: 60,
  })
  .map((parts) => parts.join(''));

/** Digits, dashes and dots alone: the counting rules (runs of four, the SSN shape, dotted quads) decide. */
const digitsOnly = fc
  .array(fc.constantFrom('1234', '123', '12', '1', ' ', '-', '.', ':', '::', 'a', 'Z'), { maxLength: 30 })
  .map((parts) => parts.join(''));

describe('the one-pass prefilter of PII redaction', () => {
  it('is true wherever some detector may match, and for every substring test', () => {
    fc.assert(
      fc.property(fc.oneof(nearMiss, digitsOnly, fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 })), (text) => {
        if (detectorsThatMayMatch(text).length > 0) expect(mayHoldAny(text)).toBe(true);
        for (let i = 0; i < text.length; i += 7) {
          const part = text.slice(i, i + 13);
          if (detectorsThatMayMatch(part).length > 0) expect(mayHoldAny(text, i, Math.min(text.length, i + 13))).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("lets no detector's pattern match where its own cheap test says no", () => {
    const cards = fc
      .array(fc.constantFrom('4111', '1111', '378282', '246310005', ' ', '-', 'a', '_', '.', '0', '12'), { maxLength: 14 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(nearMiss, digitsOnly, cards, fc.string({ maxLength: 80 })), (text) => {
        for (const d of DETECTORS) {
          if (d.mayMatch(text)) continue;
          d.pattern.lastIndex = 0;
          expect(
            [...text.matchAll(d.pattern)].map((m) => m[0]),
            `${d.kind} in ${JSON.stringify(text)}`,
          ).toEqual([]);
        }
      }),
      { numRuns: 5000 },
    );
    // Hex ids and hashes hold many digits but no card-shaped stretch of them.
    expect(mayHoldAny('5adc0a4fe02504a586f09a4fcbb241f9a4012062')).toBe(false);
    expect(mayHoldAny('4111-1111-1111-1111')).toBe(true);
  });

  it('remembers a clean text only with the field it was clean under', () => {
    // Under a version-like key a dotted quad is a version; under any other it is an address.
    for (let i = 0; i < 3; i++) expect(redactText('10.1.2.3', KEY, 'version')).toBe('10.1.2.3');
    expect(redactText('10.1.2.3', KEY, 'note')).toMatch(/^pii:ip-address:[0-9a-f]{24}$/);
    expect(redactText('10.1.2.3', KEY, 'version')).toBe('10.1.2.3');
    // A secret field's value is redacted whatever was remembered of the same text elsewhere.
    expect(redactText('s3cret=1.2', KEY, 'note')).toBe('s3cret=1.2');
    expect(redactText('s3cret=1.2', KEY, 'password')).toMatch(/^pii:storage-secret:/);
  });

  it('says no for the plain strings of an event, and redaction leaves them as they are', () => {
    const plain = [
      '/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws',
      'experiments/85e03202-4d36-4cc7-a7cb-91010277b28f/runs/AutoML_aa46bf24-e69f-494d-a81e-1a634262a2c2_0',
      '2024-01-01T00:00:01.4790244Z',
      'models/demand-forecast:1',
    ];
    for (const text of plain) expect(redactPii({ note: text }, KEY).note).toBe(text);
    expect(mayHoldAny('2024-01-01T00:00:01.4790244Z')).toBe(false);
    expect(mayHoldAny('Microsoft.MachineLearningServices.RunStatusChanged')).toBe(false);
  });

  it('still finds what sits between GUIDs', () => {
    const text =
      '85e03202-4d36-4cc7-a7cb-91010277b28f mail jane.doe@contoso.com 85e03202-4d36-4cc7-a7cb-91010277b28f card 4111 1111 1111 1111';
    expect(
      scanPii({ note: text })
        .map((f) => f.kind)
        .sort(),
    ).toEqual(['email', 'payment-card']);
    const redacted = redactPii({ note: text }, KEY).note;
    expect(redacted).not.toContain('jane.doe');
    expect(redacted).not.toContain('4111 1111');
    expect(redacted).toContain('85e03202-4d36-4cc7-a7cb-91010277b28f mail pii:email:');
  });

  it('finds GUIDs where the GUID pattern does (leftmost, not overlapping, any case)', () => {
    const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
    const piece = fc.constantFrom('85e03202-4d36-4cc7-a7cb-91010277b28f', 'AB12CD34-', '-4d36-', 'f', '0', '-', 'x', 'E');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), (parts) => {
        const text = parts.join('');
        const expected = [...text.matchAll(GUID)].map((m) => m.index);
        const found: number[] = [];
        for (let at = guidAt(text, 0); at !== -1; at = guidAt(text, at + 36)) found.push(at);
        expect(found).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
