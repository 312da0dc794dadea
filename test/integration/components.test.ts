import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzureMlStandIn, type AzureMlStandIn } from '../../infra/local/azureMlStandIn/index.js';
import { SAMPLE_IDS } from '../../infra/local/azureMlStandIn/sampleWorkspace.js';
import type { Services } from '../../shared/composition.js';
import { nodeId, parseArmId, parseRegistryUri, type NodeRef } from '../../shared/graph/keys.js';
import { enrich } from '../../shared/usecases/enrich.js';
import { lineage } from '../../shared/usecases/lineage.js';
import { enrichUntilRest, freshServices } from '../helpers/stores.js';

/**
 * Components through the REST enrichment against the stand-in: real HTTP, real stores (embedded
 * Cosmos, Azurite queue). A pipeline step names the component version it ran; the version is read
 * from the workspace, or from the registry AML_REGISTRIES lists, with the code and environment its
 * spec names.
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
const componentRequests = () => standIn.requests.map((r) => r.path.split('?')[0] ?? '').filter((p) => /\/components\//i.test(p));

describe('component versions', () => {
  it('the sample’s train step: its workspace component is read, linked to the step, with the code and environment its spec names', async () => {
    const services = await servicesWith([]);
    await enrich(services.enrich, { kind: 'job', armId: ids.jobs.train });
    await enrichUntilRest(services);
    const component = parseArmId(ids.components.train)!;
    const node = await services.graph.readNode(idOf(component));
    expect(node).toMatchObject({ kind: 'component', placeholder: false, label: component.label });
    expect(node?.facts.type?.value).toBe('command');
    expect(node?.facts.isAnonymous?.value).toBe(true);
    expect(String(node?.facts.command?.value)).toMatch(/^python train\.py /);
    // Workspace follow-ups ask by node key (the lower-cased id; ARM compares ids case-insensitively).
    expect(componentRequests()).toEqual([ids.components.train.toLowerCase()]);

    const up = await lineage(services.graph, { ref: ids.jobs.train, direction: 'upstream', depth: 2, maxNodes: 200 });
    const label = Object.fromEntries(up.nodes.map((n) => [n.id, `${n.kind} ${n.label}`]));
    const edges = up.edges.map((e) => `${label[e.from]} -${e.kind}-> ${label[e.to]}`);
    expect(edges).toEqual(
      expect.arrayContaining([
        `component ${component.label} -componentOf-> job credit-train-20240501`,
        `code credit-src:7 -codeOf-> component ${component.label}`,
        `environment lightgbm-env:5 -environmentOf-> component ${component.label}`,
      ]),
    );
  });

  it('a step running a registry component: read from the listed registry, its registry code fetched in turn; unlisted, a placeholder', async () => {
    const registryComponent = `${ids.registry}/components/score-batch/versions/2`;
    const registryCode = `${ids.registry}/codes/score-src/versions/4`;
    const stepName = 'credit-score-step-20240601';
    const setUp = () => {
      const trainComponent = standIn.workspace.get(ids.components.train)!;
      const spec = (trainComponent.properties as { componentSpec: Record<string, unknown> }).componentSpec;
      standIn.workspace.put({
        ...trainComponent,
        id: registryComponent,
        name: '2',
        type: 'Microsoft.MachineLearningServices/registries/components/versions',
        properties: {
          ...trainComponent.properties,
          isAnonymous: false,
          description: 'Batch scoring step shared across credit workspaces',
          componentSpec: {
            ...spec,
            name: 'score-batch',
            version: '2',
            code: 'azureml://registries/contoso-ml-registry/codes/score-src/versions/4',
            command: 'python score.py',
          },
        },
      });
      const code = standIn.workspace.get(ids.codes.v7)!;
      standIn.workspace.put({ ...code, id: registryCode, name: '4', type: 'Microsoft.MachineLearningServices/registries/codes/versions' });
      standIn.workspace.addJob(stepName, {
        jobType: 'Command',
        command: 'python score.py',
        componentId: 'azureml://registries/contoso-ml-registry/components/score-batch/versions/2',
      });
    };

    const listed = await servicesWith([ids.registry]);
    setUp();
    await enrich(listed.enrich, { kind: 'job', armId: `${ids.workspace}/jobs/${stepName}` });
    await enrichUntilRest(listed);
    const component = parseRegistryUri('azureml://registries/contoso-ml-registry/components/score-batch/versions/2')!;
    const node = await listed.graph.readNode(idOf(component));
    expect(node).toMatchObject({ kind: 'component', placeholder: false, workspace: null, label: 'score-batch:2' });
    expect(node?.facts.description?.value).toBe('Batch scoring step shared across credit workspaces');
    expect(node?.facts.command?.value).toBe('python score.py');
    expect(componentRequests()).toEqual([registryComponent]);
    const code = await listed.graph.readNode(
      idOf(parseRegistryUri('azureml://registries/contoso-ml-registry/codes/score-src/versions/4')!),
    );
    expect(code).toMatchObject({ placeholder: false, workspace: null });
    const intoStep = await listed.graph.edgesOf([idOf(parseArmId(`${ids.workspace}/jobs/${stepName}`)!)], 'in');
    expect(intoStep.filter((e) => e.kind === 'componentOf').map((e) => e.fromKey)).toEqual([component.key]);

    const unlisted = await servicesWith([]);
    setUp();
    await enrich(unlisted.enrich, { kind: 'job', armId: `${ids.workspace}/jobs/${stepName}` });
    await enrichUntilRest(unlisted);
    expect(await unlisted.graph.readNode(idOf(component))).toMatchObject({ placeholder: true });
    expect(componentRequests()).toEqual([]);
  });
});
