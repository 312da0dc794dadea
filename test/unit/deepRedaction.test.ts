import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanDocument } from '../../shared/compliance/piiCheck.js';
import { redactIdentities } from '../../shared/privacy/identity.js';
import { redactPii, scanPii } from '../../shared/privacy/pii.js';
import { canonicalJson } from '../../shared/util/canonicalJson.js';
import { nested } from '../helpers/hostile.js';

/** Redaction and the compliance scan reach personal data at any depth (hole 3). */
const KEY = 'deep-redaction-key-0123456789';
const EMAIL = 'jane.doe@contoso.com';
const IP = '203.0.113.70';

/** A record holding an IP under an identity key and an e-mail in free text, `depth` levels down. */
const deepRecord = (depth: number) => nested(depth, { callerIpAddress: IP, note: `owner ${EMAIL}`, seenFrom: [`from ${IP}`] });

describe('redaction has no depth limit (hole 3)', () => {
  for (const depth of [70, 10_000]) {
    it(`identity and PII redaction replace values ${depth} levels down`, () => {
      const text = canonicalJson(redactPii(redactIdentities(deepRecord(depth), KEY), KEY));
      expect(text).not.toContain(EMAIL);
      expect(text).not.toContain(IP);
      expect(text).toMatch(/"callerIpAddress":"redacted:[0-9a-f]{24}"/);
      expect(text).toContain('"note":"owner pii:email:');
    });

    it(`the PII scan finds them ${depth} levels down, with their paths`, () => {
      const findings = scanPii(deepRecord(depth));
      expect(findings.map((f) => f.kind).sort()).toEqual(['email', 'ip-address', 'ip-address']);
      expect(findings.find((f) => f.kind === 'email')?.path).toBe(`${Array<string>(depth).fill('n').join('.')}.note`);
    });
  }

  it('the compliance scan of a stored raw event reports a value 70 levels down', () => {
    const items = scanDocument('events', { id: 'e1', pk: 'e1', _ts: 1, _etag: 'e', eventType: 'X', body: deepRecord(70) });
    expect(items.map((i) => i.kind).sort()).toEqual(['email', 'ip-address', 'ip-address']);
  });

  it('redacts keys and array elements at depth as at the top', () => {
    const deep = nested(200, { [`${EMAIL}`]: 'x', list: [[`${IP}`]] }, 'array');
    const text = canonicalJson(redactPii(deep, KEY));
    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain(IP);
  });

  it('gives the same result as before on shallow values (same hashes, same order of keys)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.constantFrom(EMAIL, IP, '1.2.3.4', 'x'), (value, extra) => {
        const input = { value, extra, callerIpAddress: extra, nested: [{ upn: extra, v: value }] };
        const once = redactPii(redactIdentities(input, KEY), KEY);
        // Idempotent: a replay of a stored (already redacted) event stores the same thing.
        expect(canonicalJson(redactPii(redactIdentities(once, KEY), KEY))).toBe(canonicalJson(once));
        expect(Object.keys(once)).toEqual(Object.keys(input));
      }),
      { numRuns: 300 },
    );
  });
});
