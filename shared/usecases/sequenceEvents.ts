import { createHash } from 'node:crypto';
import { CorruptDocumentError } from '../errors.js';
import type { TlogState, TlogStore } from '../store/tlogStore.js';
import {
  checkpointHash,
  checkpointText,
  openNote,
  parseCheckpointText,
  parseNote,
  publicKeyInfo,
  signNote,
  type CheckpointSigner,
} from '../tlog/checkpoint.js';
import { hashLeaf, treeRoot } from '../tlog/merkle.js';
import { rightEdge, TILE_WIDTH, TileWriter } from '../tlog/tiles.js';
import { canonicalJson } from '../util/canonicalJson.js';

/**
 * The sequencer: gives every raw event logged since its last run the next leaf index of the
 * evidence log, then signs a checkpoint of the grown tree.
 *
 * Capture never waits for it and takes no lock: capture only writes the event log, and the
 * sequencer reads that log by Cosmos timestamp (`_ts`), from where its previous run stopped less
 * an overlap (TLOG_SCAN_OVERLAP_SECONDS) that covers writes whose timestamp lands late. Events seen
 * again in the overlap, or rewritten since (legal-hold marks change `_ts`), are recognised by
 * their hash in the level-0 tiles and not sequenced twice.
 *
 * Single writer: every step commits in one transactional batch guarded by the state document's
 * ETag. A run that loses the race (a timer run and a manual one at once) starts over from the
 * winner's state; nothing it did is kept. A checkpoint is signed only after the tree it names is
 * committed, so no two signed checkpoints can disagree.
 *
 * The canonical bytes of a leaf are the UTF-8 canonical JSON of the event body as stored, the
 * same bytes its id hashes: a leaf is `H(0x00 || bytes)` and the event id is `SHA-256(bytes)`.
 * Until a run sequences an event (at most one schedule period), it is logged but not yet protected.
 */

export interface SequencerDeps {
  tlog: TlogStore;
  signer: CheckpointSigner;
  origin: string;
  overlapSeconds: number;
  now: () => Date;
  /** Leaves per transactional batch; the default keeps a batch well under Cosmos DB's 2 MB. */
  leavesPerCommit?: number;
}

export interface SequenceResult {
  /** `superseded`: other runs kept committing first; they sequence what this one would have. */
  status: 'sequenced' | 'idle' | 'superseded';
  /** Leaves added by this run. */
  sequenced: number;
  size: number;
  /** The checkpoint this run signed, if it signed one. */
  checkpoint?: { size: number; note: string };
  /** Event ids whose stored body does not hash to the id: not sequenced (the integrity check reports them). */
  mismatched: string[];
  /** Documents in the event log that are neither a raw event nor a tombstone. */
  unreadable: string[];
  /** Tombstones met in the scan (purged records, or rewritten ones already sequenced). */
  purged: number;
  commits: number;
}

/** 32 full level-0 tiles: about 1 MB of tiles in one batch. */
export const LEAVES_PER_COMMIT = 32 * TILE_WIDTH;
const MAX_ATTEMPTS = 3;

export async function sequenceEvents(deps: SequencerDeps): Promise<SequenceResult> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const result = await attemptSequencing(deps);
    if (result) return result;
  }
  const { state } = await deps.tlog.readState();
  return { status: 'superseded', sequenced: 0, size: state.size, mismatched: [], unreadable: [], purged: 0, commits: 0 };
}

/** Is `archived` a checkpoint signed by our key of the same tree as `ours`? */
async function sameTree(archived: string, ours: string, signer: CheckpointSigner): Promise<boolean> {
  let text: string;
  try {
    text = openNote(archived, publicKeyInfo(signer.keyName, await signer.publicKey()).verifierKey);
  } catch {
    return false;
  }
  const [x, y] = [parseCheckpointText(text), parseCheckpointText(parseNote(ours).text)];
  return x.size === y.size && x.origin === y.origin && x.root.equals(y.root);
}

/** One attempt; undefined when another run committed first. */
async function attemptSequencing(deps: SequencerDeps): Promise<SequenceResult | undefined> {
  const { tlog } = deps;
  let { state, etag } = await tlog.readState();
  const writer = new TileWriter(state.size, await tlog.readTiles(rightEdge(state.size)));
  if (state.size > 0 && treeRoot(state.size, writer.reader()).toString('base64') !== state.root) {
    throw new CorruptDocumentError('the evidence log right-edge tiles do not match the recorded root');
  }
  const result: SequenceResult = { status: 'idle', sequenced: 0, size: state.size, mismatched: [], unreadable: [], purged: 0, commits: 0 };
  const appended = new Set<string>();
  let pending = 0;
  let scanFrom = state.scanFrom;

  const commit = async (): Promise<boolean> => {
    const next: TlogState = {
      ...state,
      size: writer.size,
      root: treeRoot(writer.size, writer.reader()).toString('base64'),
      scanFrom: Math.max(state.scanFrom, scanFrom),
    };
    const committed = await tlog.commit(etag, next, writer.takeChanged());
    if (committed === undefined) return false;
    state = next;
    etag = committed;
    result.commits += 1;
    pending = 0;
    return true;
  };

  for await (const page of tlog.scanEvents(state.scanFrom)) {
    const candidates: Array<{ id: string; leaf: Buffer }> = [];
    let pageMaxTs = 0;
    for (const doc of page) {
      pageMaxTs = Math.max(pageMaxTs, doc.ts);
      if (doc.tombstone) result.purged += 1;
      else if (!doc.event) result.unreadable.push(doc.id);
      else {
        const bytes = Buffer.from(canonicalJson(doc.event.body), 'utf8');
        if (createHash('sha256').update(bytes).digest('hex') !== doc.id) result.mismatched.push(doc.id);
        else if (!appended.has(doc.id)) candidates.push({ id: doc.id, leaf: hashLeaf(bytes) });
      }
    }
    const known = new Set((await tlog.findLeafTiles(candidates.map((c) => c.id))).flatMap((t) => t.entries ?? []));
    for (const c of candidates) {
      if (known.has(c.id)) continue;
      writer.append(c.leaf, c.id);
      appended.add(c.id);
      pending += 1;
      result.sequenced += 1;
      if (pending >= (deps.leavesPerCommit ?? LEAVES_PER_COMMIT) && !(await commit())) return undefined;
    }
    // Pages come oldest first: everything stamped before this page's last timestamp has been seen,
    // except writes whose timestamp lands late, which the overlap covers.
    scanFrom = Math.max(scanFrom, pageMaxTs - deps.overlapSeconds);
  }
  if (pending > 0 && !(await commit())) return undefined;
  result.size = state.size;

  if (state.size > 0 && state.checkpoint?.size !== state.size) {
    if (etag === undefined) throw new Error('unreachable: a committed state has an ETag');
    const previous = state.checkpoint;
    const text = checkpointText({
      origin: deps.origin,
      size: state.size,
      root: Buffer.from(state.root, 'base64'),
      time: deps.now().toISOString(),
      ...(previous ? { previous: Buffer.from(previous.hash, 'base64') } : {}),
    });
    // Blob first, then Cosmos: a run that stopped between the two left a checkpoint of this very
    // tree in the (write-once) blob, which is adopted rather than signed again.
    const signed = await signNote(text, deps.signer);
    const note = await tlog.archiveCheckpoint(state.size, signed);
    if (note !== signed && !(await sameTree(note, signed, deps.signer))) {
      throw new CorruptDocumentError(`the archived checkpoint of size ${state.size} is not ours for this tree: the log has forked`);
    }
    const ref = { size: state.size, note, hash: checkpointHash(note).toString('base64') };
    if ((await tlog.recordCheckpoint(etag, state, ref)) === undefined) return undefined;
    result.checkpoint = { size: ref.size, note };
  }
  if (result.sequenced > 0 || result.checkpoint) result.status = 'sequenced';
  return result;
}
