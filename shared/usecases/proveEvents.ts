import { CorruptDocumentError } from '../errors.js';
import type { EventLog, RawEvent } from '../store/eventLog.js';
import type { CheckpointRef, TlogStore } from '../store/tlogStore.js';
import { parseCheckpointText, parseNote } from '../tlog/checkpoint.js';
import { EVIDENCE_PACK_FORMAT, type EvidenceFact, type EvidencePack } from '../tlog/evidencePack.js';
import { inclusionProof, verifyInclusion } from '../tlog/merkle.js';
import { tileKey, tileReader, tilesRead, TILE_WIDTH, type Tile } from '../tlog/tiles.js';
import { canonicalJson } from '../util/canonicalJson.js';

/**
 * Inclusion proofs for logged events against the latest checkpoint, in two store round trips
 * whatever the number of events: (1) the state (latest checkpoint) and the level-0 tiles listing
 * the events, in parallel; (2) every other tile the proofs read, in one query.
 */

export interface EventInclusion {
  /** `sha256:<hex>`. */
  hash: string;
  leafIndex: number;
  /** Base64 hashes, leaf to root (RFC 9162 PATH). */
  inclusionProof: string[];
  /** Base64 leaf hash, as the tile holds it. */
  leafHash: string;
}

export interface InclusionProofs {
  /** The checkpoint every proof is against; undefined before the first sequencing run. */
  checkpoint?: CheckpointRef;
  proofs: Map<string, EventInclusion>;
  /** Hashes not (yet) under the checkpoint: logged after the last sequencing run, or unknown. */
  notSequenced: string[];
}

const hexOf = (hash: string): string => hash.replace(/^sha256:/, '');

export async function inclusionProofs(tlog: TlogStore, hashes: readonly string[]): Promise<InclusionProofs> {
  const ids = [...new Set(hashes.map(hexOf))];
  const [{ state }, leafTiles] = await Promise.all([tlog.readState(), tlog.findLeafTiles(ids)]);
  const checkpoint = state.checkpoint;
  const size = checkpoint?.size ?? 0;
  const wanted = new Set(ids);
  const at = new Map<string, number>();
  for (const tile of leafTiles) {
    (tile.entries ?? []).forEach((id, i) => {
      const index = tile.index * TILE_WIDTH + i;
      if (index < size && wanted.has(id)) at.set(id, index);
    });
  }
  const proofs = new Map<string, EventInclusion>();
  const notSequenced = ids.filter((id) => !at.has(id)).map((id) => `sha256:${id}`);
  if (!checkpoint || at.size === 0) return { ...(checkpoint ? { checkpoint } : {}), proofs, notSequenced };

  const have = new Map<string, Tile>(leafTiles.map((t) => [tileKey(t.level, t.index), t]));
  const needed = new Map<string, { level: number; index: number }>();
  for (const index of at.values()) {
    for (const t of tilesRead((read) => inclusionProof(index, size, read))) {
      if (!have.has(tileKey(t.level, t.index))) needed.set(tileKey(t.level, t.index), t);
    }
  }
  for (const t of await tlog.readTiles([...needed.values()])) have.set(tileKey(t.level, t.index), t);

  const read = tileReader(have.values());
  const root = parseCheckpointText(parseNote(checkpoint.note).text).root;
  for (const [id, index] of at) {
    const leafHash = read(0, index);
    const proof = inclusionProof(index, size, read);
    // The tiles must agree with what the checkpoint signed; if not, someone rewrote them.
    if (!verifyInclusion(index, size, leafHash, proof, root)) {
      throw new CorruptDocumentError(`the evidence log tiles do not match checkpoint ${size} at leaf ${index}`);
    }
    proofs.set(id, {
      hash: `sha256:${id}`,
      leafIndex: index,
      inclusionProof: proof.map((p) => p.toString('base64')),
      leafHash: leafHash.toString('base64'),
    });
  }
  return { checkpoint, proofs, notSequenced };
}

export interface ProofDeps {
  tlog: TlogStore;
  eventLog: EventLog;
}

/** One event as stored, its leaf and proof, and the checkpoint: `GET /api/events/{hash}`. */
export async function eventWithProof(
  deps: ProofDeps,
  hash: string,
): Promise<{ event?: RawEvent; inclusion?: EventInclusion; checkpoint?: CheckpointRef }> {
  const [event, proved] = await Promise.all([deps.eventLog.get(hexOf(hash)), inclusionProofs(deps.tlog, [hash])]);
  const inclusion = proved.proofs.get(hexOf(hash));
  return {
    ...(event ? { event } : {}),
    ...(inclusion ? { inclusion } : {}),
    ...(proved.checkpoint ? { checkpoint: proved.checkpoint } : {}),
  };
}

/**
 * An evidence pack (tlog/evidencePack.ts) citing `hashes`, each with an optional label. A record
 * missing from the event log keeps its leaf hash and proof but no body, so a verifier fails it;
 * records not yet sequenced are returned apart.
 */
export async function evidencePack(
  deps: ProofDeps,
  cited: ReadonlyArray<{ hash: string; label?: string }>,
): Promise<{ pack?: EvidencePack; notSequenced: string[] }> {
  const proved = await inclusionProofs(
    deps.tlog,
    cited.map((c) => c.hash),
  );
  if (!proved.checkpoint) return { notSequenced: proved.notSequenced };
  const facts: EvidenceFact[] = [];
  const bodies = await mapLimited(cited, 32, async (c) =>
    proved.proofs.has(hexOf(c.hash)) ? deps.eventLog.get(hexOf(c.hash)) : undefined,
  );
  cited.forEach((c, i) => {
    const inclusion = proved.proofs.get(hexOf(c.hash));
    if (!inclusion) return;
    const event = bodies[i];
    facts.push({
      ...(c.label ? { label: c.label } : {}),
      hash: inclusion.hash,
      leafIndex: inclusion.leafIndex,
      inclusionProof: inclusion.inclusionProof,
      ...(event ? { body: canonicalJson(event.body) } : { leafHash: inclusion.leafHash }),
    });
  });
  return { pack: { format: EVIDENCE_PACK_FORMAT, checkpoint: proved.checkpoint.note, facts }, notSequenced: proved.notSequenced };
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}
