import { describe, expect, it } from 'vitest';
import { parseNcrontab } from '../../infra/local/ncrontab.js';
import { compileRoute } from '../../infra/local/routes.js';
import { resolveSetting } from '../../infra/local/bindingOptions.js';
import { sameKey } from '../../infra/local/host.js';

describe('NCRONTAB schedules (timer triggers)', () => {
  const next = (expr: string, from: string) => parseNcrontab(expr).next(new Date(from)).toISOString();

  it('fires on the next matching second', () => {
    expect(next('*/5 * * * * *', '2024-01-01T00:00:02Z')).toBe('2024-01-01T00:00:05.000Z');
    expect(next('0 */5 * * * *', '2024-01-01T00:03:10Z')).toBe('2024-01-01T00:05:00.000Z');
    expect(next('0 30 9 * * *', '2024-01-01T10:00:00Z')).toBe('2024-01-02T09:30:00.000Z');
  });

  it('understands day-of-week and month names, ranges and lists', () => {
    expect(next('0 0 6 * * Mon', '2024-01-03T00:00:00Z')).toBe('2024-01-08T06:00:00.000Z'); // 2024-01-08 is a Monday
    expect(next('0 0 0 1 Mar,Jun *', '2024-01-15T00:00:00Z')).toBe('2024-03-01T00:00:00.000Z');
    expect(next('0 0 9-17/4 * * 1-5', '2024-01-06T12:00:00Z')).toBe('2024-01-08T09:00:00.000Z');
  });

  it('refuses five-field and out-of-range expressions with a message', () => {
    expect(() => parseNcrontab('*/5 * * * *')).toThrow(/six-field/);
    expect(() => parseNcrontab('0 61 * * * *')).toThrow(/minute "61"/);
  });
});

describe('route templates', () => {
  it('matches literal routes, parameters, optional and catch-all segments', () => {
    expect(compileRoute('lineage').match('/lineage')).toEqual({});
    expect(compileRoute('lineage').match('/lineage/as-of')).toBeUndefined();
    expect(compileRoute('requests/{requestId}').match('/requests/abc%2Fdef')).toEqual({ requestId: 'abc/def' });
    expect(compileRoute('items/{id:int?}').match('/items')).toEqual({});
    expect(compileRoute('files/{*path}').match('/files/a/b/c')).toEqual({ path: 'a/b/c' });
  });
});

describe('%SETTING% indirection in binding options', () => {
  it('resolves from app settings and names a missing one', () => {
    expect(resolveSetting('%HUB%', { HUB: 'insights-logs' })).toBe('insights-logs');
    expect(resolveSetting('literal', {})).toBe('literal');
    expect(() => resolveSetting('%MISSING%', {})).toThrow(/MISSING is not set/);
  });
});

describe('function keys (hole 12)', () => {
  it('compares keys by their SHA-256 digests with timingSafeEqual, so neither length nor prefix shows in the time taken', () => {
    expect(sameKey('secret-key', 'secret-key')).toBe(true);
    expect(sameKey('secret-kez', 'secret-key')).toBe(false);
    expect(sameKey('secret', 'secret-key')).toBe(false);
    expect(sameKey('', 'secret-key')).toBe(false);
    expect(sameKey('x'.repeat(10_000), 'secret-key')).toBe(false);
  });
});
