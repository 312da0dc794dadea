import { z } from 'zod';
import { driftSignal, gitCommit, namedResource, parseWorkspaceId, versionedAsset } from '../../graph/keys.js';
import { emptyDelta, type GraphDelta } from '../../graph/model.js';
import { isRecord } from '../../util/isRecord.js';
import type { EnrichmentMessage } from '../enrichmentMessage.js';
import { followUps } from '../followUps.js';
import { dateTime, field, looseRecord, nonEmpty, nullish, REFUSED, text, type RecordOutput } from '../fields.js';
import type { ValidationIssue } from '../issues.js';
import { gitFromProperties, isTerminalRunStatus, jsonInStrings, normalizeRunStatus, parentRunId } from '../payload.js';
import type { EventEnvelope } from './envelope.js';
import { azureMlEvent, refuse, type EventContext, type EventTypeEntry } from './eventType.js';

/**
 * Azure ML system events (Event Grid topic on a workspace) into graph deltas: one entry per event
 * type in AZUREML_EVENTS below; types not listed are kept in the raw event log and not projected.
 *
 * Payloads are thin and inconsistent between sources (test/fixtures/README.md): keys differ in
 * case, versions are numbers or strings, `ModelIds` is one comma-separated string, drift subjects
 * are singular or plural, `runType` may be null and run properties hold JSON inside strings.
 * Every variant is accepted and normalised; unknown fields are ignored by the projection but stay
 * in the raw event log.
 */

const looseMapSchema = z
  .record(z.string(), z.unknown())
  .nullish()
  .transform((v) => v ?? {});
/**
 * Tags and properties: a map of anything, null or absent meaning empty. A plain object is copied
 * by hand as the record schema would copy it (own keys in order, `__proto__` left out): the
 * record schema checks every key and value one by one. Anything else goes to the record schema,
 * for the same result or the same issues.
 */
function plainCopy(v: unknown): Record<string, unknown> | undefined {
  if (!isRecord(v) || Object.getPrototypeOf(v) !== Object.prototype) return undefined;
  const copy: Record<string, unknown> = {};
  for (const k of Object.keys(v)) if (k !== '__proto__') copy[k] = v[k];
  return copy;
}
const looseMap = field(
  z
    .unknown()
    .nullish()
    .transform((v, ctx): Record<string, unknown> => {
      const copy = plainCopy(v);
      if (copy) return copy;
      const parsed = looseMapSchema.safeParse(v);
      if (parsed.success) return parsed.data;
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
      return z.NEVER;
    }),
  (v) => (v === undefined || v === null ? {} : (plainCopy(v) ?? REFUSED)),
);
const versionString = field(
  z.union([z.string().min(1), z.number().finite()]).transform((v) => String(v)),
  (v) => ((typeof v === 'string' && v.length > 0) || (typeof v === 'number' && Number.isFinite(v)) ? String(v) : REFUSED),
);
const NUMBER_TEXT = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const numeric = field(z.union([z.number().finite(), z.string().trim().regex(NUMBER_TEXT).transform(Number)]), (v) => {
  if (typeof v === 'number') return Number.isFinite(v) ? v : REFUSED;
  if (typeof v !== 'string') return REFUSED;
  const t = v.trim();
  return NUMBER_TEXT.test(t) ? Number(t) : REFUSED;
});

/** `ModelIds`, one comma-separated string or a list: each `NAME:VERSION`, or the index of each that is not. */
function modelIdsOf(v: string | string[]): {
  parsed: Array<{ name: string; version: string }>;
  bad: Array<{ index: number; item: string }>;
} {
  const items = (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
  const parsed: Array<{ name: string; version: string }> = [];
  const bad: Array<{ index: number; item: string }> = [];
  items.forEach((item, index) => {
    // Model names cannot contain ':'; versions can, so split on the first one.
    const at = item.indexOf(':');
    if (at <= 0 || at === item.length - 1) bad.push({ index, item });
    else parsed.push({ name: item.slice(0, at), version: item.slice(at + 1) });
  });
  return { parsed, bad };
}
const modelIds = field(
  z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
    const { parsed, bad } = modelIdsOf(v);
    for (const { index, item } of bad) ctx.addIssue({ code: 'custom', message: `expected NAME:VERSION, got "${item}"`, path: [index] });
    return parsed;
  }),
  (v) => {
    if (typeof v !== 'string' && !(Array.isArray(v) && v.every((s) => typeof s === 'string'))) return REFUSED;
    const { parsed, bad } = modelIdsOf(v);
    return bad.length === 0 ? parsed : REFUSED;
  },
);

const runFields = {
  experimentId: nullish(text),
  experimentName: nullish(text),
  runId: nonEmpty,
  runType: nullish(text),
  runTags: looseMap,
  runProperties: looseMap,
  runStatus: nullish(text),
};
const runData = looseRecord(runFields);
const runSubject = { pattern: /^experiments\/([^/]+)\/runs\/([^/]+)$/i, fields: ['experimentId', 'runId'] as const };

/** A run's status on its job node (kept as a series too), its git commit, and its parent sweep or AutoML run. */
function projectRun(d: RecordOutput<typeof runFields>, { ws, time }: EventContext, status: string, completed: boolean): GraphDelta {
  const delta = emptyDelta();
  const job = namedResource(ws, 'jobs', d.runId);
  const git = gitFromProperties(d.runProperties);
  const parsedJson = jsonInStrings(d.runProperties);
  const facts: Record<string, unknown> = {
    runId: d.runId,
    experimentId: d.experimentId ?? undefined,
    experimentName: d.experimentName ?? undefined,
    runType: d.runType ?? undefined,
    tags: d.runTags,
    properties: d.runProperties,
    propertiesJson: Object.keys(parsedJson).length > 0 ? parsedJson : undefined,
    status,
    git,
  };
  if (completed) facts.completedAt = time;
  delta.nodes.push({ ref: job, facts, series: { status } });

  if (git?.commit && git.repository) {
    const commit = gitCommit(git.repository, git.commit);
    delta.nodes.push({ ref: commit, facts: { repository: git.repository, commit: git.commit.toLowerCase() } });
    delta.edges.push({ kind: 'commitOf', from: commit, to: job });
  }
  const parent = parentRunId(d.runId);
  if (parent) {
    const parentJob = namedResource(ws, 'jobs', parent);
    delta.references.push(parentJob);
    delta.edges.push({ kind: 'parentOf', from: parentJob, to: job });
  }
  return delta;
}

/** A finished job's inputs, outputs, code and environment are in the REST API, not in the event. */
const finishedJob = (node: GraphDelta['nodes'][number]) => node.ref.kind === 'job' && isTerminalRunStatus(node.facts.status);

export const AZUREML_EVENTS: readonly EventTypeEntry[] = [
  azureMlEvent({
    type: 'Microsoft.MachineLearningServices.ModelRegistered',
    data: looseRecord({ ModelName: nonEmpty, ModelVersion: versionString, ModelTags: looseMap, ModelProperties: looseMap }),
    subject: { pattern: /^models\/([^:/]+):(.+)$/i, fields: ['ModelName', 'ModelVersion'] },
    project: (d, { ws, time }) => {
      const delta = emptyDelta();
      delta.nodes.push({
        ref: versionedAsset(ws, 'models', d.ModelName, d.ModelVersion),
        facts: { name: d.ModelName, version: d.ModelVersion, tags: d.ModelTags, properties: d.ModelProperties, registeredAt: time },
      });
      return delta;
    },
    // The job that produced the version is in the REST API.
    followUp: (node) => node.ref.kind === 'model',
  }),

  azureMlEvent({
    type: 'Microsoft.MachineLearningServices.ModelDeployed',
    data: looseRecord({
      ServiceName: nonEmpty,
      ServiceComputeType: nullish(text),
      ModelIds: modelIds,
      ServiceTags: looseMap,
      ServiceProperties: looseMap,
    }),
    subject: { pattern: /^endpoints\/([^/]+)$/i, fields: ['ServiceName'] },
    project: (d, { ws, time }) => {
      const delta = emptyDelta();
      const service = namedResource(ws, 'services', d.ServiceName);
      delta.nodes.push({
        ref: service,
        facts: {
          name: d.ServiceName,
          computeType: d.ServiceComputeType ?? undefined,
          tags: d.ServiceTags,
          properties: d.ServiceProperties,
          models: d.ModelIds.map((m) => `${m.name}:${m.version}`),
          deployedAt: time,
        },
      });
      for (const m of d.ModelIds) {
        const model = versionedAsset(ws, 'models', m.name, m.version);
        delta.references.push(model);
        delta.edges.push({ kind: 'deployedTo', from: model, to: service });
      }
      return delta;
    },
  }),

  azureMlEvent({
    type: 'Microsoft.MachineLearningServices.RunCompleted',
    data: runData,
    subject: runSubject,
    project: (d, at) => projectRun(d, at, 'Completed', true),
    followUp: finishedJob,
  }),

  azureMlEvent({
    type: 'Microsoft.MachineLearningServices.RunStatusChanged',
    data: runData,
    subject: runSubject,
    project: (d, at) =>
      d.runStatus ? projectRun(d, at, normalizeRunStatus(d.runStatus), false) : refuse('data.runStatus', 'required for RunStatusChanged'),
    followUp: finishedJob,
  }),

  azureMlEvent({
    type: 'Microsoft.MachineLearningServices.DatasetDriftDetected',
    data: looseRecord({
      DataDriftId: nonEmpty,
      DataDriftName: nullish(text),
      RunId: nonEmpty,
      BaseDatasetId: nullish(text),
      TargetDatasetId: nullish(text),
      DriftCoefficient: nullish(numeric),
      StartTime: nullish(dateTime),
      EndTime: nullish(dateTime),
    }),
    // The how-to documents `datadrift/{id}/run/{runId}`, the schema page `datadrifts/{}/runs/{}`.
    subject: { pattern: /^datadrifts?\/([^/]+)\/runs?\/([^/]+)$/i, fields: ['DataDriftId', 'RunId'] },
    project: (d, { ws, time }) => {
      const delta = emptyDelta();
      const drift = driftSignal(ws, d.DataDriftId, d.RunId);
      delta.nodes.push({
        ref: drift,
        facts: {
          monitorId: d.DataDriftId,
          monitorName: d.DataDriftName ?? undefined,
          runId: d.RunId,
          coefficient: d.DriftCoefficient ?? undefined,
          windowStart: d.StartTime ?? undefined,
          windowEnd: d.EndTime ?? undefined,
          baseDatasetId: d.BaseDatasetId ?? undefined,
          targetDatasetId: d.TargetDatasetId ?? undefined,
          detectedAt: time,
        },
      });
      const link = (datasetId: string | null | undefined, edgeKind: 'driftTargetOf' | 'driftBaselineOf') => {
        if (!datasetId) return;
        const dataset = namedResource(ws, 'datasets', datasetId);
        delta.references.push(dataset);
        delta.edges.push({ kind: edgeKind, from: dataset, to: drift });
      };
      link(d.TargetDatasetId, 'driftTargetOf');
      link(d.BaseDatasetId, 'driftBaselineOf');
      return delta;
    },
  }),
];

const BY_TYPE = new Map(AZUREML_EVENTS.map((entry) => [entry.type.toLowerCase(), entry]));

/** The declared event type of that name (compared ignoring case), if it is projected. */
export function azureMlEventType(type: string): EventTypeEntry | undefined {
  return BY_TYPE.get(type.toLowerCase());
}

export type NormalizeResult = { ok: true; delta: GraphDelta; enrich: EnrichmentMessage[] } | { ok: false; issues: ValidationIssue[] };

export function normalizeAzureMlEvent(envelope: EventEnvelope): NormalizeResult {
  const entry = azureMlEventType(envelope.type);
  if (!entry) return { ok: false, issues: [{ path: 'type', message: `not an Azure ML event type: ${envelope.type}` }] };
  const ws = parseWorkspaceId(envelope.source);
  if (!ws) {
    return {
      ok: false,
      issues: [
        {
          path: envelope.schema === 'eventgrid' ? 'topic' : 'source',
          message:
            'expected the ARM id of an Azure ML workspace (/subscriptions/…/providers/Microsoft.MachineLearningServices/workspaces/…)',
        },
      ],
    };
  }
  if (!envelope.time)
    return { ok: false, issues: [{ path: 'time', message: 'required: the event time orders facts about the same resource' }] };
  if (envelope.data !== undefined && envelope.data !== null && !isRecord(envelope.data))
    return { ok: false, issues: [{ path: 'data', message: 'expected an object' }] };
  const projected = entry.project(isRecord(envelope.data) ? envelope.data : {}, envelope.subject, { ws, time: envelope.time });
  if (!projected.ok) return projected;
  const cause = { eventId: envelope.id, eventType: envelope.type };
  const enrich = followUps(
    projected.delta.nodes.filter((node) => entry.followUp(node)).map((node) => node.ref),
    cause,
  );
  return { ok: true, delta: projected.delta, enrich };
}
