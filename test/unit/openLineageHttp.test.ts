import { HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { apiKeyFrom, keyMatches, MAX_OPENLINEAGE_BODY, readJsonBody } from '../../shared/api/openLineageHttp.js';
import { DomainError } from '../../shared/errors.js';

const request = (headers: Record<string, string> = {}, query = '', body?: string) =>
  new HttpRequest({
    method: 'POST',
    url: `http://h/api/v1/lineage${query}`,
    headers,
    ...(body !== undefined ? { body: { string: body } } : {}),
  });

describe('the OpenLineage route reads its key where clients put it', () => {
  it('Authorization: Bearer (the HTTP transport api_key auth), x-functions-key, or code=', () => {
    expect(apiKeyFrom(request({ authorization: 'Bearer k1' }))).toBe('k1');
    expect(apiKeyFrom(request({ authorization: 'bearer   k1 ' }))).toBe('k1');
    expect(apiKeyFrom(request({ 'x-functions-key': 'k2' }))).toBe('k2');
    expect(apiKeyFrom(request({}, '?code=k3'))).toBe('k3');
    expect(apiKeyFrom(request({ authorization: 'Basic k1' }))).toBeUndefined();
    expect(apiKeyFrom(request())).toBeUndefined();
  });

  it('compares keys whole, whatever their length', () => {
    expect(keyMatches('secret-key', 'secret-key')).toBe(true);
    expect(keyMatches('secret-ke', 'secret-key')).toBe(false);
    expect(keyMatches('secret-key-and-more', 'secret-key')).toBe(false);
    expect(keyMatches(undefined, 'secret-key')).toBe(false);
    expect(keyMatches('', 'secret-key')).toBe(false);
  });

  it('bodies: JSON within the limit, not an empty array', async () => {
    await expect(readJsonBody(request({}, '', '[{"a":1}]'))).resolves.toEqual([{ a: 1 }]);
    const refusal = async (body: string, headers: Record<string, string> = {}) =>
      readJsonBody(request(headers, '', body)).then(
        () => undefined,
        (e: unknown) => (e as DomainError).code,
      );
    expect(await refusal('{')).toBe('invalid-request');
    expect(await refusal('[]')).toBe('invalid-request');
    expect(await refusal(`"${'x'.repeat(MAX_OPENLINEAGE_BODY)}"`)).toBe('payload-too-large');
    expect(await refusal('{}', { 'content-length': String(MAX_OPENLINEAGE_BODY + 1) })).toBe('payload-too-large');
  });
});
