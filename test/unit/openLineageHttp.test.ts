import { gzipSync } from 'node:zlib';
import { HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { apiKeyFrom, keyMatches, MAX_OPENLINEAGE_BODY, readJsonBody } from '../../shared/api/openLineageHttp.js';
import { DomainError } from '../../shared/errors.js';

const request = (headers: Record<string, string> = {}, query = '', body?: string | Buffer) =>
  new HttpRequest({
    method: 'POST',
    url: `http://h/api/v1/lineage${query}`,
    headers,
    ...(typeof body === 'string' ? { body: { string: body } } : body ? { body: { bytes: body } } : {}),
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

  it('bodies compressed with gzip (the transport compression option), the limit counted decompressed', async () => {
    const gz = { 'content-encoding': 'gzip' };
    await expect(readJsonBody(request(gz, '', gzipSync('[{"a":1}]')))).resolves.toEqual([{ a: 1 }]);
    // Declared gzip but already plain (decompressed in front): read as it is.
    await expect(readJsonBody(request(gz, '', '{"a":2}'))).resolves.toEqual({ a: 2 });
    const refusal = async (body: string | Buffer, headers: Record<string, string>) =>
      readJsonBody(request(headers, '', body)).then(
        () => undefined,
        (e: unknown) => [(e as DomainError).code, (e as DomainError).message],
      );
    const bomb = gzipSync(`"${'x'.repeat(MAX_OPENLINEAGE_BODY)}"`);
    expect(bomb.length).toBeLessThan(MAX_OPENLINEAGE_BODY / 100);
    expect(await refusal(bomb, gz)).toEqual(['payload-too-large', expect.stringContaining('decompressed')]);
    expect(await refusal(Buffer.from([0x1f, 0x8b, 1, 2, 3]), gz)).toEqual(['invalid-request', expect.stringContaining('gzip')]);
    expect(await refusal('{}', { 'content-encoding': 'br' })).toEqual(['invalid-request', expect.stringContaining('br')]);
  });
});
