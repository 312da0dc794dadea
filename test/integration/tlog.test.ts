import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BlobServiceClient } from '@azure/storage-blob';
import fc from 'fast-check';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/composition.js';
import { createCosmosClient, ensureCosmos } from '../../shared/store/cosmosClient.js';
import { EventLog, type RawEvent } from '../../shared/store/eventLog.js';
import { StoreMeter } from '../../shared/store/storeMeter.js';
import { checkpointBlobName } from '../../shared/store/tlogStore.js';
import { LocalKeyFileSigner } from '../../shared/store/checkpointSigner.js';
import { checkpointHash, checkpointText, openNote, parseCheckpointText, publicKeyInfo, signNote } from '../../shared/tlog/checkpoint.js';
import type { EvidencePack } from '../../shared/tlog/evidencePack.js';
import { hashLeaf, leafHashReader, treeRoot } from '../../shared/tlog/merkle.js';
import { TILE_WIDTH } from '../../shared/tlog/tiles.js';
import { buildTlog, type TlogServices } from '../../shared/tlogServices.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { evidencePack, inclusionProofs } from '../../shared/usecases/proveEvents.js';
import { sequenceEvents } from '../../shared/usecases/sequenceEvents.js';
import { canonicalJson, contentHash } from '../../shared/util/canonicalJson.js';
import { modelDeployed, modelRegistered, runEvent } from '../helpers/events.js';
import { countRounds } from '../helpers/rounds.js';
import { freshServices, testSettings } from '../helpers/stores.js';

/** The store reads an inclusion proof makes. */
const PROOF_READS = ['readState', 'findLeafTiles', 'readTiles'];

const run = promisify(execFile);

/** A key file and a checkpoint container of the test's own (one Azurite serves the whole run). */
function isolated(): Record<string, string> {
  const suffix = randomUUID().slice(0, 8);
  return { TLOG_LOCAL_KEY_FILE: join(keys, `${suffix}.pem`), TLOG_CHECKPOINT_CONTAINER: `checkpoints-${suffix}` };
}
const keys = mkdtempSync(join(tmpdir(), 'tlog-it-'));
afterAll(() => rmSync(keys, { recursive: true, force: true }));

function record(body: unknown): RawEvent {
  const hash = contentHash(body);
  const id = hash.slice(7);
  return { id, pk: id, hash, channel: 'rest', receivedAt: new Date().toISOString(), body };
}

async function verifyPackOffline(pack: unknown, key: string): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(join(keys, 'pack-'));
  writeFileSync(join(dir, 'pack.json'), JSON.stringify(pack));
  writeFileSync(join(dir, 'key.txt'), key);
  try {
    const { stdout } = await run(process.execPath, ['infra/verify/verify.mjs', join(dir, 'pack.json'), '--key', join(dir, 'key.txt')]);
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

describe('evidence log: sequencing, checkpoints, proofs, offline verification', () => {
  let services: Services;
  let tlog: TlogServices;
  beforeEach(async () => {
    services = await freshServices(isolated());
    tlog = services.tlog;
  });

  it('is built by the composition root, which creates its checkpoint container', async () => {
    const blobs = BlobServiceClient.fromConnectionString(services.settings.STORAGE_CONNECTION_STRING as string);
    expect(await blobs.getContainerClient(services.settings.TLOG_CHECKPOINT_CONTAINER).exists()).toBe(true);
    expect(tlog.sequencer.origin).toBe(services.settings.TLOG_ORIGIN);
    expect((await tlog.publicKey()).keyName).toBe(services.settings.TLOG_ORIGIN);
  });

  it('sequences captured events once, chains signed checkpoints to Cosmos and Blob, and proves any event in two round trips', async () => {
    const first = [runEvent('RunCompleted', 'train-1', { git: true }), modelRegistered('credit', 3), modelDeployed('svc', 'credit:3')];
    const hashes: string[] = [];
    for (const e of first) hashes.push((await captureEvent(services.capture, e)).hash);

    const one = await sequenceEvents(tlog.sequencer);
    expect(one).toMatchObject({ status: 'sequenced', sequenced: 3, size: 3, mismatched: [], unreadable: [] });
    expect(await sequenceEvents(tlog.sequencer)).toMatchObject({ status: 'idle', sequenced: 0, size: 3 });

    await captureEvent(services.capture, first[1]); // redelivered: the same raw event, logged once
    hashes.push((await captureEvent(services.capture, modelRegistered('credit', 4))).hash);
    const two = await sequenceEvents(tlog.sequencer);
    expect(two).toMatchObject({ status: 'sequenced', sequenced: 1, size: 4 });

    const key = (await tlog.publicKey()).verifierKey;
    const c1 = parseCheckpointText(openNote(one.checkpoint?.note as string, key));
    const c2 = parseCheckpointText(openNote(two.checkpoint?.note as string, key));
    expect([c1.origin, c1.size, c2.size]).toEqual([services.settings.TLOG_ORIGIN, 3, 4]);
    expect(c1.previous).toBeUndefined();
    expect(c2.previous?.equals(checkpointHash(one.checkpoint?.note as string))).toBe(true);

    // The tree is the RFC 9162 tree over the canonical bytes of the stored bodies, in leaf order.
    const bodies = await Promise.all(hashes.map((h) => services.eventLog.get(h.slice(7))));
    const proofs = await inclusionProofs(tlog.store, hashes);
    const byIndex = [...proofs.proofs.values()].sort((a, b) => a.leafIndex - b.leafIndex);
    const leafOf = new Map(bodies.map((b) => [(b as RawEvent).id, hashLeaf(Buffer.from(canonicalJson((b as RawEvent).body)))]));
    expect(byIndex.map((p) => p.leafHash)).toEqual(byIndex.map((p) => leafOf.get(p.hash.slice(7))?.toString('base64')));
    expect(c2.root.equals(treeRoot(4, leafHashReader(byIndex.map((p) => Buffer.from(p.leafHash, 'base64')))))).toBe(true);

    // Both checkpoints are archived to the blob container, byte for byte.
    const blobs = BlobServiceClient.fromConnectionString(services.settings.STORAGE_CONNECTION_STRING as string).getContainerClient(
      services.settings.TLOG_CHECKPOINT_CONTAINER,
    );
    for (const c of [one.checkpoint, two.checkpoint]) {
      const text = (await blobs.getBlockBlobClient(checkpointBlobName(c?.size as number)).downloadToBuffer()).toString('utf8');
      expect(text).toBe(c?.note);
    }

    // One event's proof: two sequential round trips (state + leaf tile, then the other tiles).
    const meter = services.meter;
    const before = meter.storeRequests;
    const rounds = countRounds(tlog.store, PROOF_READS);
    const single = await inclusionProofs(tlog.store, [hashes[2] as string]);
    expect(single.proofs.size).toBe(1);
    expect(rounds()).toBeLessThanOrEqual(2);
    expect(meter.storeRequests - before).toBeLessThanOrEqual(3);
  });

  it('an evidence pack verifies offline; one changed byte in a stored body, an altered checkpoint or another key fails it', async () => {
    const events = [modelRegistered('credit', 1), modelRegistered('credit', 2), modelRegistered('credit', 3)];
    const hashes: string[] = [];
    for (const e of events) hashes.push((await captureEvent(services.capture, e)).hash);
    await sequenceEvents(tlog.sequencer);
    const key = (await tlog.publicKey()).verifierKey;

    const { pack } = await evidencePack(
      { tlog: tlog.store, eventLog: services.eventLog },
      hashes.map((hash, i) => ({ hash, label: `fact ${i}` })),
    );
    const good = await verifyPackOffline(pack, key);
    expect(good.code).toBe(0);
    expect(good.out).toMatch(/VERIFIED: 3 verified, 0 purged, 0 failed/);

    // An insider rewrites one stored body under its original id.
    const client = await createCosmosClient(services.settings);
    const events$ = client.database(services.settings.COSMOS_DATABASE).container('events');
    const target = hashes[1]?.slice(7) as string;
    const { resource } = await events$.item(target, target).read<RawEvent>();
    const body = resource?.body as { data: { ModelName: string } };
    body.data.ModelName = 'credix';
    await events$.item(target, target).replace({ ...resource, body });
    const { pack: tampered } = await evidencePack(
      { tlog: tlog.store, eventLog: services.eventLog },
      hashes.map((hash) => ({ hash })),
    );
    const bad = await verifyPackOffline(tampered, key);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(new RegExp(`FAIL +sha256:${target} leaf \\d: the body does not hash`));
    expect(bad.out).toMatch(/1 failed/);

    const p = pack as EvidencePack;
    const sizeAltered = { ...p, checkpoint: p.checkpoint.replace(/\n3\n/, '\n2\n') };
    expect((await verifyPackOffline(sizeAltered, key)).out).toMatch(/checkpoint FAIL .*does not verify/);
    const otherKey = publicKeyInfo('x', await new LocalKeyFileSigner(services.settings.TLOG_ORIGIN, join(keys, 'other.pem')).publicKey());
    const wrongKey = await verifyPackOffline(
      pack,
      otherKey.verifierKey.replace(/^x\+/, `${services.settings.TLOG_ORIGIN}+`).replace(/\+[0-9a-f]{8}\+/, `+${otherKey.keyId}+`),
    );
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.out).toMatch(/no signature by the pinned key/);
    const proofAltered = { ...p, facts: p.facts.map((f, i) => (i === 0 ? { ...f, leafIndex: f.leafIndex + 1 } : f)) };
    expect((await verifyPackOffline(proofAltered, key)).out).toMatch(/fact +1 FAIL .*not included/);
    client.dispose();
  });

  it('leaves a body that does not hash to its id out of the tree and reports it', async () => {
    const forged = { ...record({ claim: 'original' }), body: { claim: 'forged' } };
    await services.eventLog.append(forged);
    await services.eventLog.append(record({ claim: 'honest' }));
    const result = await sequenceEvents(tlog.sequencer);
    expect(result).toMatchObject({ sequenced: 1, size: 1, mismatched: [forged.id] });
    expect((await inclusionProofs(tlog.store, [forged.hash])).notSequenced).toEqual([forged.hash]);
  });
  it('adopts the checkpoint a stopped run left in Blob for the same tree, and stops on one naming another tree', async () => {
    const event = record({ claim: 'one' });
    await services.eventLog.append(event);
    const root = hashLeaf(Buffer.from(canonicalJson(event.body)));
    const blobs = BlobServiceClient.fromConnectionString(services.settings.STORAGE_CONNECTION_STRING as string).getContainerClient(
      services.settings.TLOG_CHECKPOINT_CONTAINER,
    );
    const left = await signNote(
      checkpointText({ origin: services.settings.TLOG_ORIGIN, size: 1, root, time: '2020-01-01T00:00:00.000Z' }),
      tlog.signer,
    );
    await blobs.getBlockBlobClient(checkpointBlobName(1)).upload(left, Buffer.byteLength(left));
    expect((await sequenceEvents(tlog.sequencer)).checkpoint?.note).toBe(left);

    await services.eventLog.append(record({ claim: 'two' }));
    const other = await signNote(
      checkpointText({
        origin: services.settings.TLOG_ORIGIN,
        size: 2,
        root: hashLeaf(Buffer.from('x')),
        time: '2020-01-01T00:00:00.000Z',
      }),
      tlog.signer,
    );
    await blobs.getBlockBlobClient(checkpointBlobName(2)).upload(other, Buffer.byteLength(other));
    await expect(sequenceEvents(tlog.sequencer)).rejects.toThrow(/forked/);
  });
});

describe('evidence log: concurrency', () => {
  /** A fresh event log and evidence log of their own, with a key file of their own. */
  async function freshLog(leavesPerCommit: number) {
    const settings = testSettings(isolated());
    const client = await createCosmosClient(settings);
    await ensureCosmos(client, settings.COSMOS_DATABASE);
    const meter = new StoreMeter();
    const tlog = buildTlog(
      settings,
      client,
      BlobServiceClient.fromConnectionString(settings.STORAGE_CONNECTION_STRING as string),
      meter,
      () => Promise.reject(new Error('no Key Vault here')),
    );
    await tlog.store.ensure();
    const eventLog = new EventLog(client.database(settings.COSMOS_DATABASE).container('events'), meter);
    return { client, tlog, eventLog, sequencer: { ...tlog.sequencer, leavesPerCommit } };
  }

  it('events captured while sequencers run (several writers, racing sequencer runs) are sequenced exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 3, max: 300 }),
        fc.nat(),
        async (writers, sequencers, leavesPerCommit, seed) => {
          const { client, tlog, eventLog, sequencer } = await freshLog(leavesPerCommit);
          let writing = true;
          const written: string[] = [];
          const write = async (w: number, n: number) => {
            for (let i = 0; i < n; i++) {
              const r = record({ seed, writer: w, i });
              await eventLog.append(r);
              written.push(r.id);
              if (i % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
            }
          };
          const sequence = async () => {
            while (writing) await sequenceEvents(sequencer);
          };
          const runs = Array.from({ length: sequencers }, sequence);
          await Promise.all(writers.map((n, w) => write(w, n)));
          writing = false;
          await Promise.all(runs);
          await sequenceEvents(sequencer); // the next scheduled run

          const { state } = await tlog.store.readState();
          expect(state.size).toBe(written.length);
          const proofs = await inclusionProofs(
            tlog.store,
            written.map((id) => `sha256:${id}`),
          );
          expect(proofs.notSequenced).toEqual([]);
          const indexes = [...proofs.proofs.values()].map((p) => p.leafIndex).sort((a, b) => a - b);
          expect(indexes).toEqual(written.map((_, i) => i)); // every index used once: no event twice
          const key = (await tlog.publicKey()).verifierKey;
          const checkpoint = parseCheckpointText(openNote(state.checkpoint?.note as string, key));
          const leaves = [...proofs.proofs.values()]
            .sort((a, b) => a.leafIndex - b.leafIndex)
            .map((p) => Buffer.from(p.leafHash, 'base64'));
          expect(checkpoint.root.equals(treeRoot(written.length, leafHashReader(leaves)))).toBe(true);
          client.dispose();
        },
      ),
      { numRuns: 8 },
    );
  }, 240_000);

  it('spans tile boundaries and many commits in one run', async () => {
    const { client, tlog, eventLog, sequencer } = await freshLog(100);
    const n = TILE_WIDTH * 2 + 37;
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = record({ bulk: i });
      ids.push(r.id);
      await eventLog.append(r);
    }
    const result = await sequenceEvents(sequencer);
    expect(result).toMatchObject({ sequenced: n, size: n, commits: Math.ceil(n / 100) });
    const proofs = await inclusionProofs(tlog.store, [`sha256:${ids[0] as string}`, `sha256:${ids[n - 1] as string}`]);
    expect(proofs.proofs.size).toBe(2);
    client.dispose();
  }, 120_000);
});
