import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/composition.js';
import type { ComplianceReport } from '../../shared/compliance/report.js';
import { runCompliance } from '../../shared/compliance/runCompliance.js';
import { LocalKeyFileSigner } from '../../shared/store/checkpointSigner.js';
import { checkpointHash, checkpointText, signNote } from '../../shared/tlog/checkpoint.js';
import { hashLeaf } from '../../shared/tlog/merkle.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { sequenceEvents } from '../../shared/usecases/sequenceEvents.js';
import { modelRegistered } from '../helpers/events.js';
import { cosmosContainers, freshServices } from '../helpers/stores.js';

/**
 * The compliance report's integrity section against the embedded Cosmos DB server and Azurite:
 * every tamper case of issue 11 an insider with the app's write access could try, found by the
 * next incremental run.
 */
const keys = mkdtempSync(join(tmpdir(), 'integrity-it-'));
afterAll(() => rmSync(keys, { recursive: true, force: true }));

let services: Services;
let hashes: string[];
beforeEach(async () => {
  services = await freshServices({
    COMPLIANCE_CONTAINER: `compliance-${randomUUID().slice(0, 8)}`,
    TLOG_LOCAL_KEY_FILE: join(keys, `${randomUUID()}.pem`),
  });
  hashes = [];
  for (let v = 1; v <= 3; v++) hashes.push((await captureEvent(services.capture, modelRegistered('credit', v))).hash);
  await sequenceEvents(services.tlog.sequencer);
});

const integrity = async (mode?: 'full'): Promise<ComplianceReport['integrity']> =>
  (await runCompliance(services.compliance, { checks: ['integrity'], trigger: 'test', ...(mode ? { mode } : {}) })).integrity;
const kinds = (section: ComplianceReport['integrity']) => section.items.map((i) => `${i.kind} ${i.event ?? i.checkpoint ?? ''}`);

async function rewriteBody(hash: string, name: string): Promise<void> {
  const { events } = await cosmosContainers(services);
  const id = hash.slice(7);
  const { resource } = await events.item(id, id).read<{ body: { data: Record<string, unknown> } }>();
  if (!resource) throw new Error(`no event ${id}`);
  await events.item(id, id).replace({ ...resource, body: { ...resource.body, data: { ...resource.body.data, ModelName: name } } });
}

/** The state document and checkpoint documents of the evidence log, as an insider would edit them. */
type CheckpointDoc = { size: number; note: string; hash: string };
type StateDoc = Record<string, unknown> & { size: number; root: string; checkpoint: CheckpointDoc };

async function tlogDocs() {
  const { tlog } = await cosmosContainers(services);
  const state = (await tlog.item('state', 'tlog').read<StateDoc>()).resource as StateDoc;
  return { tlog, state };
}

describe('integrity section', () => {
  it('is clean on an untouched log: every leaf, checkpoint and written event checked, ratio 1', async () => {
    const section = await integrity();
    expect(section.items).toEqual([]);
    expect(section).toMatchObject({ treeSize: 3, verifiedCheckpoint: 3, ratio: 1 });
    expect(section.denominator).toBeGreaterThanOrEqual(3 + 1 + 3);
  });

  it('finds one changed byte in a stored body under its original id, sequenced or not yet', async () => {
    await integrity();
    await rewriteBody(hashes[1] as string, 'credix'); // already sequenced
    const pending = (await captureEvent(services.capture, modelRegistered('credit', 9))).hash;
    await rewriteBody(pending, 'credix'); // logged, not yet sequenced
    const section = await integrity();
    expect(kinds(section).sort()).toEqual([`body-altered ${hashes[1]}`, `body-altered ${pending}`].sort());
    expect(section.ratio).toBeLessThan(1);
    // The sequencer leaves the altered one out of the tree.
    const sequenced = await sequenceEvents(services.tlog.sequencer);
    expect(sequenced.mismatched).toContain(pending.slice(7));
    expect(sequenced.size).toBe(3);
  });

  it('reports an event deleted outside any retention policy by its id and leaf', async () => {
    await integrity();
    const { events } = await cosmosContainers(services);
    const id = (hashes[2] as string).slice(7);
    await events.item(id, id).delete();
    const section = await integrity();
    expect(section.items).toMatchObject([{ kind: 'event-missing', event: hashes[2], leafIndex: expect.any(Number) }]);
  });

  it('reports a leaf hash rewritten in the tree', async () => {
    await integrity();
    const { tlog } = await cosmosContainers(services);
    const { resource: tile } = await tlog.item('tile-0-0', 'tlog').read<{ hashes: string }>();
    const bytes = Buffer.from(tile?.hashes as string, 'base64');
    hashLeaf(Buffer.from('forged')).copy(bytes, 32); // leaf 1
    await tlog.item('tile-0-0', 'tlog').replace({ ...tile, hashes: bytes.toString('base64') });
    const section = await integrity();
    expect(section.items.filter((i) => i.kind === 'leaf-mismatch').map((i) => i.leafIndex)).toEqual([1]);
    expect(kinds(section)).toContain('checkpoint-inconsistent 3'); // the tiles no longer hash to the signed root
  });

  it('rejects a checkpoint altered, or re-signed with another key', async () => {
    await integrity();
    await captureEvent(services.capture, modelRegistered('credit', 4));
    await sequenceEvents(services.tlog.sequencer);
    const { tlog, state } = await tlogDocs();
    const other = new LocalKeyFileSigner(services.settings.TLOG_ORIGIN, join(keys, `other-${randomUUID()}.pem`));
    const text = state.checkpoint.note.slice(0, state.checkpoint.note.lastIndexOf('\n\n') + 1);
    const resigned = await signNote(text, other);
    const checkpoint = { size: 4, note: resigned, hash: checkpointHash(resigned).toString('base64') };
    await tlog.item('state', 'tlog').replace({ ...state, checkpoint });
    await tlog.item('checkpoint-4', 'tlog').replace({ id: 'checkpoint-4', pk: 'tlog', kind: 'checkpoint', ...checkpoint });
    expect(kinds(await integrity())).toEqual(['checkpoint-invalid 4']);
  });

  it('fails a log rolled back to a shorter tree, or forked into a different one', async () => {
    await integrity();
    await captureEvent(services.capture, modelRegistered('credit', 4));
    await sequenceEvents(services.tlog.sequencer);
    const { tlog, state } = await tlogDocs();
    const three = (await tlog.item('checkpoint-3', 'tlog').read<CheckpointDoc>()).resource;

    // Forked: a checkpoint of 4 leaves signed with the log's own key, naming a different root.
    const forged = await signNote(
      checkpointText({
        origin: services.settings.TLOG_ORIGIN,
        size: 4,
        root: hashLeaf(Buffer.from('another tree')),
        time: new Date().toISOString(),
        previous: Buffer.from(three?.hash as string, 'base64'),
      }),
      services.tlog.signer,
    );
    const fork = { size: 4, note: forged, hash: checkpointHash(forged).toString('base64') };
    await tlog.item('state', 'tlog').replace({ ...state, checkpoint: fork });
    await tlog.item('checkpoint-4', 'tlog').replace({ id: 'checkpoint-4', pk: 'tlog', kind: 'checkpoint', ...fork });
    const forkedFound = kinds(await integrity());
    expect(forkedFound).toContain('checkpoint-inconsistent 4');
    expect(forkedFound).toContain('checkpoint-archive-mismatch 4'); // the WORM copy still holds the honest one

    // The honest checkpoint put back verifies, and clears what was reported against the forged one.
    await tlog.item('state', 'tlog').replace(state);
    await tlog.item('checkpoint-4', 'tlog').replace({ id: 'checkpoint-4', pk: 'tlog', kind: 'checkpoint', ...state.checkpoint });
    const repaired = await integrity();
    expect(kinds(repaired)).toEqual([]);
    expect(repaired.verifiedCheckpoint).toBe(4);

    // Forked at the verified size: another tree of 4 leaves.
    await tlog.item('state', 'tlog').replace({ ...state, checkpoint: fork });
    expect(kinds(await integrity())).toContain('checkpoint-inconsistent 4');

    // Rolled back: the state set back to the checkpoint of 3 leaves, after 4 was verified.
    await tlog.item('state', 'tlog').replace({ ...state, size: 3, checkpoint: three });
    expect(kinds(await integrity())).toContain('log-rolled-back 3');
  });

  it('a full run rechecks everything from scratch and clears what was repaired', async () => {
    await integrity();
    await rewriteBody(hashes[0] as string, 'credix');
    expect(kinds(await integrity())).toEqual([`body-altered ${hashes[0]}`]);
    await rewriteBody(hashes[0] as string, 'credit'); // restored from the archive
    const full = await integrity('full');
    expect(full.items).toEqual([]);
    expect(full).toMatchObject({ treeSize: 3, verifiedCheckpoint: 3, ratio: 1 });
  });
});
