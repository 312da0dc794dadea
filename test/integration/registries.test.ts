import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzureMlStandIn, type AzureMlStandIn } from '../../infra/local/azureMlStandIn/index.js';
import { SAMPLE_IDS } from '../../infra/local/azureMlStandIn/sampleWorkspace.js';
import type { Services } from '../../shared/composition.js';
import { nodeId, parseArmId, parseRegistryUri, type NodeRef } from '../../shared/graph/keys.js';
import { captureMonitorMessage } from '../../shared/usecases/captureMonitorMessage.js';
import { enrich } from '../../shared/usecases/enrich.js';
import { lineage } from '../../shared/usecases/lineage.js';
import { modelProfile } from '../../shared/usecases/modelProfile.js';
import { reproduce } from '../../shared/usecases/reproduce.js';
import { enrichUntilRest, freshServices } from '../helpers/stores.js';

/**
 * Registries through the REST enrichment against the stand-in: real HTTP, real stores (embedded
 * Cosmos, Azurite queue). Registry assets named `azureml://registries/NAME/…` are read where
 * AML_REGISTRIES says; a registry id in an Activity Log record is read whatever it says.
 */
const ids = SAMPLE_IDS;
let standIn: AzureMlStandIn;

beforeAll(async () => {
  standIn = await startAzureMlStandIn({ port: 0 });
});
afterAll(async () => {
  await standIn.stop();
});

async function servicesWith(registries: string[]): Promise<Services> {
  standIn.reset();
  const services = await freshServices({ AZUREML_MANAGEMENT_ENDPOINT: standIn.url, AML_REGISTRIES: JSON.stringify(registries) });
  await services.enrichmentQueue.client.clearMessages();
  return services;
}

const idOf = (ref: NodeRef) => nodeId(ref.kind, ref.key);
const baseline = parseRegistryUri(ids.registryModelUri)!;
const bureau = parseRegistryUri(ids.registryDataUri)!;
const promoted = parseRegistryUri(ids.registryPromotedUri)!;
const registryRequests = () => standIn.requests.filter((r) => /\/registries\//i.test(r.path)).map((r) => r.path.split('?')[0]);

describe('registry assets named by azureml://registries/… URIs', () => {
  it('are fetched from the registry AML_REGISTRIES lists: a job input becomes the registry version as the registry holds it', async () => {
    const services = await servicesWith([ids.registry]);
    // The training step takes the registry's baseline model, the prep step its bureau data.
    await enrich(services.enrich, { kind: 'job', armId: ids.jobs.train });
    await enrich(services.enrich, { kind: 'job', armId: ids.jobs.prep });
    await enrichUntilRest(services);
    const model = await services.graph.readNode(idOf(baseline));
    expect(model).toMatchObject({ placeholder: false, workspace: null, label: 'credit-baseline:1' });
    expect(model?.facts.modelType?.value).toBe('mlflow_model');
    expect(model?.facts.description?.value).toBe('Champion model shared across credit workspaces');
    const data = await services.graph.readNode(idOf(bureau));
    expect(data).toMatchObject({ placeholder: false, workspace: null });
    expect(data?.facts.dataType?.value).toBe('mltable');
    expect(registryRequests()).toEqual(
      expect.arrayContaining([
        `${ids.registry}/models/credit-baseline/versions/1`,
        `${ids.registry}/data/credit-bureau-features/versions/2`,
      ]),
    );
    // The registry's data version, by the storage URL other tools name its files with.
    const located = await services.graph.edgesOf([idOf(bureau)], 'in');
    expect(located.map((e) => [e.kind, e.fromKey])).toEqual([
      ['locationOf', 'https://stcontosomlreg01.blob.core.windows.net/credit-bureau-features-2-6a1e9d3b'],
    ]);
  });

  it('stay placeholders when their registry is not listed (a name alone does not say where to read it)', async () => {
    const services = await servicesWith([]);
    await enrich(services.enrich, { kind: 'job', armId: ids.jobs.train });
    await enrichUntilRest(services);
    expect(await services.graph.readNode(idOf(baseline))).toMatchObject({ placeholder: true });
    expect(registryRequests()).toEqual([]);
  });

  it('a model version whose tag names a registry base model links to it, and lineage walks through the registry to the base model’s own lineage', async () => {
    const services = await servicesWith([ids.registry]);
    // The registry's baseline is itself a promoted copy of credit-default:2 in the workspace.
    const registryBaseline = standIn.workspace.get(ids.registryModel)!;
    standIn.workspace.put({ ...registryBaseline, properties: { ...registryBaseline.properties, modelUri: ids.models.v2 } });
    const v1 = standIn.workspace.get(ids.models.v1)!;
    const fineTuned = `${ids.workspace}/models/credit-default/versions/4`;
    standIn.workspace.put({
      ...v1,
      id: fineTuned,
      name: '4',
      properties: { ...v1.properties, tags: { base_model: ids.registryModelUri }, jobName: null },
    });
    await enrich(services.enrich, { kind: 'model', armId: fineTuned });
    await enrichUntilRest(services);
    const up = await lineage(services.graph, { ref: fineTuned, direction: 'upstream', depth: 6, maxNodes: 200 });
    const label = Object.fromEntries(up.nodes.map((n) => [n.id, `${n.label}${n.workspace ? '' : ' (registry)'}`]));
    const edges = up.edges.map((e) => `${label[e.from]} -${e.kind}-> ${label[e.to]}`);
    expect(edges).toEqual(
      expect.arrayContaining([
        'credit-baseline:1 (registry) -parentOf-> credit-default:4',
        'credit-default:2 -copiedTo-> credit-baseline:1 (registry)',
        'credit-train-20240415 -produced-> credit-default:2',
        'credit-applications:2 -inputOf-> credit-train-20240415',
      ]),
    );
    expect(up.nodes.find((n) => n.label === 'credit-baseline:1')?.placeholder).toBe(false);
  });

  it('never reads a registry asset whose name could steer the request path', async () => {
    const services = await servicesWith([ids.registry]);
    const job = standIn.workspace.get(ids.jobs.train)!;
    const inputs = (job.properties as { inputs: Record<string, unknown> }).inputs;
    standIn.workspace.put({
      ...job,
      properties: {
        ...job.properties,
        inputs: {
          ...inputs,
          sneaky: {
            jobInputType: 'mlflow_model',
            mode: 'ReadOnlyMount',
            uri: 'azureml://registries/contoso-ml-registry/models/../versions/1',
          },
          encoded: {
            jobInputType: 'mlflow_model',
            mode: 'ReadOnlyMount',
            uri: 'azureml://registries/contoso-ml-registry/models/a%2F..%2Fb/versions/1',
          },
        },
      },
    });
    await enrich(services.enrich, { kind: 'job', armId: ids.jobs.train });
    await enrichUntilRest(services);
    const asked = registryRequests();
    expect(asked.length).toBeGreaterThan(0); // the sample's own registry inputs were read
    expect(asked.filter((p) => /\.\.|%/.test(p ?? ''))).toEqual([]);
  });
});

describe('registry ids in Activity Log records', () => {
  it('a registry model version write reads the copy from the registry and links the workspace version it was promoted from', async () => {
    // No AML_REGISTRIES: the record names the registry by its ARM id.
    const services = await servicesWith([]);
    const record = {
      time: '2024-04-16T09:30:13Z',
      resourceId: ids.registryPromoted,
      operationName: 'Microsoft.MachineLearningServices/registries/models/versions/write',
      category: 'Administrative',
      resultType: 'Success',
      properties: {},
    };
    expect(await captureMonitorMessage(services.capture, { records: [record] }, {})).toMatchObject({ records: 1, projected: 1 });
    await enrichUntilRest(services);
    const copy = await services.graph.readNode(idOf(promoted));
    expect(copy).toMatchObject({ placeholder: false, workspace: null, label: 'credit-default:2' });
    const origin = await services.graph.edgesOf([idOf(promoted)], 'in');
    expect(origin.filter((e) => e.kind === 'copiedTo').map((e) => e.fromKey)).toEqual([ids.models.v2.toLowerCase()]);
    // The copy's lineage reaches back through the workspace version to its training data.
    const up = await lineage(services.graph, { ref: ids.registryPromotedUri, direction: 'upstream', depth: 4, maxNodes: 100 });
    expect(up.nodes.map((n) => n.label)).toEqual(
      expect.arrayContaining(['credit-default:2', 'credit-train-20240415', 'credit-applications:2']),
    );
    // And the workspace version's impact shows where it was promoted.
    const down = await lineage(services.graph, { ref: ids.models.v2, direction: 'downstream', depth: 1, maxNodes: 100 });
    expect(down.nodes.some((n) => n.key === promoted.key)).toBe(true);
    expect(parseArmId(ids.registryPromoted)?.key).toBe(promoted.key);
    // What built the copy is what built the version it copies: its job, data and code.
    const profile = await modelProfile(services.graph, copy!);
    expect(profile.job?.label).toBe('credit-train-20240415');
    expect(profile.data.map((d) => d.label)).toContain('credit-applications:2');
    expect(profile.code.map((c) => c.label)).toContain('credit-src:6');
    const spec = await reproduce(services.graph, { ref: ids.registryPromotedUri, scope: null });
    expect(spec).toMatchObject({ job: { label: 'credit-train-20240415' }, model: { label: 'credit-default:2' } });
  });
});
