import { parseWorkspaceId, type WorkspaceId } from '../../graph/keys.js';
import type { MonitorRecord } from './fields.js';
import { invalid, type MonitorResult } from './result.js';

const WORKSPACE_PREFIX =
  /^\/?subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.machinelearningservices\/workspaces\/[^/]+/i;
const REGISTRY_ID =
  /^\/?subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.machinelearningservices\/registries\/([^/]+)\/?$/i;

/**
 * The workspace a resource id belongs to, and the segments below it. Records name the workspace
 * itself or a resource under it (online-endpoint logs: `.../WORKSPACES/WS/ONLINEENDPOINTS/EP`),
 * usually in upper case; the workspace key is the canonical lower-case id either way.
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

export function registryOf(resourceId: string): { name: string; key: string } | undefined {
  const m = REGISTRY_ID.exec(resourceId.trim());
  if (!m?.[1]) return undefined;
  const id = resourceId.trim().replace(/\/+$/, '');
  return { name: m[1], key: (id.startsWith('/') ? id : `/${id}`).toLowerCase() };
}

const WORKSPACE_EXPECTED =
  'expected the ARM id of an Azure ML workspace or of a resource in one (/subscriptions/…/providers/Microsoft.MachineLearningServices/workspaces/…)';

/** The record's workspace, or the `invalid` result that says why there is none. */
export function recordWorkspace(r: MonitorRecord): { ws: WorkspaceId; rest: string[] } | MonitorResult {
  if (!r.resourceId) return invalid('resourceId', `required: ${WORKSPACE_EXPECTED}`);
  return workspaceOf(r.resourceId) ?? invalid('resourceId', WORKSPACE_EXPECTED);
}

export function isResult(v: { ws: WorkspaceId } | MonitorResult): v is MonitorResult {
  return 'status' in v;
}
