import { z } from 'zod';
import { parseWorkspaceId, type WorkspaceId } from '../graph/keys.js';
import { setOwn } from '../util/ownProperties.js';
import { isInstant } from '../util/time.js';

/**
 * What the Event Grid, Azure Monitor and REST normalizers all need to read Azure ML payloads:
 * keys spelled differently by source, statuses in any case, run properties that hold git
 * provenance or JSON inside strings, and ARM ids in any casing (test/fixtures/README.md).
 */

/**
 * Azure ML payloads spell the same key differently by source (`ModelName` in the docs,
 * `modelName` in the swagger and SDKs, `RunTags` vs `runTags`). Keys are matched ignoring case.
 */
export function getIgnoringCase(obj: Record<string, unknown>, key: string): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, key)) return obj[key];
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(obj)) {
    if (k.toLowerCase() === lower) return v;
  }
  return undefined;
}

/**
 * Re-keys the top level of `obj` onto the canonical spellings in `canonicalKeys`, leaving
 * unknown keys as they are. Nested objects (tags, properties) keep their own keys untouched.
 */
export function canonicalizeKeys(obj: Record<string, unknown>, canonicalKeys: readonly string[]): Record<string, unknown> {
  return keyCanonicalizer(canonicalKeys)(obj);
}

/** `canonicalizeKeys` onto these spellings, the lookup built once for the many objects of one kind. */
export function keyCanonicalizer(canonicalKeys: readonly string[]): (obj: Record<string, unknown>) => Record<string, unknown> {
  const byLower = new Map(canonicalKeys.map((k) => [k.toLowerCase(), k]));
  return (obj) => {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(obj)) {
      const canonical = byLower.get(k.toLowerCase()) ?? k;
      // An exact-case key wins over a differently cased duplicate.
      if (k !== canonical && Object.hasOwn(out, canonical)) continue;
      setOwn(out, canonical, obj[k]);
    }
    return out;
  };
}

/** A string with something in it, trimmed; anything else is undefined. */
export function nonBlank(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim().length > 0 ? v.trim() : undefined;
}

/** An event time as written, provided it parses (7 fractional digits and offsets included). */
export const isoDateTime = z.string().refine(isInstant, { message: 'expected an ISO 8601 date-time' });

const JOB_STATUSES = [
  'NotStarted',
  'Starting',
  'Provisioning',
  'Preparing',
  'Queued',
  'Running',
  'Finalizing',
  'CancelRequested',
  'Completed',
  'Failed',
  'Canceled',
  'NotResponding',
  'Paused',
  'Unknown',
];
const STATUS_BY_LOWER = new Map([...JOB_STATUSES.map((s) => [s.toLowerCase(), s] as const), ['cancelled', 'Canceled']]);
const TERMINAL_STATUSES = new Set(['Completed', 'Failed', 'Canceled']);

/** Status strings are an open enum compared case-insensitively ("failed" vs "Running"). */
export function normalizeRunStatus(status: string): string {
  return STATUS_BY_LOWER.get(status.trim().toLowerCase()) ?? status.trim();
}

/** A run that will not change any more: its inputs and outputs are final, so worth fetching. */
export function isTerminalRunStatus(status: unknown): boolean {
  return typeof status === 'string' && TERMINAL_STATUSES.has(status);
}

export interface GitProvenance {
  repository?: string;
  branch?: string;
  commit?: string;
  dirty?: boolean;
}

const GIT_KEYS = new Set(
  [
    'azureml.git.repository_uri',
    'mlflow.source.git.repoURL',
    'azureml.git.branch',
    'mlflow.source.git.branch',
    'azureml.git.commit',
    'mlflow.source.git.commit',
    'azureml.git.dirty',
  ].map((k) => k.toLowerCase()),
);

/** Git provenance Azure ML records as run properties (azureml.git.* and mlflow.source.git.*). */
export function gitFromProperties(props: Record<string, unknown>): GitProvenance | undefined {
  // One pass over the properties for every spelling below, as getIgnoringCase would find each:
  // the exact key first, else the first key equal to it ignoring case.
  let byLower: Map<string, unknown> | undefined;
  const find = (k: string): unknown => {
    if (Object.hasOwn(props, k)) return props[k];
    if (!byLower) {
      byLower = new Map();
      for (const [key, v] of Object.entries(props)) {
        const lower = key.toLowerCase();
        if (GIT_KEYS.has(lower) && !byLower.has(lower)) byLower.set(lower, v);
      }
    }
    return byLower.get(k.toLowerCase());
  };
  const str = (...keys: string[]) => {
    for (const k of keys) {
      const v = nonBlank(find(k));
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const repository = str('azureml.git.repository_uri', 'mlflow.source.git.repoURL');
  const branch = str('azureml.git.branch', 'mlflow.source.git.branch');
  const commit = str('azureml.git.commit', 'mlflow.source.git.commit');
  const dirtyText = str('azureml.git.dirty');
  if (!repository && !branch && !commit) return undefined;
  const git: GitProvenance = {};
  if (repository) git.repository = repository;
  if (branch) git.branch = branch;
  if (commit) git.commit = commit;
  if (dirtyText !== undefined) git.dirty = dirtyText.toLowerCase() === 'true';
  return git;
}

/** Run properties are all strings; some hold JSON (AutoML's `pipeline_spec`). Parsed copies sit beside them. */
export function jsonInStrings(props: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    if (typeof v !== 'string') continue;
    const t = v.trim();
    if (!(t.startsWith('{') && t.endsWith('}')) && !(t.startsWith('[') && t.endsWith(']'))) continue;
    try {
      out[k] = JSON.parse(t);
    } catch {
      // Not JSON after all; the string is kept as it is.
    }
  }
  return out;
}

/** Child runs of AutoML and HyperDrive sweeps are named after their parent: `AutoML_<guid>_<n>`. */
export function parentRunId(runId: string): string | undefined {
  const m = /^((?:AutoML|HD)_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_\d+$/i.exec(runId);
  return m?.[1];
}

const WORKSPACE_PREFIX =
  /^\/?subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.machinelearningservices\/workspaces\/[^/]+/i;
const REGISTRY_ID =
  /^\/?subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.machinelearningservices\/registries\/([^/]+)\/?$/i;

/**
 * The workspace a resource id belongs to, and the segments below it. Payloads name the workspace
 * itself or a resource under it (online-endpoint logs: `.../WORKSPACES/WS/ONLINEENDPOINTS/EP`),
 * often in upper case; the workspace key is the canonical lower-case id either way.
 */
export function workspaceOf(resourceId: string): { ws: WorkspaceId; rest: string[] } | undefined {
  const id = resourceId.trim();
  const m = WORKSPACE_PREFIX.exec(id);
  if (!m) return undefined;
  const ws = parseWorkspaceId(m[0]);
  if (!ws) return undefined;
  return {
    ws,
    rest: id
      .slice(m[0].length)
      .split('/')
      .filter((s) => s.length > 0),
  };
}

/** An Azure ML registry's name and canonical (lower-case) ARM id. */
export function registryOf(resourceId: string): { name: string; key: string } | undefined {
  const m = REGISTRY_ID.exec(resourceId.trim());
  if (!m?.[1]) return undefined;
  const id = resourceId.trim().replace(/\/+$/, '');
  return { name: m[1], key: (id.startsWith('/') ? id : `/${id}`).toLowerCase() };
}
