import { z } from 'zod';
import { driftSignal, gitCommit, namedResource, parseWorkspaceId, versionedAsset } from '../../graph/keys.js';
import { emptyDelta, type GraphDelta } from '../../graph/model.js';
import { isRecord } from '../../util/isRecord.js';
import type { EnrichmentMessage } from '../enrichmentMessage.js';
import { followUps } from '../followUps.js';
import type { ValidationIssue } from '../issues.js';
import { gitFromProperties, isoDateTime, isTerminalRunStatus, jsonInStrings, normalizeRunStatus, parentRunId } from '../payload.js';
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
 * Tags and properties: a map of anything, null or absent meaning empty. An object is copied by
 * hand as the record schema would copy it (own keys in order, `__proto__` left out): the record
 * schema checks every key and value one by one, which was most of an event's validation. Anything
 * else goes to the record schema, for the same result or the same issues.
 */
const looseMap = z
  .unknown()
  .nullish()
  .transform((v, ctx): Record<string, unknown> => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype) {
      const copy: Record<string, unknown> = {};
      for (const k of Object.keys(v)) if (k !== '__proto__') copy[k] = (v as Record<string, unknown>)[k];
      return copy;
    }
    const parsed = looseMapSchema.safeParse(v);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  });
const versionString = z.union([z.string().min(1), z.number().finite()]).transform((v) => String(v));
const nonEmpty = z.string().trim().min(1);
const numeric = z.union([
  z.number().finite(),
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/)
    .transform(Number),
]);

const modelIdsSchema = z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
  const items = (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
  const parsed: Array<{ name: string; version: string }> = [];
  items.forEach((item, index) => {
    // Model names cannot contain ':'; versions can, so split on the first one.
    const at = item.indexOf(':');
    if (at <= 0 || at === item.length - 1) {
      ctx.addIssue({ code: 'custom', message: `expected NAME:VERSION, got "${item}"`, path: [index] });
      return;
    }
    parsed.push({ name: item.slice(0, at), version: item.slice(at + 1) });
  });
  return parsed;
});

const runSchema = z.looseObject({
  experimentId: z.string().nullish(),
  experimentName: z.string().nullish(),
  runId: nonEmpty,
  runType: z.string().nullish(),
  runTags: looseMap,
  runProperties: looseMap,
  runStatus: z.string().nullish(),
});
const runSubject = { pattern: /^experiments\/([^/]+)\/runs\/([^/]+)$/i, fields: ['experimentId', 'runId'] as const };

/** A run's status on its job node (kept as a series too), its git commit, and its parent sweep or AutoML run. */
function projectRun(d: z.output<typeof runSchema>, { ws, time }: EventContext, status: string, completed: boolean): GraphDelta {
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
    schema: z.looseObject({ ModelName: nonEmpty, ModelVersion: versionString, ModelTags: looseMap, ModelProperties: looseMap }),
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
    schema: z.looseObject({
      ServiceName: nonEmpty,
      ServiceComputeType: z.string().nullish(),
      ModelIds: modelIdsSchema,
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
    schema: runSchema,
    subject: runSubject,
    project: (d, at) => projectRun(d, at, 'Completed', true),
    followUp: finishedJob,
  }),

  azureMlEvent({
    type: 'Microsoft.MachineLearningServices.RunStatusChanged',
    schema: runSchema,
    subject: runSubject,
    project: (d, at) =>
      d.runStatus ? projectRun(d, at, normalizeRunStatus(d.runStatus), false) : refuse('data.runStatus', 'required for RunStatusChanged'),
    followUp: finishedJob,
  }),

  azureMlEvent({
    type: 'Microsoft.MachineLearningServices.DatasetDriftDetected',
    schema: z.looseObject({
      DataDriftId: nonEmpty,
      DataDriftName: z.string().nullish(),
      RunId: nonEmpty,
      BaseDatasetId: z.string().nullish(),
      TargetDatasetId: z.string().nullish(),
      DriftCoefficient: numeric.nullish(),
      StartTime: isoDateTime.nullish(),
      EndTime: isoDateTime.nullish(),
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
