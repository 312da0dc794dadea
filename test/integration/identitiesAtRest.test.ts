import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobServiceClient } from '@azure/storage-blob';
import { inject } from 'vitest';
import { SAMPLE_IDS, startAzureMlStandIn, type AzureMlStandIn } from '../../infra/local/azureMlStandIn/index.js';
import type { Services } from '../../shared/composition.js';
import { nodeId, parseArmId } from '../../shared/graph/keys.js';
import { enrichmentMessageSchema } from '../../shared/ingest/enrichmentMessage.js';
import { recordApproval } from '../../shared/usecases/approvals.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { enrich } from '../../shared/usecases/enrich.js';
import { ROOT } from '../helpers/localHost.js';
import { cosmosContainers, freshServices } from '../helpers/stores.js';

/**
 * No clear-text name or e-mail of an identity field reaches a store: the sample workspace (job
 * authors in systemData, the MLflow run's user), a model version whose tags name its approver and
 * owner three ways, and decisions pipelines post, all captured and enriched through real stores
 * (embedded Cosmos, Azurite) against the REST stand-in; then every stored document and blob is read back.
 */
let standIn: AzureMlStandIn;
let services: Services;
let keyDir: string;

const PEOPLE = ['priya', 'raman', 'alice', 'smith', 'bob jones', 'dana', 'carol'];
const V4 = `${SAMPLE_IDS.workspace}/models/credit-default/versions/4`;

beforeAll(async () => {
  standIn = await startAzureMlStandIn({ port: 0 });
  standIn.addModelVersion('credit-default', '4', {
    jobName: 'credit-train-20240501',
    modelUri: 'azureml://jobs/credit-train-20240501/outputs/artifacts/paths/model/',
    tags: { approved_by: 'Alice@Contoso.com', approver: 'Alice Smith', owner: 'Bob Jones', stage: 'production' },
  });
  keyDir = mkdtempSync(join(tmpdir(), 'identity-key-'));
  services = await freshServices({ AZUREML_MANAGEMENT_ENDPOINT: standIn.url, IDENTITY_LOCAL_KEY_FILE: join(keyDir, 'key') });

  const events = JSON.parse(readFileSync(join(ROOT, 'infra', 'local', 'sample-events.json'), 'utf8')) as unknown[];
  for (const event of events) await captureEvent(services.capture, event);
  await services.enrichmentQueue.enqueue([{ kind: 'model', armId: V4 }]);
  // The queue trigger's work, until nothing is left (job, model, assets, MLflow runs).
  const queue = services.enrichmentQueue.client;
  for (let round = 0; round < 50; round++) {
    const { receivedMessageItems: batch } = await queue.receiveMessages({ numberOfMessages: 32 });
    if (batch.length === 0) break;
    for (const m of batch) {
      await enrich(services.enrich, enrichmentMessageSchema.parse(JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8'))));
      await queue.deleteMessage(m.messageId, m.popReceipt);
    }
  }
  await recordApproval(
    services.capture,
    {
      model: SAMPLE_IDS.models.v3,
      decision: 'approved',
      approver: { name: 'Dana Lee', email: 'dana.lee@contoso.com' },
      source: 'azure-devops',
      id: 'r-1',
    },
    { via: 'entra', name: 'carol@contoso.com' },
  );
  await recordApproval(
    services.capture,
    { model: SAMPLE_IDS.models.v3, decision: 'rejected', approver: 'Dana Lee', id: 'r-2' },
    { via: 'key' },
  );
}, 120_000);

afterAll(async () => {
  await standIn.stop();
  rmSync(keyDir, { recursive: true, force: true });
});

const node = async (arm: string) => {
  const r = parseArmId(arm)!;
  return services.graph.readNode(nodeId(r.kind, r.key));
};
const TOKEN = /^identity:([0-9a-f]{24})$/;

describe('identity fields at rest', () => {
  it('every identity field is a hash, the same person the same hash in every field, and the vault can reveal each', async () => {
    const v4 = await node(V4);
    const tags = v4?.facts.tags?.value as Record<string, string>;
    for (const key of ['approved_by', 'approver', 'owner']) expect(tags[key], key).toMatch(TOKEN);
    const train = await node(SAMPLE_IDS.jobs.train);
    const mlflowUser = (train?.facts.mlflowTags?.value as Record<string, string>)['mlflow.user'] as string;
    expect(mlflowUser).toMatch(TOKEN);
    // The data scientist who created the job (systemData) and the run's user are one person, one hash.
    expect(JSON.stringify(train)).toContain(mlflowUser);

    const reveal = async (token: string) => (await services.identities.open(TOKEN.exec(token)?.[1] as string))?.value;
    expect(await reveal(tags.approved_by as string)).toBe('alice@contoso.com');
    expect(await reveal(tags.approver as string)).toBe('Alice Smith');
    expect(await reveal(mlflowUser)).toBe('Priya Raman');
  });

  it('no stored document or blob holds a name or e-mail of an identity field in clear text', async () => {
    const texts: string[] = [];
    for (const [name, c] of Object.entries(await cosmosContainers(services))) {
      const { resources } = await c.items.query('SELECT * FROM c').fetchAll();
      if (name === 'graph' || name === 'events') expect(resources.length, name).toBeGreaterThan(0);
      texts.push(...resources.map((r) => JSON.stringify(r)));
    }
    const blobs = BlobServiceClient.fromConnectionString(inject('storageConnectionString'));
    for (const container of [services.settings.DEADLETTER_CONTAINER, services.settings.IDENTITY_CONTAINER]) {
      const client = blobs.getContainerClient(container);
      for await (const b of client.listBlobsFlat()) texts.push((await client.getBlobClient(b.name).downloadToBuffer()).toString('utf8'));
    }
    // The approvals and the sealed people are among what was read, so the scan saw them.
    expect(texts.some((t) => t.includes('"kind":"approval"'))).toBe(true);
    expect(texts.filter((t) => t.includes('"sealed"')).length).toBeGreaterThanOrEqual(5);
    const leaks = texts.flatMap((t) => PEOPLE.filter((p) => t.toLowerCase().includes(p)).map((p) => `${p}: ${t.slice(0, 200)}`));
    expect(leaks).toEqual([]);
  });
});
