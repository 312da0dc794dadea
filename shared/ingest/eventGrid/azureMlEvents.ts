import { z } from 'zod';
import { isRecord } from '../../util/isRecord.js';
import {
  driftSignal,
  gitCommit,
  namedResource,
  parseWorkspaceId,
  versionedAsset,
  type NodeRef,
  type WorkspaceId,
} from '../../graph/keys.js';
import { emptyDelta, type GraphDelta } from '../../graph/model.js';
import type { EventEnvelope } from './envelope.js';
import { fromZodIssues, type ValidationIssue } from '../issues.js';
import { canonicalizeKeys, gitFromProperties, isoDateTime, jsonInStrings, normalizeRunStatus, parentRunId } from '../payload.js';

/**
 * Azure ML system events (Event Grid topic on a workspace) into graph deltas.
 *
 * Payloads are thin and inconsistent between sources (see test/fixtures/README.md):
 * keys differ in case, versions are numbers or strings, `ModelIds` is one comma-separated
 * string, drift subjects are singular or plural, `runType` may be null and run properties hold
 * JSON inside strings. Every variant is accepted here and normalised; unknown fields are ignored
 * by the projection but stay in the raw event log.
 */
export const AZUREML_EVENT_TYPES = {
  ModelRegistered: 'Microsoft.MachineLearningServices.ModelRegistered',
  ModelDeployed: 'Microsoft.MachineLearningServices.ModelDeployed',
  RunCompleted: 'Microsoft.MachineLearningServices.RunCompleted',
  RunStatusChanged: 'Microsoft.MachineLearningServices.RunStatusChanged',
  DatasetDriftDetected: 'Microsoft.MachineLearningServices.DatasetDriftDetected',
} as const;

const KNOWN_TYPES = new Map(
  Object.entries(AZUREML_EVENT_TYPES).map(([short, full]) => [full.toLowerCase(), short as keyof typeof AZUREML_EVENT_TYPES]),
);

export function azureMlEventKind(type: string): keyof typeof AZUREML_EVENT_TYPES | undefined {
  return KNOWN_TYPES.get(type.toLowerCase());
}

export type NormalizeResult = { ok: true; delta: GraphDelta } | { ok: false; issues: ValidationIssue[] };

const looseMap = z
  .record(z.string(), z.unknown())
  .nullish()
  .transform((v) => v ?? {});
const versionString = z.union([z.string().min(1), z.number().finite()]).transform((v) => String(v));
const nonEmpty = z.string().trim().min(1);

const modelRegisteredSchema = z.looseObject({
  ModelName: nonEmpty,
  ModelVersion: versionString,
  ModelTags: looseMap,
  ModelProperties: looseMap,
});

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

const modelDeployedSchema = z.looseObject({
  ServiceName: nonEmpty,
  ServiceComputeType: z.string().nullish(),
  ModelIds: modelIdsSchema,
  ServiceTags: looseMap,
  ServiceProperties: looseMap,
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

const numeric = z.union([
  z.number().finite(),
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/)
    .transform(Number),
]);

const driftSchema = z.looseObject({
  DataDriftId: nonEmpty,
  DataDriftName: z.string().nullish(),
  RunId: nonEmpty,
  BaseDatasetId: z.string().nullish(),
  TargetDatasetId: z.string().nullish(),
  DriftCoefficient: numeric.nullish(),
  StartTime: isoDateTime.nullish(),
  EndTime: isoDateTime.nullish(),
});

const FIELDS = {
  ModelRegistered: Object.keys(modelRegisteredSchema.shape),
  ModelDeployed: Object.keys(modelDeployedSchema.shape),
  RunCompleted: Object.keys(runSchema.shape),
  RunStatusChanged: Object.keys(runSchema.shape),
  DatasetDriftDetected: Object.keys(driftSchema.shape),
} as const;

/** Identifiers the subject carries, used when `data` lacks them. Placeholder segments (`{}`) are ignored. */
function fromSubject(kind: keyof typeof AZUREML_EVENT_TYPES, subject: string | undefined): Record<string, string> {
  if (!subject) return {};
  const s = subject.replace(/^\/+/, '');
  const real = (v: string | undefined) => (v && !/^\{.*\}$/.test(v) ? v : undefined);
  const out: Record<string, string | undefined> = {};
  let m: RegExpExecArray | null;
  switch (kind) {
    case 'ModelRegistered':
      if ((m = /^models\/([^:/]+):(.+)$/i.exec(s))) Object.assign(out, { ModelName: real(m[1]), ModelVersion: real(m[2]) });
      break;
    case 'ModelDeployed':
      if ((m = /^endpoints\/([^/]+)$/i.exec(s))) out.ServiceName = real(m[1]);
      break;
    case 'RunCompleted':
    case 'RunStatusChanged':
      if ((m = /^experiments\/([^/]+)\/runs\/([^/]+)$/i.exec(s))) Object.assign(out, { experimentId: real(m[1]), runId: real(m[2]) });
      break;
    case 'DatasetDriftDetected':
      // The how-to documents `datadrift/{id}/run/{runId}`, the schema page `datadrifts/{}/runs/{}`.
      if ((m = /^datadrifts?\/([^/]+)\/runs?\/([^/]+)$/i.exec(s))) Object.assign(out, { DataDriftId: real(m[1]), RunId: real(m[2]) });
      break;
  }
  return Object.fromEntries(Object.entries(out).filter((e): e is [string, string] => e[1] !== undefined));
}

function prepareData(kind: keyof typeof AZUREML_EVENT_TYPES, envelope: EventEnvelope): Record<string, unknown> | undefined {
  if (envelope.data !== undefined && envelope.data !== null && !isRecord(envelope.data)) return undefined;
  const data = canonicalizeKeys(isRecord(envelope.data) ? envelope.data : {}, FIELDS[kind]);
  for (const [k, v] of Object.entries(fromSubject(kind, envelope.subject))) {
    if (data[k] === undefined || data[k] === null || data[k] === '') data[k] = v;
  }
  return data;
}

function withIssues(result: { success: false; error: z.ZodError }): NormalizeResult {
  return { ok: false, issues: fromZodIssues(result.error.issues, 'data') };
}

export function normalizeAzureMlEvent(envelope: EventEnvelope): NormalizeResult {
  const kind = azureMlEventKind(envelope.type);
  if (!kind) return { ok: false, issues: [{ path: 'type', message: `not an Azure ML event type: ${envelope.type}` }] };
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
  const data = prepareData(kind, envelope);
  if (!data) return { ok: false, issues: [{ path: 'data', message: 'expected an object' }] };

  switch (kind) {
    case 'ModelRegistered': {
      const p = modelRegisteredSchema.safeParse(data);
      if (!p.success) return withIssues(p);
      const d = p.data;
      const delta = emptyDelta();
      delta.nodes.push({
        ref: versionedAsset(ws, 'models', d.ModelName, d.ModelVersion),
        facts: {
          name: d.ModelName,
          version: d.ModelVersion,
          tags: d.ModelTags,
          properties: d.ModelProperties,
          registeredAt: envelope.time,
        },
      });
      return { ok: true, delta };
    }
    case 'ModelDeployed': {
      const p = modelDeployedSchema.safeParse(data);
      if (!p.success) return withIssues(p);
      const d = p.data;
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
          deployedAt: envelope.time,
        },
      });
      for (const m of d.ModelIds) {
        const model = versionedAsset(ws, 'models', m.name, m.version);
        delta.references.push(model);
        delta.edges.push({ kind: 'deployedTo', from: model, to: service });
      }
      return { ok: true, delta };
    }
    case 'RunCompleted':
    case 'RunStatusChanged':
      return normalizeRun(kind, ws, envelope.time, data);
    case 'DatasetDriftDetected': {
      const p = driftSchema.safeParse(data);
      if (!p.success) return withIssues(p);
      const d = p.data;
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
          detectedAt: envelope.time,
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
      return { ok: true, delta };
    }
  }
}

function normalizeRun(
  kind: 'RunCompleted' | 'RunStatusChanged',
  ws: WorkspaceId,
  time: string,
  data: Record<string, unknown>,
): NormalizeResult {
  const p = runSchema.safeParse(data);
  if (!p.success) return withIssues(p);
  const d = p.data;
  let status: string | undefined;
  if (kind === 'RunCompleted') status = 'Completed';
  else if (d.runStatus) status = normalizeRunStatus(d.runStatus);
  else return { ok: false, issues: [{ path: 'data.runStatus', message: 'required for RunStatusChanged' }] };

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
  if (kind === 'RunCompleted') facts.completedAt = time;
  delta.nodes.push({ ref: job, facts, series: { status } });

  if (git?.commit && git.repository) {
    const commit: NodeRef = gitCommit(git.repository, git.commit);
    delta.nodes.push({ ref: commit, facts: { repository: git.repository, commit: git.commit.toLowerCase() } });
    delta.edges.push({ kind: 'commitOf', from: commit, to: job });
  }
  const parent = parentRunId(d.runId);
  if (parent) {
    const parentJob = namedResource(ws, 'jobs', parent);
    delta.references.push(parentJob);
    delta.edges.push({ kind: 'parentOf', from: parentJob, to: job });
  }
  return { ok: true, delta };
}
