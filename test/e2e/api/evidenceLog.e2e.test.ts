import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CosmosClient } from '@azure/cosmos';
import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkpointsKeyRoute } from '../../../functions/checkpointsKey.js';
import { replayRoute } from '../../../functions/replay.js';
import { LOCAL_COSMOS_KEY } from '../../../infra/local/embeddedServices.js';
import { reportSchema } from '../../../shared/compliance/report.js';
import { eventByHashRoute } from '../../../functions/eventByHash.js';
import { sequenceEventsRunRoute } from '../../../functions/sequenceEventsRun.js';
import { openNote, parseCheckpointText } from '../../../shared/tlog/checkpoint.js';
import { EVIDENCE_PACK_FORMAT, type EvidencePack } from '../../../shared/tlog/evidencePack.js';
import { hashLeaf, verifyInclusion } from '../../../shared/tlog/merkle.js';
import { ROOT as ROOT_DIR } from '../../helpers/localHost.js';
import { ADMIN, ADMIN_KEY, AS, S, expectOk, expectProblem, seedSample, startApi, type Api } from './harness.js';

/**
 * The evidence log through the local host, as an auditor meets it: the sequencer (timer run by
 * hand, and the admin route), the signed checkpoint and its key, one event with its proof, and
 * evidence packs fetched over HTTP that the offline verifier accepts, and rejects once tampered.
 */
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'evidence-log-e2e-'));
let api: Api;
beforeAll(async () => {
  // The sequencer's timer stays out of the way (1 January only): the tests run it when they mean to.
  api = await startApi({ TLOG_SEQUENCE_SCHEDULE: '0 0 0 1 1 *', TLOG_LOCAL_KEY_FILE: join(dir, 'key.pem') });
  await seedSample(api);
});
afterAll(async () => {
  await api?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sequenceResult = sequenceEventsRunRoute.spec.responses[200].schema;
const keySchema = checkpointsKeyRoute.spec.responses[200].schema;
const eventSchema = eventByHashRoute.spec.responses[200].schema;
const rawEventsOf = z.object({ rawEvents: z.array(z.object({ hash: z.string() })) });

/** Runs the timer function now, as Core Tools' admin endpoint does. */
async function runTimer(): Promise<void> {
  const res = await fetch(`${api.host.url}/admin/functions/sequenceEvents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': ADMIN_KEY },
    body: '{}',
  });
  expect(res.status).toBe(202);
}

async function verify(pack: unknown, key: string): Promise<{ code: number; out: string }> {
  const file = join(dir, `pack-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, typeof pack === 'string' ? pack : JSON.stringify(pack));
  try {
    const { stdout } = await run(process.execPath, ['infra/verify/verify.mjs', file, '--key', key], { cwd: ROOT_DIR });
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

describe('before the sequencer ran', () => {
  it('has no checkpoint (404), and evidence says its raw events are not yet sequenced', async () => {
    expectProblem(await api.get('/api/checkpoints/latest'), 404, 'not-found');
    const e = (await api.get('/api/evidence', { ref: S.models.v3 }, { principal: AS.auditor })).body as {
      evidencePack: unknown;
      notYetSequenced: string[];
      rawEvents: unknown[];
    };
    expect(e.evidencePack).toBeNull();
    expect(e.notYetSequenced.length).toBe(e.rawEvents.length);
    expectProblem(await api.get('/api/evidence', { ref: S.models.v3, format: 'pack' }), 404, 'not-found');
  });
});

describe('sequencing, checkpoints, proofs and packs', () => {
  let key: z.infer<typeof keySchema>;
  let note: string;
  beforeAll(async () => {
    await runTimer();
    const latest = await api.get('/api/checkpoints/latest');
    expect(latest.status).toBe(200);
    note = latest.text;
    key = expectOk(await api.get('/api/checkpoints/key'), keySchema);
  });

  it('the timer sequenced every logged event and signed a checkpoint the published key verifies', async () => {
    const latest = await api.get('/api/checkpoints/latest');
    expect(latest.contentType).toMatch(/^text\/plain/);
    const checkpoint = parseCheckpointText(openNote(note, key.verifierKey));
    expect(checkpoint.origin).toBe('aml-lineage.local/raw-events');
    expect(checkpoint.size).toBeGreaterThanOrEqual(8); // six Event Grid events, two Event Hubs records, REST responses
    expect(key.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });

  it('POST /api/tlog/sequence runs it now: idle when nothing new was logged; admin only', async () => {
    const again = expectOk(await api.post('/api/tlog/sequence', '', ADMIN), sequenceResult);
    expect(again).toMatchObject({ status: 'idle', sequenced: 0, size: parseCheckpointText(openNote(note, key.verifierKey)).size });
    // Behind App Service authentication an admin route takes a function key and Lineage.Admin decides.
    expectProblem(await api.post('/api/tlog/sequence', '', { key: 'function' }), 403, 'forbidden');
    expectProblem(await api.post('/api/tlog/sequence', '', { key: 'function', principal: AS.auditor }), 403, 'forbidden');
  });

  it('GET /api/events/{hash}: the body as stored, its leaf and an inclusion proof against the latest checkpoint', async () => {
    const { rawEvents } = rawEventsOf.parse((await api.get('/api/evidence', { ref: S.models.v3 })).body);
    const hash = rawEvents[0]?.hash as string;
    const answer = expectOk(await api.get(`/api/events/${hash}`, {}, { principal: AS.auditor }), eventSchema);
    expect(answer).toMatchObject({ hash, status: 'sequenced', bodyMatchesHash: true, purged: null, checkpoint: note });
    const bytes = Buffer.from(answer.canonicalBody as string, 'utf8');
    expect(JSON.parse(answer.canonicalBody as string)).toEqual(answer.body);
    const root = parseCheckpointText(openNote(answer.checkpoint as string, key.verifierKey)).root;
    const proof = (answer.inclusionProof ?? []).map((p) => Buffer.from(p, 'base64'));
    expect(verifyInclusion(answer.leafIndex as number, answer.treeSize as number, hashLeaf(bytes), proof, root)).toBe(true);
    // The hex alone names it too; a hash not in the log is 404; a malformed one 400.
    expect(expectOk(await api.get(`/api/events/${hash.slice(7)}`), eventSchema).leafIndex).toBe(answer.leafIndex);
    expectProblem(await api.get(`/api/events/sha256:${'0'.repeat(64)}`), 404, 'not-found');
    expectProblem(await api.get('/api/events/sha256:abc'), 400, 'invalid-request');
  });

  it('GET /api/events/{hash} is for auditors, and only of their workspaces', async () => {
    const { rawEvents } = rawEventsOf.parse((await api.get('/api/evidence', { ref: S.models.v3 })).body);
    const hash = rawEvents[0]?.hash as string;
    expectProblem(await api.get(`/api/events/${hash}`, {}, { principal: AS.reader }), 403, 'forbidden');
    expectProblem(await api.get(`/api/events/${hash}`, {}, { principal: AS.auditorOfOther }), 404, 'not-found');
    expect((await api.get(`/api/events/${hash}`, {}, { principal: AS.auditorOfSample })).status).toBe(200);
  });

  it('an evidence pack fetched over HTTP verifies offline with the pinned key; a tampered copy fails', async () => {
    const res = await api.get('/api/evidence', { ref: S.models.v3, format: 'pack' }, { principal: AS.auditor });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename=".*\.pack\.json"/);
    const pack = res.body as EvidencePack;
    expect(pack.format).toBe(EVIDENCE_PACK_FORMAT);
    expect(pack.facts.length).toBeGreaterThanOrEqual(5);
    expect(pack.facts.every((f) => typeof f.body === 'string')).toBe(true);

    const good = await verify(res.text, key.verifierKey);
    expect(good.out).toMatch(new RegExp(`VERIFIED: ${pack.facts.length} verified, 0 purged, 0 failed`));
    expect(good.code).toBe(0);

    // One byte of one body changed in the copy: that fact fails, the pack fails.
    const first = pack.facts[0] as { body: string };
    const tampered = { ...pack, facts: [{ ...first, body: first.body.replace(/"/, "'") }, ...pack.facts.slice(1)] };
    const bad = await verify(tampered, key.verifierKey);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/fact +1 FAIL .*the body does not hash/);
    expect(bad.out).toMatch(/NOT VERIFIED: .* 1 failed/);
  });

  it('every evidence format carries each raw body, its proof and the signed checkpoint', async () => {
    const json = (await api.get('/api/evidence', { ref: S.models.v3 })).body as { evidencePack: EvidencePack; notYetSequenced: string[] };
    expect(json.evidencePack.checkpoint).toBe(note);
    expect(json.notYetSequenced).toEqual([]);
    expect((await verify(json.evidencePack, key.verifierKey)).code).toBe(0);

    const markdown = (await api.get('/api/evidence', { ref: S.models.v3, format: 'markdown' })).text;
    const block = /```json\n([\s\S]*?)\n```/.exec(markdown)?.[1] as string;
    expect(markdown).toContain(note.trimEnd());
    expect((await verify(block, key.verifierKey)).code).toBe(0);

    const prov = (await api.get('/api/evidence', { ref: S.models.v3, format: 'prov' })).body as {
      entity: Record<string, Record<string, unknown>>;
    };
    expect(prov.entity['aml:checkpoint']?.['aml:signedNote']).toBe(note);
    const fact = json.evidencePack.facts[0] as EvidencePack['facts'][number];
    expect(prov.entity[`aml:${fact.hash}`]).toMatchObject({ 'aml:body': fact.body, 'aml:leafIndex': fact.leafIndex });

    const openlineage = (await api.get('/api/evidence', { ref: S.models.v3, format: 'openlineage' })).body as Array<{
      run: {
        facets: { amlLineage_provenance: { checkpoint: string; events: Array<{ hash: string; body: string; inclusionProof: string[] }> } };
      };
    }>;
    const facet = openlineage[0]?.run.facets.amlLineage_provenance;
    expect(facet?.checkpoint).toBe(note);
    expect(facet?.events.every((e) => typeof e.body === 'string' && Array.isArray(e.inclusionProof))).toBe(true);
  });
});

describe('tampering through the local host', () => {
  it('one changed byte in a stored body: compliance reports it, replay refuses it, a pack citing it fails offline', async () => {
    await runTimer();
    const key = expectOk(await api.get('/api/checkpoints/key'), keySchema).verifierKey;
    const baseline = expectOk(
      await api.post('/api/compliance/run?wait=120', JSON.stringify({ checks: ['integrity'] }), ADMIN),
      reportSchema,
    );
    expect(baseline.integrity.items).toEqual([]);
    expect(baseline.integrity.ratio).toBe(1);

    // An insider with the app's write access rewrites one raw event under its original id.
    const { rawEvents } = rawEventsOf.parse((await api.get('/api/evidence', { ref: S.models.v3 })).body);
    const target = (rawEvents[0]?.hash as string).slice(7);
    const endpoint = /Cosmos DB \(embedded[^)]*\): (https:\/\/127\.0\.0\.1:\d+\/)/.exec(api.host.output())?.[1];
    expect(endpoint, 'the host prints the embedded Cosmos DB endpoint').toBeDefined();
    const client = new CosmosClient({
      endpoint: endpoint,
      key: LOCAL_COSMOS_KEY,
      connectionPolicy: { enableEndpointDiscovery: false },
      agent: new Agent({ rejectUnauthorized: false }),
    });
    const events = client.database('lineage').container('events');
    const { resource } = await events.item(target, target).read<{ body: unknown }>();
    const text = JSON.stringify(resource?.body);
    const forgedText = text.replace(/[0-9]/, (d) => String((Number(d) + 1) % 10)); // one digit changed
    expect(forgedText).not.toBe(text);
    await events.item(target, target).replace({ ...resource, body: JSON.parse(forgedText) as unknown });
    client.dispose();

    // The integrity check finds it, by event id.
    const report = expectOk(await api.post('/api/compliance/run?wait=120', JSON.stringify({ checks: ['integrity'] }), ADMIN), reportSchema);
    expect(report.integrity.items).toMatchObject([{ kind: 'body-altered', event: `sha256:${target}` }]);
    expect(report.integrity.ratio).toBeLessThan(1);

    // GET /api/events says so; replay refuses it (dead-lettered, never logged again).
    const event = expectOk(await api.get(`/api/events/sha256:${target}`), eventSchema);
    expect(event.bodyMatchesHash).toBe(false);
    const replayed = expectOk(
      await api.post('/api/replay?wait=120', JSON.stringify({ deadLetters: false }), ADMIN),
      replayRoute.spec.responses[200].schema,
    );
    expect(replayed.events.integrityFailures).toBe(1);

    // A pack citing it fails the offline verifier on that fact.
    const pack = await api.get('/api/evidence', { ref: S.models.v3, format: 'pack' });
    const verdict = await verify(pack.text, key);
    expect(verdict.code).toBe(1);
    expect(verdict.out).toMatch(new RegExp(`FAIL +sha256:${target} .*the body does not hash`));
  });
});
