import type { EnrichmentKind } from '../ingest/enrichmentMessage.js';
import { resourceTime, type RestObservation } from '../ingest/rest/observation.js';
import { captureEvent } from './captureEvent.js';
import type { EnrichDeps } from './enrich.js';

/**
 * Imports an existing workspace through the REST API's list operations, so lineage starts
 * complete instead of from the next event. Work is split into units (one list operation each);
 * the state records finished units and the `nextLink` of the current one, so an interrupted run
 * resumes where it stopped. Every item goes through normal capture, so running it again changes
 * nothing.
 */
export interface BackfillState {
  workspace: string;
  /** List operations fully imported, by collection path relative to the workspace. */
  done: string[];
  /** The list operation in progress and the page to continue from. */
  current?: { unit: string; nextLink?: string };
  counts: Record<string, number>;
  startedAt: string;
  updatedAt: string;
  finished: boolean;
}

export interface BackfillOptions {
  state?: BackfillState;
  save: (state: BackfillState) => Promise<void>;
  onProgress?: (state: BackfillState, message: string) => void;
  /** Checked between items; when it says stop, the state is saved and the run returns. */
  shouldStop?: () => boolean;
}

export interface Unit {
  path: string;
  kind: EnrichmentKind | 'container';
  /** For asset containers: the version collection to list under each container. */
  versions?: EnrichmentKind;
}

/** The list operations a backfill walks, in order (the CLI shows progress over them). */
export const TOP_LEVEL: Unit[] = [
  { path: 'jobs', kind: 'job' },
  { path: 'models', kind: 'container', versions: 'model' },
  { path: 'data', kind: 'container', versions: 'data' },
  { path: 'environments', kind: 'container', versions: 'environment' },
  { path: 'codes', kind: 'container', versions: 'code' },
  { path: 'computes', kind: 'compute' },
  { path: 'onlineEndpoints', kind: 'endpoint' },
  { path: 'batchEndpoints', kind: 'endpoint' },
];

function itemId(item: unknown): string | undefined {
  const id = (item as { id?: unknown }).id;
  return typeof id === 'string' && id.startsWith('/subscriptions/') ? id : undefined;
}

export async function backfill(deps: EnrichDeps, workspaceArmId: string, options: BackfillOptions): Promise<BackfillState> {
  const ws = workspaceArmId.replace(/\/+$/, '');
  const now = () => deps.now().toISOString();
  const state: BackfillState =
    options.state && !options.state.finished
      ? options.state
      : { workspace: ws, done: [], counts: {}, startedAt: now(), updatedAt: now(), finished: false };
  const doneSet = new Set(state.done);
  const count = (key: string) => (state.counts[key] = (state.counts[key] ?? 0) + 1);
  const save = async () => {
    state.updatedAt = now();
    await options.save(state);
  };

  const capture = async (kind: EnrichmentKind, armId: string, resource: unknown, deployments?: unknown[]) => {
    const observation: RestObservation = {
      kind,
      armId,
      apiVersion: deps.apiVersion,
      status: 200,
      resource,
      ...(resourceTime(resource) ? {} : { fetchedAt: now() }),
      ...(deployments ? { deployments } : {}),
    };
    // Links found here are imported by the backfill itself; no follow-up fetches.
    const outcome = await captureEvent(deps, observation, { channel: 'rest', followUp: false });
    count(outcome.status === 'projected' ? kind : `${kind}:${outcome.status}`);
  };

  /** Runs one list operation, resuming from the saved page when it is the current unit. */
  const runUnit = async (unit: string, onItem: (item: unknown) => Promise<void>): Promise<boolean> => {
    if (doneSet.has(unit)) return true;
    const from = state.current?.unit === unit ? state.current.nextLink : undefined;
    state.current = { unit, nextLink: from };
    for await (const page of deps.arm.pages(`${ws}/${unit}`, from)) {
      for (const item of page.items) await onItem(item);
      state.current = { unit, nextLink: page.nextLink };
      await save();
      options.onProgress?.(state, `${unit}: page done`);
      if (options.shouldStop?.()) return false;
    }
    doneSet.add(unit);
    state.done = [...doneSet];
    state.current = undefined;
    await save();
    return true;
  };

  for (const top of TOP_LEVEL) {
    const completed = await runUnit(top.path, async (item) => {
      const id = itemId(item);
      if (!id) {
        count(`${top.path}:skipped`);
        return;
      }
      if (top.kind === 'container') {
        const name = id.split('/').pop() as string;
        const versions = `${top.path}/${name}/versions`;
        // Versions are their own unit so a large container resumes mid-way too.
        const ok = await runUnit(versions, async (version) => {
          const vid = itemId(version);
          if (vid) await capture(top.versions as EnrichmentKind, vid, version);
        });
        if (!ok) throw new StopRequested();
      } else if (top.kind === 'endpoint') {
        const deployments: unknown[] = [];
        for await (const d of deps.arm.list(`${id}/deployments`)) deployments.push(d);
        await capture('endpoint', id, item, deployments);
        for (const d of deployments) {
          const did = itemId(d);
          if (did) await capture('deployment', did, d);
        }
      } else {
        await capture(top.kind, id, item);
      }
      if (options.shouldStop?.()) throw new StopRequested();
    }).catch((error: unknown) => {
      if (error instanceof StopRequested) return false;
      throw error;
    });
    if (!completed) {
      await save();
      return state;
    }
  }
  state.finished = true;
  await save();
  return state;
}

class StopRequested extends Error {}
