import { describe, expect, it } from 'vitest';
import { ibanValid, luhnValid, redactPii, scanPii, type PiiKind } from '../../shared/privacy/pii.js';
import { fixture } from '../helpers/fixtures.js';

const KEY = 'pii-test-key-0123456789';
const kinds = (value: unknown, key = 'note') => scanPii({ [key]: value }).map((f) => f.kind);

describe('PII and secrets in lineage metadata: true positives', () => {
  it.each<[string, PiiKind]>([
    ['owner: jane.doe@contoso.com', 'email'],
    ['mailto:jane.doe@contoso.com', 'email'],
    ['contact <j.smith+ml@example.org>', 'email'],
    ['call +44 20 7946 0958 after 5', 'phone'],
    ['ssn 123-45-6789', 'national-id'],
    ['card 4111 1111 1111 1111', 'payment-card'],
    ['pay to GB82 WEST 1234 5698 7654 32', 'iban'],
    ['DE89370400440532013000', 'iban'],
    ['client 203.0.113.7 called', 'ip-address'],
    ['2001:0db8:85a3:0000:0000:8a2e:0370:7334', 'ip-address'],
    [
      'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;EndpointSuffix=core.windows.net',
      'storage-secret',
    ],
    [
      'https://acct.blob.core.windows.net/c/x.csv?sv=2022-11-02&ss=b&srt=o&sp=r&se=2024-12-31T00:00:00Z&sig=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789%2B%3D',
      'sas-token',
    ],
    ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'bearer-token'],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----', 'private-key'],
  ])('%s', (text, kind) => {
    expect(kinds(text)).toContain(kind);
  });
});

describe('near misses stay untouched', () => {
  it.each([
    ['a version string', '1.2.3.4', 'version'],
    ['a GUID', '0fa9dfaa-cba3-4fa7-b590-23e48548f5c1', 'experimentId'],
    ['a git commit', '4d2b93784676893f8e346d5f0b9fb894a9cf0742', 'commit'],
    ['a sha256 hash', 'sha256:0c1ff1de70b1e840ee0f98a9a73db8de0cddba14294fcffd93dc04db3df17042', 'hash'],
    ['a timestamp', '2017-06-26T18:41:00.9584103Z', 'eventTime'],
    ['a card-length number failing Luhn', '4111 1111 1111 1112', 'note'],
    ['an IBAN-shaped string failing mod 97', 'GB82 WEST 1234 5698 7654 33', 'note'],
    ['an epoch-ms run id', '01d29aa4-e6a4-470a-9ef3-66660d21f8ef_1571590300380', 'RunId'],
    ['a git remote', 'git@github.com:azure/machinelearningnotebooks', 'azureml.git.repository_uri'],
    ['a float', '0.83503490684792081', 'coefficient'],
    ['a reserved SSN range', '000-12-3456', 'note'],
    ['an ADLS Gen2 URI (container@account)', 'abfss://raw@contosodata.dfs.core.windows.net/loans/2024/', 'path'],
    ['a WASB URI', 'wasbs://c@acct.blob.core.windows.net/data.csv', 'path'],
  ])('%s', (_name, text, key) => {
    expect(kinds(text, key)).toEqual([]);
  });

  it('the Azure ML Event Grid fixtures carry no findings', () => {
    for (const type of ['ModelRegistered', 'ModelDeployed', 'RunCompleted', 'RunStatusChanged', 'DatasetDriftDetected']) {
      expect(scanPii(fixture(`azureml-eventgrid/eventgrid-${type}.json`)), type).toEqual([]);
    }
  });
});

describe('checksums', () => {
  it('Luhn and mod-97 accept valid numbers and refuse others', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(ibanValid('GB82WEST12345698765432')).toBe(true);
    expect(ibanValid('GB82WEST12345698765433')).toBe(false);
  });
});

describe('redaction', () => {
  it('replaces each finding with a keyed, stable hash, reports paths without values, and leaves the rest', () => {
    const tags = { owner: 'jane.doe@contoso.com', reviewer: 'jane.doe@contoso.com', team: 'risk', version: '1.2.3.4' };
    const out = redactPii(tags, KEY);
    expect(out.owner).toMatch(/^pii:email:[0-9a-f]{24}$/);
    expect(out.reviewer).toBe(out.owner); // equal values still join
    expect(out).toMatchObject({ team: 'risk', version: '1.2.3.4' });
    const findings = scanPii({ tags });
    expect(findings).toEqual([
      { kind: 'email', path: 'tags.owner' },
      { kind: 'email', path: 'tags.reviewer' },
    ]);
    expect(JSON.stringify(findings)).not.toContain('jane');
    expect(scanPii(out)).toEqual([]);
  });
});

describe('GUIDs are never personal data', () => {
  it('a subscription id whose digits would pass Luhn is left alone', () => {
    const id = '/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-ml';
    expect(scanPii({ topic: id })).toEqual([]);
    expect(redactPii({ topic: id }, KEY).topic).toBe(id);
    expect(kinds('4111-1111-1111-1111')).toContain('payment-card');
  });
});
