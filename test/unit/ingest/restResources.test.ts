import { describe, expect, it } from 'vitest';
import { resolveAssetRef } from '../../../shared/ingest/rest/assetRefs.js';
import type { RestObservation } from '../../../shared/ingest/rest/observation.js';
import { normalizeRestObservation } from '../../../shared/ingest/rest/resourceKinds.js';
import type { EnrichmentKind } from '../../../shared/ingest/enrichmentMessage.js';
import { parseWorkspaceId } from '../../../shared/graph/keys.js';
import type { GraphDelta } from '../../../shared/graph/model.js';
import { fixture, fixtureFiles, WS } from '../../helpers/fixtures.js';

const ws = parseWorkspaceId(WS)!;
const body = (file: string) =>
  structuredClone(fixture<{ responses: { '200': { body: Record<string, unknown> } } }>(`azureml-rest/${file}`).responses['200'].body);
const observe = (kind: EnrichmentKind, armId: string, resource: unknown, extra: Partial<RestObservation> = {}): RestObservation => ({
  kind,
  armId,
  apiVersion: '2025-12-01',
  fetchedAt: '2024-06-01T00:00:00.000Z',
  status: 200,
  resource,
  ...extra,
});
function deltaOf(o: RestObservation): { delta: GraphDelta; enrich: Array<{ kind: string; armId: string }>; time: string } {
  const r = normalizeRestObservation(o);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r;
}
const edges = (d: GraphDelta) => d.edges.map((e) => `${e.from.kind}:${e.from.label} -${e.kind}-> ${e.to.kind}:${e.to.label}`).sort();

/** Which requested resource each spec example stands for (the examples' own ids are placeholders). */
const FIXTURE_TARGETS: Record<string, [EnrichmentKind, string]> = {
  'aml-Job-CommandJob-get.json': ['job', `${WS}/jobs/train-1`],
  'aml-Job-PipelineJob-get.json': ['job', `${WS}/jobs/pipeline-1`],
  'aml-Job-SweepJob-get.json': ['job', `${WS}/jobs/sweep-1`],
  'aml-Job-AutoMLJob-get.json': ['job', `${WS}/jobs/automl-1`],
  'aml-ModelVersion-get.json': ['model', `${WS}/models/credit/versions/3`],
  'aml-Registry-ModelVersion-get.json': ['model', `${WS}/models/credit/versions/4`],
  'aml-DataVersionBase-get-uri_file.json': ['data', `${WS}/data/loans/versions/1`],
  'aml-Registry-DataVersionBase-get-mltable.json': ['data', `${WS}/data/loans/versions/2`],
  'aml-EnvironmentVersion-get.json': ['environment', `${WS}/environments/env/versions/5`],
  'aml-CodeVersion-get.json': ['code', `${WS}/codes/c/versions/1`],
  'aml-ComponentVersion-get.json': ['component', `${WS}/components/prep/versions/1`],
  'aml-Registry-ComponentVersion-get.json': ['component', `${WS}/components/prep/versions/2`],
  'aml-OnlineEndpoint-get.json': ['endpoint', `${WS}/onlineEndpoints/ep`],
  'aml-OnlineDeployment-Managed-get.json': ['deployment', `${WS}/onlineEndpoints/ep/deployments/blue`],
  'aml-OnlineDeployment-Kubernetes-get.json': ['deployment', `${WS}/onlineEndpoints/ep/deployments/k8s`],
  'aml-BatchEndpoint-get.json': ['endpoint', `${WS}/batchEndpoints/batch-ep`],
  'aml-BatchDeployment-get.json': ['deployment', `${WS}/batchEndpoints/batch-ep/deployments/nightly`],
  'aml-ModelContainer-get.json': ['modelContainer', `${WS}/models/credit`],
};

describe('every Azure ML REST fixture', () => {
  it('each GET example normalizes under the id it was requested by (its own id is a placeholder)', () => {
    const files = fixtureFiles('azureml-rest', /-get(-[a-z_]+)?\.json$/).map((f) => f.replace('azureml-rest/', ''));
    const unmapped = files.filter((f) => !(f in FIXTURE_TARGETS) && f !== 'aml-Datastore-get.json');
    expect(unmapped).toEqual([]);
    for (const [file, [kind, armId]] of Object.entries(FIXTURE_TARGETS)) {
      const result = normalizeRestObservation(observe(kind, armId, body(file)));
      expect(result.ok, file).toBe(true);
      if (result.ok && kind !== 'modelContainer') expect(result.delta.nodes.length, file).toBeGreaterThan(0);
      // Facts are timed by systemData.lastModifiedAt as written (one example even uses +00:14).
      if (result.ok) expect(result.time, file).toBe((body(file).systemData as { lastModifiedAt: string }).lastModifiedAt);
    }
  });

  it('each item of the list examples normalizes as a version', () => {
    for (const [file, kind, collection] of [
      ['aml-ModelVersion-list.json', 'model', 'models/credit'],
      ['aml-DataVersionBase-list.json', 'data', 'data/loans'],
    ] as const) {
      const items = body(file).value as unknown[];
      expect(items.length).toBeGreaterThan(0);
      items.forEach((item, i) =>
        expect(normalizeRestObservation(observe(kind, `${WS}/${collection}/versions/${i + 1}`, item)).ok).toBe(true),
      );
    }
  });

  it('refuses a resource that is not the kind requested, and a non-2xx answer other than 404', () => {
    expect(normalizeRestObservation(observe('job', `${WS}/models/credit/versions/3`, body('aml-ModelVersion-get.json')))).toMatchObject({
      ok: false,
      issues: [{ path: 'armId' }],
    });
    expect(normalizeRestObservation(observe('job', `${WS}/jobs/x`, undefined, { status: 500 }))).toMatchObject({
      ok: false,
      issues: [{ path: 'status' }],
    });
  });
});

describe('links the REST API holds', () => {
  it('a command job: data inputs, hyperparameters, code, environment, compute, git commit, model output', () => {
    const job = body('aml-Job-CommandJob-get.json');
    const p = job.properties as Record<string, unknown>;
    Object.assign(p, {
      status: 'Completed',
      codeId: `${WS}/codes/c0de/versions/1`,
      environmentId: `azureml:${WS}/environments/lightgbm-env/versions/5`,
      computeId: `${WS.replace('resourceGroups', 'resourcegroups')}/computes/cpu-cluster`,
      properties: {
        'mlflow.source.git.repoURL': 'https://github.com/contoso/credit',
        'mlflow.source.git.commit': 'ABC123',
        'azureml.pipelinerunid': 'pipeline-1',
      },
      inputs: {
        training_data: { jobInputType: 'mltable', uri: 'azureml:credit-applications:3', mode: 'ReadOnlyMount' },
        base_model: { jobInputType: 'mlflow_model', uri: 'azureml://registries/shared/models/base/versions/2' },
        prepared: { jobInputType: 'uri_folder', uri: 'azureml://jobs/prep-1/outputs/out/paths/data/' },
        learning_rate: { jobInputType: 'literal', value: '0.05' },
      },
      outputs: { model: { jobOutputType: 'mlflow_model', uri: 'azureml:credit-default:3' } },
    });
    const { delta, enrich } = deltaOf(observe('job', `${WS}/jobs/train-1`, job));
    expect(edges(delta)).toEqual([
      'code:c0de:1 -codeOf-> job:train-1',
      'commit:github.com/contoso/credit@abc123 -commitOf-> job:train-1',
      'compute:cpu-cluster -computeOf-> job:train-1',
      'data:credit-applications:3 -inputOf-> job:train-1',
      'environment:lightgbm-env:5 -environmentOf-> job:train-1',
      'job:pipeline-1 -parentOf-> job:train-1',
      'job:prep-1 -inputOf-> job:train-1',
      'job:train-1 -produced-> model:credit-default:3',
      'model:base:2 -inputOf-> job:train-1',
    ]);
    const node = delta.nodes.find((n) => n.ref.kind === 'job');
    expect(node?.facts).toMatchObject({ status: 'Completed', parameters: { learning_rate: '0.05' }, git: { commit: 'ABC123' } });
    // A finished job also asks for its MLflow run.
    expect(enrich.map((e) => e.kind).sort()).toEqual(['code', 'data', 'environment', 'job', 'job', 'mlflowRun']);
    expect(delta.nodes.find((n) => n.ref.kind === 'model')).toBeUndefined(); // an output is a link, not a claim about the model
  });

  it('a sweep job takes code and environment from its trial', () => {
    const job = body('aml-Job-SweepJob-get.json');
    Object.assign((job.properties as { trial: Record<string, unknown> }).trial, {
      codeId: `${WS}/codes/c/versions/2`,
      environmentId: `${WS}/environments/e/versions/1`,
    });
    // The example's computeId is the placeholder "string": a bare compute name, accepted as such.
    expect(edges(deltaOf(observe('job', `${WS}/jobs/sweep-1`, job)).delta)).toEqual([
      'code:c:2 -codeOf-> job:sweep-1',
      'compute:string -computeOf-> job:sweep-1',
      'environment:e:1 -environmentOf-> job:sweep-1',
    ]);
  });

  it('a model version names the job that produced it', () => {
    const model = body('aml-ModelVersion-get.json');
    Object.assign(model.properties as object, { jobName: 'train-1', modelUri: 'azureml://jobs/train-1/outputs/model' });
    const { delta, enrich } = deltaOf(observe('model', `${WS}/models/credit-default/versions/3`, model));
    expect(edges(delta)).toEqual(['job:train-1 -produced-> model:credit-default:3']);
    expect(enrich).toEqual([{ kind: 'job', armId: expect.stringMatching(/\/jobs\/train-1$/) }]);
  });

  it('a deployment: the model it serves (observed over time), environment, code and its endpoint', () => {
    const d = body('aml-OnlineDeployment-Managed-get.json');
    Object.assign(d.properties as object, {
      model: `${WS}/models/credit-default/versions/3`,
      environmentId: 'azureml://registries/azureml/environments/sklearn-1.1/versions/4',
      codeConfiguration: { codeId: `${WS}/codes/score/versions/1`, scoringScript: 'score.py' },
    });
    const { delta, time } = deltaOf(observe('deployment', `${WS}/onlineEndpoints/credit-scoring/deployments/green`, d));
    expect(edges(delta)).toEqual([
      'code:score:1 -codeOf-> deployment:credit-scoring/green',
      'deployment:credit-scoring/green -serves-> endpoint:credit-scoring',
      'environment:sklearn-1.1:4 -environmentOf-> deployment:credit-scoring/green',
      'model:credit-default:3 -deployedTo-> deployment:credit-scoring/green',
    ]);
    expect(delta.nodes[0]?.series).toEqual({ model: expect.stringMatching(/models\/credit-default\/versions\/3$/) });
    expect(time).toBe('2020-01-01T12:34:56.999Z');
  });

  it('an endpoint: traffic shares per deployment as observations, 0% for listed deployments without traffic', () => {
    const e = body('aml-OnlineEndpoint-get.json');
    Object.assign(e.properties as object, { traffic: { blue: 90, green: 10 } });
    const { delta } = deltaOf(
      observe('endpoint', `${WS}/onlineEndpoints/credit-scoring`, e, {
        deployments: [{ name: 'blue' }, { name: 'green' }, { name: 'shadow' }],
      }),
    );
    const shares = Object.fromEntries(delta.edges.map((x) => [x.from.label, x.series?.traffic]));
    expect(shares).toEqual({ 'credit-scoring/blue': 90, 'credit-scoring/green': 10, 'credit-scoring/shadow': 0 });
  });

  it('an environment: its image digest where the image is referenced by one, and whether it is rebuilt on base-image updates', () => {
    const env = body('aml-EnvironmentVersion-get.json');
    const facts = () => deltaOf(observe('environment', `${WS}/environments/env/versions/5`, env)).delta.nodes[0]?.facts;
    // The documented example names its image by tag: no digest.
    expect(facts()).toMatchObject({ image: 'docker.io/tensorflow/serving:latest', imageDigest: undefined });
    const digest = `sha256:${'ab'.repeat(32)}`;
    Object.assign(env.properties as object, {
      image: `mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference@${digest.toUpperCase()}`,
      autoRebuild: 'Disabled',
    });
    expect(facts()).toMatchObject({ imageDigest: digest, autoRebuild: 'Disabled' });
  });

  it('a data asset: its location by datastore path and, through the datastore fetched with it, by storage URL', () => {
    const data = body('aml-DataVersionBase-get-uri_file.json');
    Object.assign(data.properties as object, { dataUri: `azureml:/${WS}/datastores/workspaceblobstore/paths/loans/2024/` });
    const datastore = body('aml-Datastore-get.json');
    Object.assign(datastore.properties as object, { accountName: 'stcredit', containerName: 'azureml-blobstore-1' });
    const armId = `${WS}/data/loans/versions/1`;
    const withDatastore = deltaOf(
      observe('data', armId, data, { datastores: [{ armId: `${WS}/datastores/WorkspaceBlobStore`, resource: datastore }] }),
    );
    expect(withDatastore.delta.edges.map((e) => [e.kind, e.from.key.replace(WS.toLowerCase(), '{ws}'), e.to.label])).toEqual([
      ['locationOf', '{ws}/datastores/workspaceblobstore/paths/loans/2024', 'loans:1'],
      ['locationOf', 'https://stcredit.blob.core.windows.net/azureml-blobstore-1/loans/2024', 'loans:1'],
    ]);
    // Without the datastore (not readable, or an observation logged before), the path alone.
    expect(edges(deltaOf(observe('data', armId, data)).delta)).toEqual([
      'storage:workspaceblobstore/loans/2024 -locationOf-> data:loans:1',
    ]);
    // A data asset named by URL needs no datastore.
    Object.assign(data.properties as object, { dataUri: 'abfss://raw@stcredit.dfs.core.windows.net/loans/2024' });
    expect(edges(deltaOf(observe('data', armId, data)).delta)).toEqual([
      'storage:https://stcredit.blob.core.windows.net/raw/loans/2024 -locationOf-> data:loans:1',
    ]);
  });

  it('a batch endpoint: its default deployment observed as a 100 % share, every other listed deployment at 0 %', () => {
    const e = body('aml-BatchEndpoint-get.json');
    Object.assign(e.properties as object, { defaults: { deploymentName: 'monthly' } });
    const { delta } = deltaOf(
      observe('endpoint', `${WS}/batchEndpoints/credit-batch`, e, { deployments: [{ name: 'monthly' }, { name: 'quarterly' }] }),
    );
    const shares = Object.fromEntries(delta.edges.map((x) => [x.from.key.split('/batchendpoints/')[1], x.series?.traffic]));
    expect(shares).toEqual({ 'credit-batch/deployments/monthly': 100, 'credit-batch/deployments/quarterly': 0 });
    expect(delta.nodes[0]?.facts).toMatchObject({ defaultDeployment: 'monthly', traffic: undefined });
    expect(delta.nodes[0]?.series).toEqual({ defaultDeployment: 'monthly' });
    // Without a default, nothing takes traffic.
    Object.assign(e.properties as object, { defaults: null });
    const none = deltaOf(observe('endpoint', `${WS}/batchEndpoints/credit-batch`, e, { deployments: [{ name: 'monthly' }] })).delta;
    expect(none.edges.map((x) => x.series?.traffic)).toEqual([0]);
  });

  it('a batch deployment: the model from its Id asset reference, its endpoint, code, environment and compute', () => {
    const d = body('aml-BatchDeployment-get.json');
    Object.assign(d.properties as object, {
      model: { referenceType: 'Id', assetId: `${WS}/models/credit-default/versions/2` },
      codeConfiguration: { codeId: `${WS}/codes/src/versions/6`, scoringScript: 'batch_score.py' },
      environmentId: `${WS}/environments/lightgbm-env/versions/5`,
      compute: `${WS}/computes/cpu-cluster`,
    });
    const { delta } = deltaOf(observe('deployment', `${WS}/batchEndpoints/credit-batch/deployments/monthly`, d));
    expect(edges(delta)).toEqual([
      'code:src:6 -codeOf-> deployment:credit-batch/monthly',
      'deployment:credit-batch/monthly -serves-> endpoint:credit-batch',
      'environment:lightgbm-env:5 -environmentOf-> deployment:credit-batch/monthly',
      'model:credit-default:2 -deployedTo-> deployment:credit-batch/monthly',
    ]);
    expect(delta.edges.find((e) => e.kind === 'serves')?.to.key).toContain('/batchendpoints/credit-batch');
    expect(delta.nodes[0]?.facts).toMatchObject({ compute: `${WS}/computes/cpu-cluster`, scoringScript: 'batch_score.py' });
  });

  it('a batch scoring job: linked from the batch deployment that ran it, which is fetched in turn', () => {
    const job = body('aml-Job-PipelineJob-get.json');
    Object.assign(job.properties as object, {
      status: 'Completed',
      properties: { 'azureml.endpointname': 'credit-batch', 'AzureML.DeploymentName': 'monthly', runSource: 'BatchDeployment' },
    });
    const { delta, enrich } = deltaOf(observe('job', `${WS}/jobs/credit-batch-score-1`, job));
    const link = delta.edges.find((e) => e.kind === 'deploymentOf');
    expect(link).toMatchObject({
      from: { kind: 'deployment', label: 'credit-batch/monthly' },
      to: { kind: 'job', label: 'credit-batch-score-1' },
      facts: { endpoint: 'credit-batch', deployment: 'monthly' },
    });
    expect(link?.from.key).toContain('/batchendpoints/credit-batch/deployments/monthly');
    expect(enrich).toContainEqual({ kind: 'deployment', armId: link?.from.key });
  });

  it('a 404 records when the resource was found missing and keeps what was known', () => {
    const { delta } = deltaOf(observe('model', `${WS}/models/credit/versions/9`, undefined, { status: 404 }));
    expect(delta.nodes).toEqual([expect.objectContaining({ facts: { notFoundAt: '2024-06-01T00:00:00.000Z' } })]);
  });
});

describe('asset id forms (test/fixtures/README.md, azureml-rest)', () => {
  const label = (text: string, collection: 'data' | 'models' = 'data', guid?: string) => {
    const r = resolveAssetRef(text, ws, collection, guid);
    return { ref: r.ref && `${r.ref.kind}:${r.ref.label}`, producedBy: r.producedBy?.label, datastore: r.datastore?.label, path: r.path };
  };
  it.each([
    [`${WS}/data/loans/versions/2`, { ref: 'data:loans:2' }],
    [`azureml:${WS}/environments/e/versions/7`, { ref: 'environment:e:7' }],
    ['azureml://registries/shared/data/loans/versions/1', { ref: 'data:loans:1' }],
    ['azureml:loans:2', { ref: 'data:loans:2' }],
    ['azureml://locations/eastus/workspaces/f40fcfba-ed15-4c0c-a522-6798d8d89094/data/loans/versions/1', { ref: undefined }],
    ['azureml://datastores/workspaceblobstore/paths/LocalUpload/x/', { datastore: 'workspaceblobstore', path: 'LocalUpload/x/' }],
    ['azureml://subscriptions/s/resourcegroups/rg/workspaces/w/datastores/ds/paths/a/b', { datastore: 'ds', path: 'a/b' }],
    ['azureml://jobs/train-1/outputs/model/paths/m/', { producedBy: 'train-1', path: 'm/' }],
    [
      'azureml://datastores/workspaceartifactstore/ExperimentRun/dcid.train-1',
      { producedBy: 'train-1', datastore: 'workspaceartifactstore' },
    ],
    ['runs:/train-1/model', { producedBy: 'train-1', path: 'model' }],
    [`azureml:${WS}/datastores/ds/paths/p/q`, { datastore: 'ds', path: 'p/q' }],
    ['azureml://models/credit/versions/3', { ref: 'model:credit:3' }],
    ['https://acct.blob.core.windows.net/c/x.csv', { ref: undefined }],
  ])('%s', (text, expected) => {
    expect(label(text)).toMatchObject(expected);
  });

  it('location ids resolve only for the workspace whose GUID they carry', () => {
    const id = 'azureml://locations/eastus/workspaces/f40fcfba-ed15-4c0c-a522-6798d8d89094/data/loans/versions/1';
    expect(label(id, 'data', 'F40FCFBA-ED15-4C0C-A522-6798D8D89094').ref).toBe('data:loans:1');
  });

  it('the input type decides what a shorthand names', () => {
    expect(label('azureml:credit:3', 'models').ref).toBe('model:credit:3');
  });
});
