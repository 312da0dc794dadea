import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_IDS } from '../../infra/local/azureMlStandIn/index.js';
import { loadSettings } from '../../shared/config.js';
import { parseArmId } from '../../shared/graph/keys.js';
import { emptyDelta } from '../../shared/graph/model.js';
import { approvalsFromRules, DEFAULT_APPROVAL_RULES, identityFieldsOf, parseApprovalRules } from '../../shared/ingest/approvals.js';
import { normalizeMonitorRecord } from '../../shared/ingest/monitor/categories.js';
import { normalize } from '../../shared/ingest/normalize.js';
import { EnvelopeCipher } from '../../shared/privacy/envelope.js';
import { KeyVaultWrapper, LocalKeyFileWrapper } from '../../shared/store/identityKeys.js';
import { compareMetric, metricDirection, parseMetricDirections } from '../../shared/usecases/metrics.js';
import { meetsThreshold, parseThreshold } from '../../shared/util/metricThreshold.js';
import { startKeyVaultStandIn, type KeyVaultStandIn } from '../helpers/keyVaultStandIn.js';
import { activityWrite } from '../helpers/monitorRecords.js';

/** The pure parts of the quality record: metric directions, thresholds, approval rules and sources, envelope encryption. */
const base = { COSMOS_ENDPOINT: 'https://127.0.0.1:8081/', STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' };

describe('metrics: direction and comparison', () => {
  it('knows common names, honours METRIC_DIRECTIONS, and leaves the unknown without a direction', () => {
    expect(['auc', 'roc_auc', 'accuracy', 'f1', 'val_accuracy', 'r2'].map((n) => metricDirection(n))).toEqual(Array(6).fill('higher'));
    expect(['loss', 'log_loss', 'val_loss', 'rmse', 'mae', 'train_error'].map((n) => metricDirection(n))).toEqual(Array(6).fill('lower'));
    expect(metricDirection('training_time_s')).toBeUndefined();
    expect(metricDirection('auc', parseMetricDirections('auc:lower, latency_ms:lower'))).toBe('lower');
    expect(() => parseMetricDirections('auc:up')).toThrow(/auc:up/);
  });

  it('says from, to, delta and better or worse', () => {
    expect(compareMetric('auc', 0.781, 0.803)).toEqual({
      name: 'auc',
      from: 0.781,
      to: 0.803,
      delta: 0.022,
      direction: 'higher',
      verdict: 'better',
    });
    expect(compareMetric('log_loss', 0.412, 0.395)).toMatchObject({ delta: -0.017, verdict: 'better' });
    expect(compareMetric('f1', 0.611, 0.598)).toMatchObject({ delta: -0.013, verdict: 'worse' });
    expect(compareMetric('rows', 1, 2)).toMatchObject({ verdict: 'changed', direction: null });
    expect(compareMetric('auc', undefined, 0.8)).toMatchObject({ verdict: 'added', delta: null });
    expect(compareMetric('auc', 0.8, undefined)).toMatchObject({ verdict: 'removed' });
  });
});

describe('gate thresholds', () => {
  it('parse metric:NAME>=VALUE and its siblings, and compare', () => {
    expect(parseThreshold('metric:auc>=0.8')).toEqual({ requirement: 'metric:auc>=0.8', name: 'auc', op: '>=', value: 0.8 });
    expect(parseThreshold('metric:log_loss < .5')).toMatchObject({ name: 'log_loss', op: '<', value: 0.5 });
    expect(parseThreshold('metric:val.acc>1e-2')).toMatchObject({ name: 'val.acc', value: 0.01 });
    for (const bad of ['metric:auc', 'metric:>=1', 'metric:auc>=x', 'auc>=1']) expect(parseThreshold(bad), bad).toBeUndefined();
    expect(meetsThreshold(0.803, parseThreshold('metric:auc>=0.8')!)).toBe(true);
    expect(meetsThreshold(0.803, parseThreshold('metric:auc>0.85')!)).toBe(false);
    expect(meetsThreshold(0.395, parseThreshold('metric:log_loss<=0.4')!)).toBe(true);
  });

  it('GATE_REQUIRE accepts thresholds beside the named requirements and refuses anything else, naming the grammar', () => {
    expect(loadSettings({ ...base, GATE_REQUIRE: 'data, metric:auc>=0.8,approval' }).GATE_REQUIRE).toEqual([
      'data',
      'metric:auc>=0.8',
      'approval',
    ]);
    expect(() => loadSettings({ ...base, GATE_REQUIRE: 'data,metric:auc=>0.8' })).toThrow(/GATE_REQUIRE.*metric:NAME>=VALUE/);
    expect(() => loadSettings({ ...base, METRIC_DIRECTIONS: 'auc:sideways' })).toThrow(/METRIC_DIRECTIONS/);
    expect(() => loadSettings({ ...base, APPROVAL_RULES: 'label:x=y' })).toThrow(/APPROVAL_RULES/);
  });
});

describe('approvals from rules', () => {
  const v2 = parseArmId(SAMPLE_IDS.models.v2)!;
  const withModel = (facts: Record<string, unknown>) => {
    const delta = emptyDelta();
    delta.nodes.push({ ref: v2, facts });
    return delta;
  };
  const approvals = (delta: ReturnType<typeof emptyDelta>) => delta.nodes.filter((n) => n.ref.kind === 'approval').map((n) => n.facts);

  it('the defaults: a stage tag or registry stage of production/approved, an approved_by or approver tag', () => {
    const rules = parseApprovalRules(DEFAULT_APPROVAL_RULES);
    const tagged = withModel({ tags: { stage: 'Production', approved_by: 'identity:0123456789abcdef01234567' } });
    approvalsFromRules(tagged, rules, '2024-04-16T09:00:00Z');
    expect(approvals(tagged)).toEqual([
      expect.objectContaining({
        decision: 'approved',
        source: 'tag',
        by: 'identity:0123456789abcdef01234567',
        at: '2024-04-16T09:00:00Z',
        rule: 'tag:stage=production|approved',
      }),
      expect.objectContaining({ decision: 'approved', source: 'tag', rule: 'tag:approved_by=*' }),
    ]);
    expect(tagged.edges.map((e) => `${e.from.label} -${e.kind}-> ${e.to.label}`)).toEqual([
      'approval of credit-default:2 (tag) -approvalOf-> credit-default:2',
      'approval of credit-default:2 (tag) -approvalOf-> credit-default:2',
    ]);
    const staged = withModel({ stage: 'Approved' });
    approvalsFromRules(staged, rules, '2024-04-16T09:00:00Z');
    expect(approvals(staged)).toEqual([expect.objectContaining({ source: 'stage' })]);
    const candidate = withModel({ tags: { stage: 'candidate' } });
    approvalsFromRules(candidate, rules, '2024-04-16T09:00:00Z');
    expect(approvals(candidate)).toEqual([]);
  });

  it('custom rules decide rejections too, and name the fields that hold people', () => {
    const rules = parseApprovalRules('rejected@tag:review=rejected|declined;property:signed_off_by=*');
    expect(identityFieldsOf(rules)).toEqual(['signed_off_by']);
    const delta = withModel({ tags: { review: 'Declined' }, properties: { signed_off_by: 'identity:aaaaaaaaaaaaaaaaaaaaaaaa' } });
    approvalsFromRules(delta, rules, '2024-04-16T09:00:00Z');
    expect(approvals(delta).map((a) => [a.decision, a.source, a.by])).toEqual([
      ['rejected', 'tag', undefined],
      ['approved', 'property', 'identity:aaaaaaaaaaaaaaaaaaaaaaaa'],
    ]);
    expect(() => parseApprovalRules('tag:stage')).toThrow(/tag:stage/);
  });
});

describe('approvals from pipelines and from the Activity Log', () => {
  it('a posted decision projects an approval node linked to its model version', () => {
    const n = normalize(
      'approval',
      {
        kind: 'approval',
        id: 'gh-991-1',
        model: { key: SAMPLE_IDS.models.v3.toLowerCase(), label: 'credit-default:3', workspace: SAMPLE_IDS.workspace.toLowerCase() },
        decision: 'approved',
        approver: 'identity:0123456789abcdef01234567',
        at: '2024-05-03T10:00:00Z',
        ticket: 'CHG-1042',
        link: 'https://github.com/contoso/credit-models/actions/runs/991',
        source: 'github-actions',
        submittedBy: { via: 'key' },
      },
      'sha256:00',
    );
    expect(n).toMatchObject({
      status: 'project',
      eventType: 'aml-lineage:approval',
      eventId: 'approval:github-actions:gh-991-1',
      time: '2024-05-03T10:00:00Z',
    });
    if (n.status !== 'project') return;
    expect(n.delta.nodes[0]?.facts).toMatchObject({ decision: 'approved', ticket: 'CHG-1042', source: 'github-actions' });
    expect(n.delta.edges[0]).toMatchObject({ kind: 'approvalOf', to: { label: 'credit-default:3' } });
    expect(normalize('approval', { kind: 'approval', decision: 'maybe' }, 'sha256:01')).toMatchObject({ status: 'invalid' });
  });

  it('a registry model version written (shared or promoted into a registry) is an approval by the caller', () => {
    const id = SAMPLE_IDS.registryModel;
    const record = {
      ...activityWrite(id, '2024-05-04T12:00:00Z', 'Microsoft.MachineLearningServices/registries/models/versions/write'),
      caller: 'identity:0123456789abcdef01234567',
    };
    const result = normalizeMonitorRecord(record);
    expect(result).toMatchObject({ status: 'projected' });
    if (result.status !== 'projected') return;
    expect(result.delta.nodes.find((x) => x.ref.kind === 'approval')?.facts).toMatchObject({
      decision: 'approved',
      source: 'activity-log',
      by: 'identity:0123456789abcdef01234567',
      at: '2024-05-04T12:00:00Z',
    });
    expect(result.delta.edges[0]?.to.key).toBe('azureml://registries/contoso-ml-registry/models/credit-baseline/versions/1');
  });
});

describe('envelope encryption with a local key file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'identity-key-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('seals and opens under the same key file, binds each record to its hash, and another key cannot open it', async () => {
    const cipher = new EnvelopeCipher(new LocalKeyFileWrapper(join(dir, 'kek')));
    const sealed = await cipher.seal('alice@contoso.com', 'hash-1');
    expect(JSON.stringify(sealed)).not.toContain('alice');
    expect(await cipher.open(sealed, 'hash-1')).toBe('alice@contoso.com');
    // Another process with the same file (a restart) opens it; the key is created once.
    expect(await new EnvelopeCipher(new LocalKeyFileWrapper(join(dir, 'kek'))).open(sealed, 'hash-1')).toBe('alice@contoso.com');
    await expect(cipher.open(sealed, 'hash-2')).rejects.toThrow();
    await expect(new EnvelopeCipher(new LocalKeyFileWrapper(join(dir, 'other'))).open(sealed, 'hash-1')).rejects.toThrow(
      /wrapped by local:/,
    );
  });
});

describe('envelope encryption with a Key Vault key, against an in-process stand-in speaking the Key Vault REST shapes', () => {
  let vault: KeyVaultStandIn;
  beforeAll(async () => {
    vault = await startKeyVaultStandIn('identities', 'RSA');
  });
  afterAll(() => vault.stop());

  // Entra ID has no local server: a fixed token stands in for the managed identity's (test double).
  const credential = { getToken: () => Promise.resolve({ token: 'local-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const tlsToStandIn = {
    name: 'standInTls',
    sendRequest: async (request: { agent?: unknown }, next: (r: never) => Promise<unknown>) => {
      const { Agent } = await import('node:https');
      request.agent = new Agent({ rejectUnauthorized: false });
      return next(request as never);
    },
  };
  const wrapper = () =>
    new KeyVaultWrapper(`${vault.url}/keys/identities`, () => Promise.resolve(credential), {
      disableChallengeResourceVerification: true, // the service's domain check cannot match 127.0.0.1
      additionalPolicies: [{ policy: tlsToStandIn as never, position: 'perCall' }],
    });

  it('wraps one data key per process with RSA-OAEP-256, records the key version, and unwraps with it in another process', async () => {
    const cipher = new EnvelopeCipher(wrapper());
    const a = await cipher.seal('Alice Smith', 'h1');
    const b = await cipher.seal('Bob Jones', 'h2');
    expect(a.kek).toBe(`${vault.url}/keys/identities/${vault.version}`);
    expect(a.wrappedKey).toBe(b.wrappedKey);
    expect(vault.wraps).toEqual(['wrapkey RSA-OAEP-256']);
    const later = new EnvelopeCipher(wrapper());
    expect([await later.open(a, 'h1'), await later.open(b, 'h2')]).toEqual(['Alice Smith', 'Bob Jones']);
    expect(vault.wraps).toEqual(['wrapkey RSA-OAEP-256', 'unwrapkey RSA-OAEP-256']);
  });
});
