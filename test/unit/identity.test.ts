import { describe, expect, it } from 'vitest';
import { pseudonym, redactIdentities } from '../../shared/privacy/identity.js';
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
    expect(out.systemData.createdBy).toMatch(/^redacted:/);
    expect(out.systemData.createdAt).toBe('2024-01-01T00:00:00Z');
    const write = fixture<Array<{ data: Record<string, unknown> }>>('azureml-eventgrid/eventgrid-ResourceWriteSuccess.json')[0];
    expect(JSON.stringify(redactIdentities(write, 'k'.repeat(32)))).not.toContain('{user-name}');
  });
});
