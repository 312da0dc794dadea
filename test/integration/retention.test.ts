import { randomUUID } from 'node:crypto';
import type { ItemDefinition } from '@azure/cosmos';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { canonicalWorkspace } from '../../shared/access.js';
import type { Services } from '../../shared/composition.js';
import { covers, holdInputSchema } from '../../shared/compliance/holds.js';
import type { ComplianceReport, RetentionViolation } from '../../shared/compliance/report.js';
import { policiesOf, runCompliance, statePath } from '../../shared/compliance/runCompliance.js';
import { DomainError } from '../../shared/errors.js';
import { parseArmId } from '../../shared/graph/keys.js';
import type { Provenance } from '../../shared/graph/model.js';
import { predictionRequestDocId } from '../../shared/store/predictionRequestStore.js';
import { applyDelta } from '../../shared/usecases/applyDelta.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { captureMonitorMessage } from '../../shared/usecases/captureMonitorMessage.js';
import { replay } from '../../shared/usecases/replay.js';
import { evidencePack, inclusionProofs } from '../../shared/usecases/proveEvents.js';
import { sequenceEvents } from '../../shared/usecases/sequenceEvents.js';
import { hashLeaf } from '../../shared/tlog/merkle.js';
import { canonicalJson } from '../../shared/util/canonicalJson.js';

import { predictionRequest } from '../../shared/usecases/predictionRequest.js';
import { toInstant } from '../../shared/util/time.js';
import { modelRegistered } from '../helpers/events.js';
import { WS } from '../helpers/fixtures.js';
import { trafficRecord } from '../helpers/monitorRecords.js';
import { cosmosContainers, freshServices } from '../helpers/stores.js';

/**
 * Retention compliance against the embedded Cosmos DB server and Azurite, through the real SDKs:
 * purge (archive + tombstone), legal holds, "kept too long" and "missing within the audit window".
 * The clock is fixed; every record's time is chosen relative to it.
 */
const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = new Date('2026-06-01T00:00:00.000Z');
const RAW_DAYS = 30;
const REQUEST_DAYS = 7;
const GRACE_DAYS = 2;
const AUDIT_DAYS = 365;

const before = (days: number, extraMs = 0) => new Date(NOW.getTime() - days * DAY + extraMs).toISOString();

async function retentionServices(): Promise<Services> {
  const services = await freshServices(
    {
      RETENTION_RAW_EVENTS_DAYS: String(RAW_DAYS),
      RETENTION_REQUESTS_DAYS: String(REQUEST_DAYS),
      RETENTION_GRACE_DAYS: String(GRACE_DAYS),
      AUDIT_WINDOW_DAYS: String(AUDIT_DAYS),
      COMPLIANCE_CONTAINER: `compliance-${randomUUID().slice(0, 8)}`,
    },
    () => NOW, // captures without an explicit receivedAt (traffic records) are received "now"
  );
  services.compliance.now = () => NOW;
  return services;
}

const runRetention = (services: Services, mode?: 'incremental' | 'full') =>
  runCompliance(services.compliance, { checks: ['retention'], trigger: 'test', ...(mode ? { mode } : {}) });

async function readRaw(services: Services, container: 'events' | 'requests', id: string): Promise<ItemDefinition | undefined> {
  return (await (await cosmosContainers(services))[container].item(id, id).read<ItemDefinition>()).resource;
}

async function scannedIds(services: Services): Promise<string[]> {
  const ids: string[] = [];
  for await (const raw of services.eventLog.scan()) ids.push(raw.id);
  return ids.sort();
}

/** The section's spine as retentionSection defines it, from the counts a test seeded. */
function expectedSpine(purged: number, held: number, keptTooLong: number, missing: number) {
  const denominator = purged + held + missing;
  const numerator = Math.max(0, purged + held - keptTooLong);
  return { numerator, denominator, ratio: denominator === 0 ? null : numerator / denominator };
}

const spineOf = (report: ComplianceReport) => ({
  numerator: report.retention.numerator,
  denominator: report.retention.denominator,
  ratio: report.retention.ratio,
});
const ofKind = (report: ComplianceReport, kind: RetentionViolation['kind']) => report.retention.items.filter((v) => v.kind === kind);

type Fate = 'purged-overdue' | 'purged' | 'kept' | 'held';

describe('retention: purging raw events and request traces past policy, with a legal hold', () => {
  let services: Services;
  let policyName: { 'raw-event': string; 'request-trace': string };
  /** Raw Event Grid events, each received `ageDays` before NOW. */
  const rawSeed: Array<{ name: string; ageDays: number; fate: Fate; event: Record<string, unknown>; id: string; receivedAt: string }> = [
    { name: 'stale', ageDays: 40, fate: 'purged-overdue' },
    { name: 'expired', ageDays: 31, fate: 'purged' },
    { name: 'fresh', ageDays: 5, fate: 'kept' },
  ].map((s) => ({
    ...s,
    fate: s.fate as Fate,
    event: modelRegistered(`retention-${s.name}`, 1, { id: `evt-${s.name}`, time: before(s.ageDays) }),
    id: '',
    receivedAt: before(s.ageDays),
  }));
  /** Traffic-log records whose record time is `ageMs` before NOW. */
  const traceSeed: Array<{ requestId: string; ageMs: number; fate: Fate; instant: string }> = [
    { requestId: 'req-purged', ageMs: 8 * DAY, fate: 'purged' as Fate },
    { requestId: 'req-young', ageMs: 1 * DAY, fate: 'kept' as Fate },
    { requestId: 'req-held', ageMs: 8 * DAY + 12 * HOUR, fate: 'held' as Fate },
  ].map((s) => ({ ...s, instant: before(0, -s.ageMs) }));
  const heldTrace = traceSeed.find((t) => t.fate === 'held')!;
  const holdRange = { from: before(0, -heldTrace.ageMs - HOUR), until: before(0, -heldTrace.ageMs + HOUR) };
  let idsBeforeRun: string[];
  let first: ComplianceReport;

  const raws = (...fates: Fate[]) => rawSeed.filter((s) => fates.includes(s.fate));
  const traces = (...fates: Fate[]) => traceSeed.filter((t) => fates.includes(t.fate));

  beforeAll(async () => {
    // The seed must mean what its labels say under the configured policies.
    for (const s of rawSeed) {
      if (s.fate === 'purged-overdue') expect(s.ageDays).toBeGreaterThan(RAW_DAYS + GRACE_DAYS);
      if (s.fate === 'purged') expect(s.ageDays > RAW_DAYS && s.ageDays <= RAW_DAYS + GRACE_DAYS).toBe(true);
      if (s.fate === 'kept') expect(s.ageDays).toBeLessThan(RAW_DAYS);
    }
    for (const t of traceSeed) {
      if (t.fate === 'purged' || t.fate === 'held')
        expect(t.ageMs > REQUEST_DAYS * DAY && t.ageMs < (REQUEST_DAYS + GRACE_DAYS) * DAY).toBe(true);
      if (t.fate === 'kept') expect(t.ageMs).toBeLessThan(REQUEST_DAYS * DAY);
      if (t.fate !== 'held') expect(t.instant < holdRange.from || t.instant > holdRange.until).toBe(true);
    }

    services = await retentionServices();
    const policies = policiesOf(services.compliance);
    policyName = {
      'raw-event': policies.find((p) => p.recordKind === 'raw-event')!.name,
      'request-trace': policies.find((p) => p.recordKind === 'request-trace')!.name,
    };

    for (const s of rawSeed) {
      const outcome = await captureEvent(services.capture, s.event, { receivedAt: s.receivedAt });
      expect(outcome.status).toBe('projected');
      s.id = outcome.hash.replace(/^sha256:/, '');
    }
    expect(new Set(rawSeed.map((s) => s.id)).size).toBe(rawSeed.length);
    const message = await captureMonitorMessage(
      services.capture,
      { records: traceSeed.map((t) => trafficRecord(t.requestId, 'credit-scoring', 'blue', t.instant)) },
      { partitionId: '0' },
    );
    expect(message).toMatchObject({ projected: traceSeed.length, failed: 0, deadLettered: 0 });

    await services.compliance.holds.put(
      'case-42',
      holdInputSchema.parse({ reason: 'matter 42', recordKinds: ['request-trace'], ...holdRange }),
      NOW,
    );
    idsBeforeRun = await scannedIds(services);
    await sequenceEvents(services.tlog.sequencer);
    first = await runRetention(services);
  });

  it('counts purged and held records per kind exactly as seeded (else the report misstates what was deleted)', () => {
    expect(first.retention.policies).toEqual([
      {
        recordKind: 'raw-event',
        policy: policyName['raw-event'],
        retentionDays: RAW_DAYS,
        purged: raws('purged', 'purged-overdue').length,
        purgedThisRun: raws('purged', 'purged-overdue').length,
        held: 0,
      },
      {
        recordKind: 'request-trace',
        policy: policyName['request-trace'],
        retentionDays: REQUEST_DAYS,
        purged: traces('purged').length,
        purgedThisRun: traces('purged').length,
        held: traces('held').length,
      },
    ]);
    expect(first.retention.activeHolds).toEqual(['case-42']);
    expect(first.retention.computedAt).toBe(NOW.toISOString());
  });

  it('reports exactly the raw event kept past policy plus grace as kept-too-long, and nothing as missing', () => {
    const overdue = raws('purged-overdue');
    expect(first.retention.items).toEqual(
      overdue.map((s) =>
        expect.objectContaining({
          kind: 'kept-too-long',
          recordKind: 'raw-event',
          record: s.id,
          recordTime: s.receivedAt,
          policy: policyName['raw-event'],
          detectedAt: NOW.toISOString(),
        }),
      ),
    );
    expect(ofKind(first, 'missing-in-audit-window')).toEqual([]);
  });

  it('derives numerator, denominator and ratio from the purged, held and violating counts', () => {
    const purged = raws('purged', 'purged-overdue').length + traces('purged').length;
    expect(spineOf(first)).toEqual(expectedSpine(purged, traces('held').length, raws('purged-overdue').length, 0));
  });

  it('persists the retention state so the next run continues from it', async () => {
    expect(await services.compliance.blobs.exists(statePath('retention'))).toBe(true);
    const state = await services.compliance.blobs.readJson(
      statePath('retention'),
      z.object({ data: z.object({ purged: z.record(z.string(), z.number()), activeHolds: z.array(z.string()) }) }),
    );
    expect(state?.value.data).toMatchObject({
      purged: { 'raw-event': raws('purged', 'purged-overdue').length, 'request-trace': traces('purged').length },
      activeHolds: ['case-42'],
    });
  });

  it('replaces each purged raw event by a tombstone and archives the original to Blob Storage first', async () => {
    for (const s of raws('purged', 'purged-overdue')) {
      const doc = await readRaw(services, 'events', s.id);
      expect(doc).toMatchObject({
        id: s.id,
        pk: s.id,
        ttl: -1,
        tombstone: {
          recordKind: 'raw-event',
          policy: policyName['raw-event'],
          purgedAt: NOW.toISOString(),
          recordTime: s.receivedAt,
          archivedTo: expect.any(String),
        },
      });
      expect(doc).not.toHaveProperty('body'); // the evidence itself is gone from Cosmos DB
      const archivedTo = (doc as { tombstone: { archivedTo: string } }).tombstone.archivedTo;
      const archived = await services.compliance.blobs.readJson(archivedTo, z.record(z.string(), z.unknown()));
      expect(archived?.value).toMatchObject({
        id: s.id,
        hash: `sha256:${s.id}`,
        receivedAt: s.receivedAt,
        channel: 'eventgrid',
        body: s.event,
      });
      expect(archived?.value).not.toHaveProperty('_etag');
      expect(await services.eventLog.get(s.id)).toBeUndefined();
    }
  });

  it('keeps each purged raw event provable: its tombstone holds its leaf hash, and a pack citing it verifies as purged', async () => {
    const purged = raws('purged', 'purged-overdue');
    const proofs = await inclusionProofs(
      services.tlog.store,
      purged.map((s) => `sha256:${s.id}`),
    );
    for (const s of purged) {
      const doc = (await readRaw(services, 'events', s.id)) as { tombstone: { leafHash?: string } };
      expect(doc.tombstone.leafHash).toBe(hashLeaf(Buffer.from(canonicalJson(s.event), 'utf8')).toString('base64'));
      expect(doc.tombstone.leafHash).toBe(proofs.proofs.get(s.id)?.leafHash);
    }
    const { pack } = await evidencePack(
      { tlog: services.tlog.store, eventLog: services.eventLog },
      rawSeed.map((s) => ({ hash: `sha256:${s.id}` })),
    );
    expect(pack?.facts.filter((f) => f.purged).map((f) => f.purged)).toEqual(
      purged.map(() => ({ purgedAt: NOW.toISOString(), policy: policyName['raw-event'] })),
    );
    // The standalone offline verifier (plain JavaScript, no declarations), as an auditor runs it.
    const { verifyPack } = (await import(new URL('../../infra/verify/verify.mjs', import.meta.url).href)) as {
      verifyPack: (pack: unknown, key: string) => { ok: boolean; facts: Array<{ status: string }> };
    };
    const verdict = verifyPack(pack, (await services.tlog.publicKey()).verifierKey);
    expect(verdict.ok).toBe(true);
    expect(verdict.facts.map((f) => f.status).sort()).toEqual([...purged.map(() => 'PURGED'), ...raws('kept').map(() => 'OK')].sort());
  });

  it('replaces the purged request trace by a tombstone with an archived copy, and lookups answer "gone"', async () => {
    for (const t of traces('purged')) {
      const id = predictionRequestDocId(t.requestId);
      const doc = await readRaw(services, 'requests', id);
      expect(doc).toMatchObject({
        id,
        ttl: -1,
        tombstone: {
          recordKind: 'request-trace',
          policy: policyName['request-trace'],
          purgedAt: NOW.toISOString(),
          recordTime: toInstant(t.instant),
        },
      });
      expect(doc).not.toHaveProperty('requestId');
      const archived = await services.compliance.blobs.readJson(
        (doc as { tombstone: { archivedTo: string } }).tombstone.archivedTo,
        z.record(z.string(), z.unknown()),
      );
      expect(archived?.value).toMatchObject({
        id,
        requestId: t.requestId,
        instant: toInstant(t.instant),
        clientRequestId: `client-${t.requestId}`,
      });

      const lookup = predictionRequest(services.graph, services.predictionRequests, t.requestId, 3, 100);
      await expect(lookup).rejects.toBeInstanceOf(DomainError);
      await expect(lookup).rejects.toMatchObject({
        code: 'gone',
        extensions: { purgedAt: NOW.toISOString(), policy: policyName['request-trace'] },
      });
    }
  });

  it('marks the trace under the legal hold (legalHold, ttl -1) and keeps it answerable', async () => {
    for (const t of traces('held')) {
      const doc = await readRaw(services, 'requests', predictionRequestDocId(t.requestId));
      expect(doc).toMatchObject({ requestId: t.requestId, legalHold: 'case-42', ttl: -1 });
      expect(doc).not.toHaveProperty('tombstone');
      expect(await predictionRequest(services.graph, services.predictionRequests, t.requestId, 3, 100)).toMatchObject({
        requestId: t.requestId,
      });
    }
  });

  it('leaves records younger than their policy untouched', async () => {
    for (const s of raws('kept')) {
      const doc = await readRaw(services, 'events', s.id);
      expect(doc).toMatchObject({ id: s.id, receivedAt: s.receivedAt, body: s.event });
      expect(doc).not.toHaveProperty('tombstone');
      expect(doc).not.toHaveProperty('legalHold');
      expect(doc).not.toHaveProperty('ttl');
    }
    for (const t of traces('kept')) {
      const doc = await readRaw(services, 'requests', predictionRequestDocId(t.requestId));
      expect(doc).not.toHaveProperty('tombstone');
      expect(doc).not.toHaveProperty('legalHold');
      expect(doc).not.toHaveProperty('ttl');
      expect(await predictionRequest(services.graph, services.predictionRequests, t.requestId, 3, 100)).toMatchObject({
        requestId: t.requestId,
        clientRequestId: `client-${t.requestId}`,
      });
    }
  });

  it('the event log scan skips tombstones: exactly the seeded events minus the purged ones remain', async () => {
    const purgedIds = new Set(raws('purged', 'purged-overdue').map((s) => s.id));
    // Seeded: the Event Grid events plus the raw traffic records (received NOW, so all kept).
    expect(idsBeforeRun).toHaveLength(rawSeed.length + traceSeed.length);
    const after = await scannedIds(services);
    expect(after).toEqual(idsBeforeRun.filter((id) => !purgedIds.has(id)));
    expect(after).toHaveLength(rawSeed.length + traceSeed.length - purgedIds.size);
  });

  describe('a second run with nothing changed', () => {
    let second: ComplianceReport;
    beforeAll(async () => {
      second = await runRetention(services);
    });

    it('purges nothing more and keeps the cumulative figures (else counts drift or records are double-purged)', () => {
      expect(second.retention.policies.map((p) => p.purgedThisRun)).toEqual([0, 0]);
      expect(second.retention.policies.map(({ purgedThisRun: _, ...rest }) => rest)).toEqual(
        first.retention.policies.map(({ purgedThisRun: _, ...rest }) => rest),
      );
      expect(second.retention.activeHolds).toEqual(['case-42']);
    });

    it('keeps the same violations and the same ratio', () => {
      expect(second.retention.items).toEqual(first.retention.items);
      expect(spineOf(second)).toEqual(spineOf(first));
    });
  });

  describe('after the legal hold is removed', () => {
    let third: ComplianceReport;
    beforeAll(async () => {
      expect(await services.compliance.holds.remove('case-42')).toBe(true);
      third = await runRetention(services);
    });

    it('purges the formerly held trace and drops the hold from the figures', () => {
      const requestTrace = third.retention.policies.find((p) => p.recordKind === 'request-trace');
      expect(requestTrace).toMatchObject({ purged: traces('purged', 'held').length, purgedThisRun: traces('held').length, held: 0 });
      expect(third.retention.policies.find((p) => p.recordKind === 'raw-event')).toMatchObject({
        purged: raws('purged', 'purged-overdue').length,
        purgedThisRun: 0,
        held: 0,
      });
      expect(third.retention.activeHolds).toEqual([]);
      const purged = raws('purged', 'purged-overdue').length + traces('purged', 'held').length;
      expect(spineOf(third)).toEqual(expectedSpine(purged, 0, raws('purged-overdue').length, 0));
    });

    it('turns the held trace into a tombstone without the legalHold mark', async () => {
      for (const t of traces('held')) {
        const doc = await readRaw(services, 'requests', predictionRequestDocId(t.requestId));
        expect(doc).toMatchObject({
          ttl: -1,
          tombstone: { recordKind: 'request-trace', purgedAt: NOW.toISOString(), recordTime: toInstant(t.instant) },
        });
        expect(doc).not.toHaveProperty('legalHold');
        await expect(predictionRequest(services.graph, services.predictionRequests, t.requestId, 3, 100)).rejects.toMatchObject({
          code: 'gone',
        });
      }
    });

    it('does not report a record released from a hold within policy plus grace as kept too long', () => {
      expect(ofKind(third, 'kept-too-long').map((v) => v.record)).toEqual(raws('purged-overdue').map((s) => s.id));
    });
  });

  describe('replaying the event log after purges', () => {
    it('replays only the remaining events and does not resurrect purged requests', async () => {
      const remaining = (await scannedIds(services)).length;
      const result = await replay(services.capture, { deadLetters: false });
      expect(result.events.replayed).toBe(remaining);
      expect(result.events.deadLettered).toBe(0);
      for (const t of traces('purged', 'held'))
        await expect(predictionRequest(services.graph, services.predictionRequests, t.requestId, 3, 100)).rejects.toMatchObject({
          code: 'gone',
        });
    });
  });
});

describe('retention: an expired legal hold', () => {
  it('keeps nothing, while an unexpired hold over another trace still does', async () => {
    const services = await retentionServices();
    const expiredTrace = { requestId: 'req-expired-hold', instant: before(8) };
    const liveTrace = { requestId: 'req-live-hold', instant: before(8, -6 * HOUR) };
    await captureMonitorMessage(
      services.capture,
      { records: [expiredTrace, liveTrace].map((t) => trafficRecord(t.requestId, 'credit-scoring', 'blue', t.instant)) },
      { partitionId: '0' },
    );
    const around = (iso: string) => ({
      from: new Date(Date.parse(iso) - HOUR).toISOString(),
      until: new Date(Date.parse(iso) + HOUR).toISOString(),
    });
    await services.compliance.holds.put(
      'expired',
      holdInputSchema.parse({
        reason: 'closed matter',
        recordKinds: ['request-trace'],
        ...around(expiredTrace.instant),
        expiresAt: before(1),
      }),
      NOW,
    );
    await services.compliance.holds.put(
      'live',
      holdInputSchema.parse({
        reason: 'open matter',
        recordKinds: ['request-trace'],
        ...around(liveTrace.instant),
        expiresAt: before(-30),
      }),
      NOW,
    );

    const report = await runRetention(services);
    expect(report.retention.activeHolds).toEqual(['live']);
    expect(report.retention.policies.find((p) => p.recordKind === 'request-trace')).toMatchObject({ purged: 1, purgedThisRun: 1, held: 1 });
    const expired = await readRaw(services, 'requests', predictionRequestDocId(expiredTrace.requestId));
    expect(expired).toHaveProperty('tombstone');
    expect(expired).not.toHaveProperty('legalHold');
    expect(await readRaw(services, 'requests', predictionRequestDocId(liveTrace.requestId))).toMatchObject({ legalHold: 'live', ttl: -1 });
  });

  it('a hold scoped to another workspace does not cover the fixture workspace', async () => {
    const services = await retentionServices();
    const trace = { requestId: 'req-other-ws', instant: before(8) };
    await captureMonitorMessage(
      services.capture,
      { records: [trafficRecord(trace.requestId, 'credit-scoring', 'blue', trace.instant)] },
      { partitionId: '0' },
    );
    // The fixture workspace is `ws-prod`; a workspace whose name extends it must not match.
    await services.compliance.holds.put(
      'other',
      holdInputSchema.parse({ reason: 'other team', recordKinds: ['request-trace'], workspace: 'ws-prod-2' }),
      NOW,
    );
    const report = await runRetention(services);
    expect(report.retention.policies.find((p) => p.recordKind === 'request-trace')).toMatchObject({ purged: 1, held: 0 });
    expect(await readRaw(services, 'requests', predictionRequestDocId(trace.requestId))).toHaveProperty('tombstone');
  });

  it('a hold scoped to the fixture workspace by name covers its traces', async () => {
    const services = await retentionServices();
    const trace = { requestId: 'req-same-ws', instant: before(8) };
    await captureMonitorMessage(
      services.capture,
      { records: [trafficRecord(trace.requestId, 'credit-scoring', 'blue', trace.instant)] },
      { partitionId: '0' },
    );
    await services.compliance.holds.put(
      'same',
      holdInputSchema.parse({ reason: 'prod matter', recordKinds: ['request-trace'], workspace: WS.split('/').pop()! }),
      NOW,
    );
    const report = await runRetention(services);
    expect(report.retention.policies.find((p) => p.recordKind === 'request-trace')).toMatchObject({ purged: 0, held: 1 });
    expect(await readRaw(services, 'requests', predictionRequestDocId(trace.requestId))).toMatchObject({ legalHold: 'same', ttl: -1 });
  });
});

describe('retention: holds that change or end, and purged traces across workspaces', () => {
  const trace = (requestId: string, instant: string) => trafficRecord(requestId, 'credit-scoring', 'blue', instant);

  it('lets go of records a hold no longer covers once its scope is narrowed', async () => {
    const services = await retentionServices();
    await captureMonitorMessage(services.capture, { records: [trace('req-narrowed', before(8))] }, { partitionId: '0' });
    await services.compliance.holds.put('case-n', holdInputSchema.parse({ reason: 'matter n', recordKinds: ['request-trace'] }), NOW);
    expect((await runRetention(services)).retention.policies.find((p) => p.recordKind === 'request-trace')).toMatchObject({
      held: 1,
      purged: 0,
    });
    await services.compliance.holds.put('case-n', holdInputSchema.parse({ reason: 'matter n', recordKinds: ['raw-event'] }), NOW);
    const report = await runRetention(services);
    expect(report.retention.policies.find((p) => p.recordKind === 'request-trace')).toMatchObject({ held: 0, purged: 1 });
    expect(await readRaw(services, 'requests', predictionRequestDocId('req-narrowed'))).toHaveProperty('tombstone');
  });

  it('matches hold time ranges against record times without milliseconds or with an offset', async () => {
    const services = await retentionServices();
    const hold = holdInputSchema.parse({ reason: 'range', recordKinds: ['raw-event'], from: before(45), until: before(35) });
    await services.compliance.holds.put('range', hold, NOW);
    const [held] = await services.compliance.holds.list();
    for (const time of [before(40).replace(/\.\d{3}Z$/, 'Z'), before(40).replace(/\.\d{3}Z$/, '.0000000+02:00')]) {
      expect(covers(held!, 'raw-event', time, '')).toBe(true);
    }
    expect(covers(held!, 'raw-event', before(30).replace(/\.\d{3}Z$/, 'Z'), '')).toBe(false);
  });

  it('does not report a record released from a long hold as kept too long', async () => {
    const services = await retentionServices();
    await captureMonitorMessage(services.capture, { records: [trace('req-long-held', before(20))] }, { partitionId: '0' });
    await services.compliance.holds.put('long', holdInputSchema.parse({ reason: 'long matter', recordKinds: ['request-trace'] }), NOW);
    await runRetention(services);
    await services.compliance.holds.remove('long');
    const report = await runRetention(services);
    expect(report.retention.policies.find((p) => p.recordKind === 'request-trace')).toMatchObject({ purged: 1, held: 0 });
    expect(ofKind(report, 'kept-too-long')).toEqual([]);
    expect(report.retention.ratio).toBe(1);
  });

  it('does not blame the store for a trace that arrived already past its policy', async () => {
    const services = await retentionServices(); // captures are received at NOW
    await captureMonitorMessage(services.capture, { records: [trace('req-arrived-old', before(20))] }, { partitionId: '0' });
    const report = await runRetention(services);
    expect(report.retention.policies.find((p) => p.recordKind === 'request-trace')).toMatchObject({ purged: 1, purgedThisRun: 1 });
    expect(ofKind(report, 'kept-too-long')).toEqual([]);
    // Received 20 days ago instead, it was ours for longer than policy + grace: a violation.
    const late = await retentionServices();
    late.capture.now = () => new Date(Date.parse(before(20)));
    await captureMonitorMessage(late.capture, { records: [trace('req-kept-old', before(20))] }, { partitionId: '0' });
    expect(ofKind(await runRetention(late), 'kept-too-long').map((v) => v.record)).toEqual([predictionRequestDocId('req-kept-old')]);
  });

  it('answers "not found", not "gone", for a purged trace of a workspace the caller may not see', async () => {
    const services = await retentionServices();
    await captureMonitorMessage(services.capture, { records: [trace('req-private', before(8))] }, { partitionId: '0' });
    await runRetention(services);
    const lookup = (scope: Set<string> | null) =>
      predictionRequest(services.graph, services.predictionRequests, 'req-private', 3, 100, scope);
    await expect(lookup(new Set(['another-workspace']))).rejects.toMatchObject({ code: 'not-found' });
    // Scopes hold canonical workspace ARM ids (access.ts), not names.
    await expect(lookup(new Set([canonicalWorkspace(WS)]))).rejects.toMatchObject({ code: 'gone' });
  });
});

describe('retention: raw events missing within the audit window', () => {
  const missingHex = 'ab'.repeat(32);
  const ancientHex = 'cd'.repeat(32);
  const recentTime = before(3);
  const ancientTime = before(AUDIT_DAYS + 35);
  let services: Services;

  const prov = (hex: string, time: string, eventId: string): Provenance => ({
    source: 'eventgrid',
    eventId,
    eventType: 'Microsoft.MachineLearningServices.ModelRegistered',
    eventTime: time,
    instant: toInstant(time)!,
    hash: `sha256:${hex}`,
    learnedAt: time,
  });
  const modelRef = (name: string) => parseArmId(`${WS}/models/${name}/versions/1`)!;

  beforeAll(async () => {
    services = await retentionServices();
    await applyDelta(
      services.graph,
      { nodes: [{ ref: modelRef('audit-recent'), facts: { stage: 'prod' } }], references: [], edges: [] },
      prov(missingHex, recentTime, 'evt-missing'),
    );
    await applyDelta(
      services.graph,
      { nodes: [{ ref: modelRef('audit-ancient'), facts: { stage: 'old' } }], references: [], edges: [] },
      prov(ancientHex, ancientTime, 'evt-ancient'),
    );
  });

  it('reports provenance citing a raw event that is not in the log, and not one older than the window', async () => {
    const report = await runRetention(services);
    const missing = ofKind(report, 'missing-in-audit-window');
    expect(missing).toEqual([
      expect.objectContaining({
        recordKind: 'raw-event',
        record: `sha256:${missingHex}`,
        recordTime: recentTime,
        detectedAt: NOW.toISOString(),
      }),
    ]);
    expect(report.retention.items.map((v) => v.record)).not.toContain(`sha256:${ancientHex}`);
    expect(spineOf(report)).toEqual(expectedSpine(0, 0, 0, 1));
  });

  it('clears the violation on a full run once the raw event is in the log', async () => {
    await (
      await cosmosContainers(services)
    ).events.items.create({
      id: missingHex,
      pk: missingHex,
      hash: `sha256:${missingHex}`,
      channel: 'eventgrid',
      receivedAt: recentTime,
      body: {},
    });
    const report = await runRetention(services, 'full');
    expect(report.mode).toBe('full');
    expect(ofKind(report, 'missing-in-audit-window')).toEqual([]);
    expect(report.retention.items.map((v) => v.record)).not.toContain(`sha256:${ancientHex}`);
    // The inserted record is younger than its policy: kept.
    expect(report.retention.policies.map((p) => p.purgedThisRun)).toEqual([0, 0]);
    expect(await services.eventLog.get(missingHex)).toMatchObject({ id: missingHex });
  });

  it('does not report a purged (tombstoned) raw event as missing', async () => {
    const fresh = await retentionServices();
    const outcome = await captureEvent(fresh.capture, modelRegistered('audit-purged', 1, { id: 'evt-audit-purged', time: before(31) }), {
      receivedAt: before(31),
    });
    const report = await runRetention(fresh);
    expect(report.retention.policies.find((p) => p.recordKind === 'raw-event')).toMatchObject({ purged: 1 });
    expect(await readRaw(fresh, 'events', outcome.hash.replace(/^sha256:/, ''))).toHaveProperty('tombstone');
    expect(ofKind(report, 'missing-in-audit-window')).toEqual([]);
    const full = await runRetention(fresh, 'full');
    expect(ofKind(full, 'missing-in-audit-window')).toEqual([]);
  });
});

describe('legal holds API', () => {
  let services: Services;
  beforeAll(async () => {
    services = await retentionServices();
  });

  it('refuses a reason that carries personal data, and stores nothing', async () => {
    const put = services.compliance.holds.put('pii-hold', holdInputSchema.parse({ reason: 'requested by jane.doe@example.com' }), NOW);
    await expect(put).rejects.toBeInstanceOf(DomainError);
    await expect(put).rejects.toMatchObject({ code: 'invalid-request' });
    expect((await services.compliance.holds.list()).map((h) => h.id)).not.toContain('pii-hold');
  });

  it('lists the stored holds, sorted by id, with their creation time kept across updates', async () => {
    const b = await services.compliance.holds.put('case-b', holdInputSchema.parse({ reason: 'matter b', workspace: 'ws-prod' }), NOW);
    const a = await services.compliance.holds.put(
      'case-a',
      holdInputSchema.parse({ reason: 'matter a', recordKinds: ['raw-event'], from: before(100), until: before(50) }),
      NOW,
    );
    expect(b.recordKinds).toEqual(['raw-event', 'request-trace']); // default: every kind
    expect(await services.compliance.holds.list()).toEqual([a, b]);
    const later = new Date(NOW.getTime() + DAY);
    const updated = await services.compliance.holds.put(
      'case-a',
      holdInputSchema.parse({ reason: 'matter a, widened', recordKinds: ['raw-event'] }),
      later,
    );
    expect(updated.createdAt).toBe(NOW.toISOString());
    expect((await services.compliance.holds.list()).find((h) => h.id === 'case-a')).toEqual(updated);
    expect(await services.compliance.holds.remove('case-b')).toBe(true);
    expect(await services.compliance.holds.remove('case-b')).toBe(false);
    expect((await services.compliance.holds.list()).map((h) => h.id)).toEqual(['case-a']);
  });
});
