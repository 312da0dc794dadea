import { describe, expect, it } from 'vitest';
import { identityHash, pseudonym, redactIdentities } from '../../shared/privacy/identity.js';
import { redactPii } from '../../shared/privacy/pii.js';
import { fixture } from '../helpers/fixtures.js';

describe('caller identities are replaced before anything is stored', () => {
  it('replaces IPs, claims, user names and user agents with keyed, stable hashes', () => {
    const record = fixture<{ records: Array<Record<string, unknown>> }>('azure-monitor/activitylog-eventhubs-Write-supporttickets.json')
      .records[0] as Record<string, unknown>;
    const redacted = redactIdentities(record, 'k'.repeat(32));
    const text = JSON.stringify(redacted);
    expect(text).not.toContain(String(record.callerIpAddress));
    expect(text).not.toMatch(/"claims":\{/);
    expect(redacted.callerIpAddress).toMatch(/^redacted:[0-9a-f]{24}$/);
    // Everything else is untouched.
    expect(redacted.operationName).toBe(record.operationName);
    expect(redacted.resourceId).toBe(record.resourceId);
  });

  it('equal values give equal hashes under one key, different hashes under another', () => {
    expect(pseudonym('10.0.0.1', 'key-one-0123456789')).toBe(pseudonym('10.0.0.1', 'key-one-0123456789'));
    expect(pseudonym('10.0.0.1', 'key-one-0123456789')).not.toBe(pseudonym('10.0.0.1', 'key-two-0123456789'));
  });

  it('keeps a managed-identity block on ARM resources, redacts REST systemData authors and Event Grid claims', () => {
    const resource = {
      identity: { type: 'SystemAssigned', principalId: 'p' },
      systemData: { createdBy: 'jane@contoso.com', createdAt: '2024-01-01T00:00:00Z' },
    };
    const out = redactIdentities(resource, 'k'.repeat(32));
    expect(out.identity).toEqual({ type: 'SystemAssigned', principalId: 'p' });
    expect(out.systemData.createdBy).toMatch(/^identity:[0-9a-f]{24}$/);
    expect(out.systemData.createdAt).toBe('2024-01-01T00:00:00Z');
    const write = fixture<Array<{ data: Record<string, unknown> }>>('azureml-eventgrid/eventgrid-ResourceWriteSuccess.json')[0];
    expect(JSON.stringify(redactIdentities(write, 'k'.repeat(32)))).not.toContain('{user-name}');
  });
});

describe('one rule for every identity field', () => {
  const key = 'k'.repeat(32);

  it('hashes a person alike in every field (systemData, tags, MLflow pairs, rule-named fields) and hands over the clear value to seal', () => {
    const found = new Map<string, string>();
    const out = redactIdentities(
      {
        systemData: { createdBy: 'Alice Smith', lastModifiedBy: 'alice@contoso.com' },
        tags: { approved_by: 'ALICE@contoso.com', approver: 'Alice Smith', reviewed_by: 'Bob Jones', team: 'risk' },
        run: {
          data: {
            tags: [
              { key: 'mlflow.user', value: 'Alice Smith' },
              { key: 'mlflow.runName', value: 'train' },
            ],
          },
          info: { user_id: 'Alice Smith' },
        },
      },
      key,
      { personKeys: ['reviewed_by'], found },
    );
    const token = `identity:${identityHash('Alice Smith', key)}`;
    expect(out.systemData.createdBy).toBe(token);
    expect(out.tags.approver).toBe(token);
    expect(out.run.data.tags[0]).toEqual({ key: 'mlflow.user', value: token });
    expect(out.run.info.user_id).toBe(token);
    expect(out.run.data.tags[1]).toEqual({ key: 'mlflow.runName', value: 'train' });
    // E-mail addresses hash in lower case, in identity fields and in free text alike.
    expect(out.tags.approved_by).toBe(out.systemData.lastModifiedBy);
    expect(redactPii('mail ALICE@contoso.com', key)).toBe(`mail pii:email:${identityHash('alice@contoso.com', key)}`);
    expect(out.tags.reviewed_by).toMatch(/^identity:/);
    expect(out.tags.team).toBe('risk');
    expect(JSON.stringify(out)).not.toMatch(/Alice|alice|Bob/);
    expect([...found.values()].sort()).toEqual(['Alice Smith', 'Bob Jones', 'alice@contoso.com']);
  });

  it('keeps Entra object ids as given, and leaves hashed values alone (replays are idempotent)', () => {
    const oid = '0d4e6f8a-1b3c-4d5e-9f70-a1b2c3d4e5f6';
    const once = redactIdentities({ UserObjectId: oid, approver: oid, caller: 'carol@contoso.com' }, key);
    expect(once).toMatchObject({ UserObjectId: oid, approver: oid, caller: expect.stringMatching(/^identity:/) });
    expect(redactIdentities(once, key)).toEqual(once);
  });
});
