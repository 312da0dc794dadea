import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, startCosmos } from '../../infra/local/embeddedServices.js';
import { loadSettings } from '../../shared/config.js';
import { createCosmosClient, ensureCosmos, CONTAINERS } from '../../shared/store/cosmosClient.js';
import { EventLog } from '../../shared/store/eventLog.js';
import { StoreMeter } from '../../shared/store/storeMeter.js';
import { hashLeaf, treeRoot } from '../../shared/tlog/merkle.js';
import { TileWriter } from '../../shared/tlog/tiles.js';
import { buildTlog } from '../../shared/tlogServices.js';
import { evidencePack, inclusionProofs } from '../../shared/usecases/proveEvents.js';
import { LEAVES_PER_COMMIT, sequenceEvents } from '../../shared/usecases/sequenceEvents.js';
import { canonicalJson, contentHash } from '../../shared/util/canonicalJson.js';
import { countRounds } from '../helpers/rounds.js';
import { fixed, heading, int, runSectionAlone, table } from './report.js';
import { eventStream } from './stream.js';

/**
 * Section 7: the evidence log (issue 11).
 *
 *   a. Sequencing on one core without I/O: canonical bytes, id check, leaf hash, tile append, root.
 *   b. Sequencing runs against the embedded Cosmos server and Azurite: store requests per leaf by
 *      batch size (what a run finds new), checkpoint signatures (local key file).
 *   c. One event's inclusion proof: sequential round trips and requests.
 *   d. Offline verification of an evidence pack citing 1,000 events, in process and as the CLI.
 */
const CPU_LEAVES = 50_000;
const BATCHES = [10, 100, 1_000, 10_000];
const PACK_FACTS = 1_000;

interface Verifier {
  verifyPack(pack: unknown, verifierKey: string): { ok: boolean; facts: unknown[] };
}

export async function runTlogBench(): Promise<void> {
  console.log(heading('7. Evidence log: sequencing, proofs, offline verification'));
  const bodies = eventStream(CPU_LEAVES, 20250101).map((e) => e.raw);
  cpuThroughput(bodies);

  const [cosmos, azurite] = await Promise.all([startCosmos(0), startAzurite({ blob: 0, queue: 0, table: 0 })]);
  const dir = mkdtempSync(join(tmpdir(), 'bench-tlog-'));
  try {
    const settings = loadSettings({
      COSMOS_ENDPOINT: cosmos.url,
      COSMOS_KEY: cosmos.key,
      COSMOS_DATABASE: 'bench-tlog',
      STORAGE_CONNECTION_STRING: azurite.connectionString,
      TLOG_LOCAL_KEY_FILE: join(dir, 'key.pem'),
    });
    const client = await createCosmosClient(settings);
    await ensureCosmos(client, settings.COSMOS_DATABASE);
    const meter = new StoreMeter();
    const blobs = BlobServiceClient.fromConnectionString(settings.STORAGE_CONNECTION_STRING as string);
    const tlog = buildTlog(settings, client, blobs, meter, () => Promise.reject(new Error('no Key Vault in the bench')));
    await tlog.store.ensure();
    const eventLog = new EventLog(client.database(settings.COSMOS_DATABASE).container(CONTAINERS.events), new StoreMeter());

    // Blob writes and signatures, counted where they happen.
    let blobWrites = 0;
    let signatures = 0;
    const archive = tlog.store.archiveCheckpoint.bind(tlog.store);
    tlog.store.archiveCheckpoint = (size, note) => ((blobWrites += 1), archive(size, note));
    const sign = tlog.signer.sign.bind(tlog.signer);
    tlog.signer.sign = (message) => ((signatures += 1), sign(message));

    console.log(
      `\n  b. sequencing runs (embedded Cosmos server and Azurite in this process; ${int(LEAVES_PER_COMMIT)} leaves per batch commit)`,
    );
    const rows: string[][] = [];
    let next = 0;
    const hashes: string[] = [];
    for (const batch of BATCHES) {
      for (const body of bodies.slice(next, next + batch)) {
        const hash = contentHash(body);
        hashes.push(hash);
        await eventLog.append({
          id: hash.slice(7),
          pk: hash.slice(7),
          hash,
          channel: 'eventgrid',
          receivedAt: new Date().toISOString(),
          body,
        });
      }
      next += batch;
      const [requests, writes, signed] = [meter.storeRequests, blobWrites, signatures];
      const started = performance.now();
      const result = await sequenceEvents(tlog.sequencer);
      const ms = performance.now() - started;
      const store = meter.storeRequests - requests + (blobWrites - writes);
      rows.push([
        int(batch),
        int(result.size),
        int(meter.storeRequests - requests),
        int(blobWrites - writes),
        int(signatures - signed),
        fixed(store / result.sequenced, 3),
        int((result.sequenced / ms) * 1000),
      ]);
    }
    console.log(
      table(
        [
          'new events',
          'tree size',
          'Cosmos requests',
          'Blob writes',
          'signatures',
          'store requests/leaf',
          'leaves/s (wall, incl. servers)',
        ],
        rows,
      ),
    );
    console.log('  (store requests = Cosmos + Blob; the event-log scan and the dedupe query are one request per 1,000 events each)');

    const rounds = countRounds(tlog.store, ['readState', 'findLeafTiles', 'readTiles']);
    const samples = 50;
    const before = meter.storeRequests;
    const started = performance.now();
    for (let i = 0; i < samples; i++) {
      const proved = await inclusionProofs(tlog.store, [hashes[(i * 7919) % hashes.length] as string]);
      if (proved.proofs.size !== 1) throw new Error('an event was not proved');
    }
    const ms = (performance.now() - started) / samples;
    console.log(
      `\n  c. one event's inclusion proof in a tree of ${int(hashes.length)}: ${fixed(rounds() / samples, 1)} round trips, ` +
        `${fixed((meter.storeRequests - before) / samples, 1)} Cosmos requests, ${fixed(ms, 1)} ms (embedded server), mean of ${samples}`,
    );

    const cited = Array.from({ length: PACK_FACTS }, (_, i) => ({ hash: hashes[(i * 104_729) % hashes.length] as string }));
    const { pack } = await evidencePack({ tlog: tlog.store, eventLog }, cited);
    if (!pack) throw new Error('no pack');
    const key = (await tlog.publicKey()).verifierKey;
    const verifier = (await import(pathToFileURL(join(process.cwd(), 'infra/verify/verify.mjs')).href)) as Verifier;
    writeFileSync(join(dir, 'pack.json'), JSON.stringify(pack));
    writeFileSync(join(dir, 'key.txt'), key);
    const inProcess = measure(() => {
      const report = verifier.verifyPack(JSON.parse(readFileSync(join(dir, 'pack.json'), 'utf8')), key);
      if (!report.ok) throw new Error('the bench pack does not verify');
    });
    const t1 = performance.now();
    await promisify(execFile)(process.execPath, ['infra/verify/verify.mjs', join(dir, 'pack.json'), '--key', join(dir, 'key.txt')]);
    const cli = performance.now() - t1;
    const bytes = Buffer.byteLength(JSON.stringify(pack));
    console.log(
      `\n  d. offline verification of a pack citing ${int(pack.facts.length)} events (${fixed(bytes / 1e6, 1)} MB, target < 1,000 ms): ` +
        `read + verify in process ${fixed(inProcess.cpuMs, 0)} ms CPU (${fixed(inProcess.wallMs, 0)} ms wall); ` +
        `\`node infra/verify/verify.mjs\` ${fixed(cli, 0)} ms wall, Node start-up included (load average ${fixed(loadavg()[0] ?? 0, 1)} on ${cpus().length} CPUs)`,
    );
    client.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([cosmos.stop(), azurite.stop()]);
  }
}

/** a. The sequencer's own work per leaf, on one core, without I/O. */
function cpuThroughput(bodies: readonly unknown[]): void {
  const ids = bodies.map((b) => createHash('sha256').update(canonicalJson(b), 'utf8').digest('hex'));
  const bytes = bodies.reduce<number>((n, b) => n + Buffer.byteLength(canonicalJson(b)), 0);
  const { cpuMs } = measure(() => {
    const writer = new TileWriter(0, []);
    bodies.forEach((body, i) => {
      const canonical = Buffer.from(canonicalJson(body), 'utf8');
      if (createHash('sha256').update(canonical).digest('hex') !== ids[i]) throw new Error('unreachable');
      writer.append(hashLeaf(canonical), ids[i]);
      if ((i + 1) % LEAVES_PER_COMMIT === 0) {
        treeRoot(writer.size, writer.reader());
        writer.takeChanged();
      }
    });
    treeRoot(writer.size, writer.reader());
  });
  console.log(
    `\n  a. sequencing without I/O, one core: ${int(bodies.length)} events (mean ${int(bytes / bodies.length)} bytes canonical): ` +
      `${int((bodies.length / cpuMs) * 1000)} leaves per CPU second (canonical JSON, id check, leaf hash, tile append, a root per commit)`,
  );
}

/** Wall and CPU time of synchronous work: on a shared machine CPU time is the figure that travels. */
function measure(work: () => void): { wallMs: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  work();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 };
}

runSectionAlone(import.meta.url, '7', runTlogBench);
