import { createHash } from 'node:crypto';
import { canSee } from '../access.js';
import { CorruptDocumentError, DomainError } from '../errors.js';
import { workspaceOf } from '../ingest/payload.js';
import type { EventLog, RawEvent } from '../store/eventLog.js';
import type { CheckpointRef, TlogStore } from '../store/tlogStore.js';
import { parseCheckpointText, parseNote } from '../tlog/checkpoint.js';
import { EVIDENCE_PACK_FORMAT, type EvidenceFact, type EvidencePack } from '../tlog/evidencePack.js';
import { inclusionProof, verifyInclusion } from '../tlog/merkle.js';
import { tileKey, tileReader, tilesRead, TILE_WIDTH, type Tile } from '../tlog/tiles.js';
import { canonicalJson } from '../util/canonicalJson.js';
import { mapLimited } from '../util/mapLimited.js';

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

/** One event as stored (or the tombstone it left), its leaf and proof, and the checkpoint: `GET /api/events/{hash}`. */
export async function eventWithProof(
  deps: ProofDeps,
  hash: string,
): Promise<{ stored?: StoredEvent; inclusion?: EventInclusion; checkpoint?: CheckpointRef }> {
  const [stored, proved] = await Promise.all([deps.eventLog.lookup(hexOf(hash)), inclusionProofs(deps.tlog, [hash])]);
  const inclusion = proved.proofs.get(hexOf(hash));
  return {
    ...(stored ? { stored } : {}),
    ...(inclusion ? { inclusion } : {}),
    ...(proved.checkpoint ? { checkpoint: proved.checkpoint } : {}),
  };
}

type StoredEvent = NonNullable<Awaited<ReturnType<EventLog['lookup']>>>;

/** What `GET /api/events/{hash}` answers. */
export interface EventEvidence {
  hash: string;
  /** `sequenced`: under the checkpoint below; `pending`: logged, not yet sequenced (not yet protected). */
  status: 'sequenced' | 'pending';
  /** The stored record's envelope; null once purged. */
  event: { channel: string; receivedAt: string; eventId?: string; eventType?: string; eventSource?: string; eventTime?: string } | null;
  /** The body as stored, and the exact bytes its hash and leaf are computed over (canonical JSON); null once purged. */
  body: unknown;
  canonicalBody: string | null;
  /** Whether SHA-256 of `canonicalBody` is `hash`; false means the stored body was altered. Null once purged. */
  bodyMatchesHash: boolean | null;
  purged: { purgedAt: string; policy: string } | null;
  leafIndex: number | null;
  leafHash: string | null;
  inclusionProof: string[] | null;
  /** The signed checkpoint (C2SP signed note) the proof is against, and its tree size. */
  checkpoint: string | null;
  treeSize: number | null;
}

const WORKSPACE_ID = /\/subscriptions\/[^/"]+\/resourcegroups\/[^/"]+\/providers\/microsoft\.machinelearningservices\/workspaces\/[^/"?]+/i;

/**
 * The workspace a raw event is about: its Event Grid source, else the first workspace ARM id in
 * its body (Event Hubs records name it in `resourceId`, REST responses in `id`).
 */
function workspaceOfEvent(event: RawEvent): string | null {
  const found = WORKSPACE_ID.exec(event.eventSource ?? JSON.stringify(event.body ?? null));
  return found ? (workspaceOf(found[0])?.ws.key ?? null) : null;
}

/**
 * One raw event for an auditor: 404 when the log has neither the event nor its tombstone, or when
 * the caller's workspaces do not include the event's (a limited role sees only its workspaces'
 * events; one whose workspace cannot be read is not shown to it).
 */
export async function eventEvidence(deps: ProofDeps, hash: string, scope: Set<string> | null): Promise<EventEvidence> {
  const id = hexOf(hash).toLowerCase();
  const { stored, inclusion, checkpoint } = await eventWithProof(deps, id);
  const notFound = new DomainError('not-found', `No raw event sha256:${id} is in the event log.`);
  if (!stored) throw notFound;
  if (scope !== null) {
    const workspace = 'event' in stored ? workspaceOfEvent(stored.event) : stored.tombstone.tombstone.workspace;
    if (workspace === null || !canSee(scope, workspace)) throw notFound;
  }
  const event = 'event' in stored ? stored.event : undefined;
  const canonicalBody = event ? canonicalJson(event.body) : null;
  const tombstone = 'tombstone' in stored ? stored.tombstone.tombstone : undefined;
  return {
    hash: `sha256:${id}`,
    status: inclusion ? 'sequenced' : 'pending',
    event: event
      ? {
          channel: event.channel,
          receivedAt: event.receivedAt,
          ...(event.eventId ? { eventId: event.eventId } : {}),
          ...(event.eventType ? { eventType: event.eventType } : {}),
          ...(event.eventSource ? { eventSource: event.eventSource } : {}),
          ...(event.eventTime ? { eventTime: event.eventTime } : {}),
        }
      : null,
    body: event ? event.body : null,
    canonicalBody,
    bodyMatchesHash: canonicalBody === null ? null : createHash('sha256').update(canonicalBody, 'utf8').digest('hex') === id,
    purged: tombstone ? { purgedAt: tombstone.purgedAt, policy: tombstone.policy } : null,
    leafIndex: inclusion?.leafIndex ?? null,
    leafHash: inclusion?.leafHash ?? null,
    inclusionProof: inclusion?.inclusionProof ?? null,
    checkpoint: inclusion && checkpoint ? checkpoint.note : null,
    treeSize: inclusion && checkpoint ? checkpoint.size : null,
  };
}

/**
 * An evidence pack (tlog/evidencePack.ts) citing `hashes`, each with an optional label. A record
 * purged under a retention policy keeps its leaf hash and proof and says when and under which
 * policy; one missing from the event log altogether keeps them too but has no body, so a verifier
 * fails it. Records not yet sequenced are returned apart.
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
  const stored = await mapLimited(cited, 32, async (c) =>
    proved.proofs.has(hexOf(c.hash)) ? deps.eventLog.lookup(hexOf(c.hash)) : undefined,
  );
  cited.forEach((c, i) => {
    const inclusion = proved.proofs.get(hexOf(c.hash));
    if (!inclusion) return;
    const found = stored[i];
    const proof = { hash: inclusion.hash, leafIndex: inclusion.leafIndex, inclusionProof: inclusion.inclusionProof };
    const label = c.label ? { label: c.label } : {};
    if (found && 'event' in found) facts.push({ ...label, ...proof, body: canonicalJson(found.event.body) });
    else if (found)
      facts.push({
        ...label,
        ...proof,
        leafHash: inclusion.leafHash,
        purged: { purgedAt: found.tombstone.tombstone.purgedAt, policy: found.tombstone.tombstone.policy },
      });
    else facts.push({ ...label, ...proof, leafHash: inclusion.leafHash });
  });
  return { pack: { format: EVIDENCE_PACK_FORMAT, checkpoint: proved.checkpoint.note, facts }, notSequenced: proved.notSequenced };
}
