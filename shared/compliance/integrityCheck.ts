import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { EventLog } from '../store/eventLog.js';
import type { StoredDoc } from '../store/reads.js';
import { isTombstone } from '../store/tombstone.js';
import type { CheckpointRef, TlogStore } from '../store/tlogStore.js';
import { checkpointHash, openNote, parseCheckpointText, type Checkpoint } from '../tlog/checkpoint.js';
import { consistencyProof, hashLeaf, treeRoot, verifyConsistency } from '../tlog/merkle.js';
import { tileReader, tilesRead, TILE_WIDTH, type Tile } from '../tlog/tiles.js';
import { canonicalJson } from '../util/canonicalJson.js';
import { mapLimited } from '../util/mapLimited.js';
import { integrityFailureSchema, ratio, type IntegrityFailure } from './report.js';

/**
 * Integrity of the evidence log (issue 11): that every raw event still hashes to its id, that the
 * stored tree is the one the signed checkpoints name, and that each checkpoint extends the one
 * before it. An incremental run rehashes:
 * - every event document written since the last run (a rewrite under the original id changes the
 *   document's `_ts`, so a forged body is found by the next run, sequenced or not);
 * - every leaf sequenced since the last run, and a rotating sample of older ones (SAMPLE_LEAVES a
 *   run), against the stored bodies: a body altered, a leaf hash altered, an event deleted outside
 *   any retention policy;
 * - every checkpoint recorded since the last run: its signature by the log's key, its `previous`
 *   chain, its copy in the WORM blob container, and an RFC 9162 consistency proof from the last
 *   verified checkpoint computed from the stored tiles (a log rolled back to a shorter tree, or
 *   forked into a different one, fails here); and the latest checkpoint's root against the tiles.
 * `mode: "full"` starts from an empty state: every leaf and every checkpoint again.
 */

export const integrityStateSchema = z.object({
  /** Leaves [0, checkedSize) have each been rehashed at least once. */
  checkedSize: z.number().int().min(0),
  /** Where the rotating sample of older leaves goes on. */
  sampleFrom: z.number().int().min(0),
  /** The last checkpoint found consistent: the next must extend it. */
  verified: z.object({ size: z.number().int(), root: z.string(), hash: z.string() }).nullable(),
  checkpointsChecked: z.number().int().min(0),
  /** Event documents rehashed because they were written (counted once per write). */
  documentsChecked: z.number().int().min(0),
  failures: z.record(z.string(), integrityFailureSchema),
});
export type IntegrityState = z.infer<typeof integrityStateSchema>;

export function emptyIntegrityState(): IntegrityState {
  return { checkedSize: 0, sampleFrom: 0, verified: null, checkpointsChecked: 0, documentsChecked: 0, failures: {} };
}

/** Older leaves rehashed per run, on top of the new ones. */
export const SAMPLE_LEAVES = 1024;
/** Level-0 tiles read per step of a leaf pass. */
const TILES_PER_STEP = 40;

export interface IntegrityDeps {
  tlog: TlogStore;
  eventLog: EventLog;
  /** The log's verifier key (what GET /api/checkpoints/key serves). */
  verifierKey: () => Promise<string>;
  now: Date;
}

const keyOf = (f: Pick<IntegrityFailure, 'kind' | 'event' | 'checkpoint'>) => `${f.kind}|${f.event ?? ''}|${f.checkpoint ?? ''}`;
const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

function report(state: IntegrityState, deps: Pick<IntegrityDeps, 'now'>, failure: Omit<IntegrityFailure, 'detectedAt'>): void {
  const key = keyOf(failure);
  // First detection stays: a re-run that finds the same failure changes nothing.
  state.failures[key] = { ...failure, detectedAt: state.failures[key]?.detectedAt ?? deps.now.toISOString() };
}

function clearEvent(state: IntegrityState, id: string, kinds: IntegrityFailure['kind'][]): void {
  for (const kind of kinds) delete state.failures[keyOf({ kind, event: `sha256:${id}`, checkpoint: null })];
}

/** Rehashes event documents that were written (from the events change stream); returns how many were events. */
export function checkChangedEvents(state: IntegrityState, deps: Pick<IntegrityDeps, 'now'>, docs: StoredDoc[]): void {
  for (const doc of docs) {
    if (isTombstone(doc) || !('body' in doc)) continue;
    state.documentsChecked += 1;
    const actual = sha256Hex(canonicalJson(doc.body));
    if (actual === doc.id) clearEvent(state, doc.id, ['body-altered']);
    else
      report(state, deps, {
        kind: 'body-altered',
        event: `sha256:${doc.id}`,
        leafIndex: null,
        checkpoint: null,
        detail: `the stored body hashes to sha256:${actual}, not to its id: it was altered after it was logged`,
      });
  }
}

/** Checkpoints, tree and leaves; returns the store documents read. */
export async function checkLog(state: IntegrityState, deps: IntegrityDeps, full: boolean): Promise<number> {
  const { state: log } = await deps.tlog.readState();
  const latest = log.checkpoint;
  let read = 1;
  if (!latest) {
    if (state.verified)
      report(state, deps, {
        kind: 'log-rolled-back',
        event: null,
        leafIndex: null,
        checkpoint: state.verified.size,
        detail: `the log has no checkpoint, but checkpoint ${state.verified.size} was verified earlier`,
      });
    return read;
  }
  const key = await deps.verifierKey();
  read += await checkCheckpoints(state, deps, key, latest);
  // Leaves are checked up to the last checkpoint found consistent, never beyond what a signature covers.
  const size = Math.min(latest.size, state.verified?.size ?? 0);
  const from = full ? 0 : Math.min(state.checkedSize, size);
  read += await checkLeaves(state, deps, from, size);
  if (!full && from > 0) {
    const start = state.sampleFrom % from;
    const count = Math.min(SAMPLE_LEAVES, from);
    const end = start + count;
    read += await checkLeaves(state, deps, start, Math.min(end, from));
    if (end > from) read += await checkLeaves(state, deps, 0, end - from);
    state.sampleFrom = end % from;
  }
  state.checkedSize = Math.max(state.checkedSize, size);
  return read;
}

function open(note: string, key: string): Checkpoint {
  return parseCheckpointText(openNote(note, key));
}

async function checkCheckpoints(state: IntegrityState, deps: IntegrityDeps, key: string, latest: CheckpointRef): Promise<number> {
  const verified = state.verified;
  if (verified && latest.size < verified.size) {
    report(state, deps, {
      kind: 'log-rolled-back',
      event: null,
      leafIndex: null,
      checkpoint: latest.size,
      detail: `the latest checkpoint names a tree of ${latest.size} leaves, shorter than the ${verified.size} verified earlier`,
    });
    return 0;
  }
  if (verified && latest.size === verified.size && latest.hash !== verified.hash) {
    report(state, deps, {
      kind: 'checkpoint-inconsistent',
      event: null,
      leafIndex: null,
      checkpoint: latest.size,
      detail: `the latest checkpoint is not the one of ${latest.size} leaves verified earlier: the log was forked`,
    });
    return 0;
  }
  const recorded = await deps.tlog.checkpointsAfter(verified?.size ?? 0);
  // The state's latest must be among them (or be the one verified): it is what proofs are given against.
  const chain = recorded.some((c) => c.size === latest.size) || latest.size === verified?.size ? recorded : [...recorded, latest];
  let read = chain.length;
  let previous: { size: number; root: Buffer; hash: string } | undefined = verified
    ? { size: verified.size, root: Buffer.from(verified.root, 'base64'), hash: verified.hash }
    : undefined;
  for (const ref of chain) {
    state.checkpointsChecked += 1;
    const failure = (kind: IntegrityFailure['kind'], detail: string) =>
      report(state, deps, { kind, event: null, leafIndex: null, checkpoint: ref.size, detail });
    let checkpoint: Checkpoint;
    try {
      checkpoint = open(ref.note, key);
    } catch (error) {
      failure(
        'checkpoint-invalid',
        `the signature does not verify with the log's key: ${error instanceof Error ? error.message : String(error)}`,
      );
      return read;
    }
    if (checkpoint.size !== ref.size) {
      failure('checkpoint-invalid', `recorded as checkpoint ${ref.size} but names a tree of ${checkpoint.size} leaves`);
      return read;
    }
    const archived = await deps.tlog.archivedCheckpoint(ref.size);
    read += 1;
    if (archived === ref.note) delete state.failures[keyOf({ kind: 'checkpoint-archive-mismatch', event: null, checkpoint: ref.size })];
    else {
      failure(
        'checkpoint-archive-mismatch',
        archived === undefined ? 'not in the immutable blob archive' : 'differs from its copy in the immutable blob archive',
      );
    }
    if (previous) {
      if (checkpoint.previous?.toString('base64') !== previous.hash) {
        failure('checkpoint-inconsistent', `its "previous" line does not name the hash of checkpoint ${previous.size}`);
        return read;
      }
      const [first, second] = [previous.size, checkpoint.size];
      const tiles = await deps.tlog.readTiles(tilesRead((r) => consistencyProof(first, second, r)));
      read += tiles.length;
      const proof = safely(() => consistencyProof(first, second, tileReader(tiles)));
      if (!proof || !verifyConsistency(first, second, previous.root, checkpoint.root, proof)) {
        failure(
          'checkpoint-inconsistent',
          `the stored tree does not prove it extends checkpoint ${first}: the log was forked or its tiles rewritten`,
        );
        return read;
      }
    }
    // Consistent now (a forged copy was put back, say): what was reported against it is over.
    for (const kind of ['checkpoint-inconsistent', 'checkpoint-invalid'] as const)
      delete state.failures[keyOf({ kind, event: null, checkpoint: ref.size })];
    const hash = checkpointHash(ref.note).toString('base64');
    previous = { size: checkpoint.size, root: checkpoint.root, hash };
    state.verified = { size: checkpoint.size, root: checkpoint.root.toString('base64'), hash };
  }
  // The tiles now stored must still hash to the latest verified root.
  if (state.verified) {
    const { size, root } = state.verified;
    const tiles = await deps.tlog.readTiles(tilesRead((r) => treeRoot(size, r)));
    read += tiles.length;
    const actual = safely(() => treeRoot(size, tileReader(tiles)));
    if (!actual || actual.toString('base64') !== root)
      report(state, deps, {
        kind: 'checkpoint-inconsistent',
        event: null,
        leafIndex: null,
        checkpoint: size,
        detail: 'the stored tiles no longer hash to the root this checkpoint signed: they were rewritten',
      });
  }
  return read;
}

function safely<T>(compute: () => T): T | undefined {
  try {
    return compute();
  } catch {
    return undefined;
  }
}

/** Rehashes leaves [from, to) against the stored bodies (or tombstones); returns documents read. */
async function checkLeaves(state: IntegrityState, deps: IntegrityDeps, from: number, to: number): Promise<number> {
  let read = 0;
  for (let tile = Math.floor(from / TILE_WIDTH); tile * TILE_WIDTH < to; tile += TILES_PER_STEP) {
    const keys = [];
    for (let t = tile; t < tile + TILES_PER_STEP && t * TILE_WIDTH < to; t++) keys.push({ level: 0, index: t });
    const tiles = new Map<number, Tile>((await deps.tlog.readTiles(keys)).map((t) => [t.index, t]));
    read += tiles.size;
    const leaves: Array<{ index: number; id: string; leaf: Buffer }> = [];
    for (let i = Math.max(from, tile * TILE_WIDTH); i < Math.min(to, (tile + TILES_PER_STEP) * TILE_WIDTH); i++) {
      const t = tiles.get(Math.floor(i / TILE_WIDTH));
      const offset = i % TILE_WIDTH;
      const id = t?.entries?.[offset];
      if (!t || !id || t.hashes.length < (offset + 1) * 32) {
        report(state, deps, {
          kind: 'leaf-mismatch',
          event: null,
          leafIndex: i,
          checkpoint: null,
          detail: 'the tile holding this leaf is missing or cut short',
        });
        continue;
      }
      leaves.push({ index: i, id, leaf: t.hashes.subarray(offset * 32, offset * 32 + 32) });
    }
    const stored = await mapLimited(leaves, 16, (l) => deps.eventLog.lookup(l.id));
    read += leaves.length;
    leaves.forEach(({ index, id, leaf }, n) => checkLeaf(state, deps, index, id, leaf, stored[n]));
  }
  return read;
}

function checkLeaf(
  state: IntegrityState,
  deps: IntegrityDeps,
  leafIndex: number,
  id: string,
  leaf: Buffer,
  found: Awaited<ReturnType<EventLog['lookup']>>,
): void {
  const event = `sha256:${id}`;
  const fail = (kind: IntegrityFailure['kind'], detail: string) =>
    report(state, deps, { kind, event, leafIndex, checkpoint: null, detail });
  if (!found) return fail('event-missing', 'the log holds neither the event nor a tombstone: it was deleted outside any retention policy');
  clearEvent(state, id, ['event-missing']);
  if ('tombstone' in found) {
    const kept = found.tombstone.tombstone.leafHash;
    if (kept !== undefined && kept !== leaf.toString('base64'))
      return fail('leaf-mismatch', 'the leaf hash its tombstone keeps differs from the one in the tree');
    clearEvent(state, id, ['body-altered', 'leaf-mismatch']);
    return;
  }
  const bytes = Buffer.from(canonicalJson(found.event.body), 'utf8');
  if (createHash('sha256').update(bytes).digest('hex') !== id)
    return fail('body-altered', 'the stored body does not hash to its id: it was altered after it was sequenced');
  if (!hashLeaf(bytes).equals(leaf)) return fail('leaf-mismatch', 'the leaf hash in the tree is not that of the stored body');
  clearEvent(state, id, ['body-altered', 'leaf-mismatch']);
}

/** Things checked: leaves (each once, however often resampled), checkpoints and written event documents; fine = checked minus open failures. */
export function integritySection(state: IntegrityState) {
  const items = Object.values(state.failures).sort(
    (a, b) => a.kind.localeCompare(b.kind) || (a.event ?? '').localeCompare(b.event ?? '') || (a.checkpoint ?? 0) - (b.checkpoint ?? 0),
  );
  const denominator = state.checkedSize + state.checkpointsChecked + state.documentsChecked;
  const numerator = Math.max(0, denominator - items.length);
  return {
    numerator,
    denominator,
    ratio: ratio(numerator, denominator),
    items,
    treeSize: state.checkedSize,
    verifiedCheckpoint: state.verified?.size ?? null,
  };
}
