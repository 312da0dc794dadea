import { describe, expect, it } from 'vitest';
import { redactPii, scanPii } from '../../shared/privacy/pii.js';

/** Secrets behind connection-string labels, whatever their length (hole 4). */
const KEY = 'connection-secrets-key-0123456789';
const kinds = (value: unknown, key = 'note') => scanPii({ [key]: value }).map((f) => f.kind);

describe('connection-string secrets are found by their label (hole 4)', () => {
  it.each([
    'AccountKey=abc123XYZ==',
    'accountkey=a',
    'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=shortKey1;EndpointSuffix=core.windows.net',
    'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=k9',
    'BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&sig=abc',
    'Server=tcp:db.example.net;User ID=app;Password=hunter2;',
    'Driver={ODBC};Pwd=x1;',
    'StorageAccountKey = tiny',
  ])('%s', (text) => {
    expect(kinds(text)).toContain('storage-secret');
  });

  it('a value under a secret label key is a secret whatever its length', () => {
    expect(kinds('abc', 'AccountKey')).toEqual(['storage-secret']);
    expect(kinds('x', 'sharedAccessKey')).toEqual(['storage-secret']);
    expect(kinds(['p1', 'p2'], 'password')).toEqual(['storage-secret', 'storage-secret']);
  });

  it('redaction removes the value, keeps the rest of the string, and is idempotent', () => {
    const text = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=abc123XYZ==;EndpointSuffix=core.windows.net';
    const once = redactPii({ conn: text, AccountKey: 'abc', nested: { sharedaccesskey: 'z' } }, KEY);
    const json = JSON.stringify(once);
    expect(json).not.toContain('abc123XYZ');
    expect(once.conn).toMatch(
      /^DefaultEndpointsProtocol=https;AccountName=acct;pii:storage-secret:[0-9a-f]{24};EndpointSuffix=core\.windows\.net$/,
    );
    expect(once.AccountKey).toMatch(/^pii:storage-secret:[0-9a-f]{24}$/);
    expect(once.nested.sharedaccesskey).toMatch(/^pii:storage-secret:/);
    expect(redactPii(once, KEY)).toEqual(once);
    expect(scanPii(once)).toEqual([]);
  });

  it('labels that are not secrets, and empty values, are left alone', () => {
    for (const text of [
      'SharedAccessKeyName=RootManageSharedAccessKey',
      'AccountName=acct',
      'AccountKey=',
      'set the AccountKey setting',
      'Password policy',
    ]) {
      expect(kinds(text), text).toEqual([]);
    }
    expect(kinds('', 'password')).toEqual([]);
  });
});

describe('secrets inside JSON text bodies (found by the fuzz suite)', () => {
  it('redaction stops at an escape, so a redacted JSON text still parses', () => {
    const body = JSON.stringify({ conn: 'AccountKey=abc"; rest', other: 'AccountKey=k\\n' });
    const redacted = redactPii({ body }, KEY).body;
    expect(redacted).not.toContain('abc');
    expect(() => JSON.parse(redacted) as unknown).not.toThrow();
  });
});
