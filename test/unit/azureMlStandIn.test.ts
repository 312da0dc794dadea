import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseArmId, parseRegistryUri } from '../../shared/graph/keys.js';
import { API_VERSION, SAMPLE_IDS, startAzureMlStandIn, type AzureMlStandIn } from '../../infra/local/azureMlStandIn/index.js';
import { fixture } from '../helpers/fixtures.js';

/**
 * The local Azure ML management stand-in: documented envelopes, a coherent sample workspace,
 * ARM paging and errors, injected faults and scenario mutations. Everything goes over HTTP with
 * fetch, as the enrichment code will.
 */
type Json = Record<string, unknown>;
interface Got {
  status: number;
  headers: Headers;
  text: string;
  body: Json;
}

let standIn: AzureMlStandIn;
beforeAll(async () => {
  standIn = await startAzureMlStandIn({ port: 0 });
});
afterAll(async () => {
  await standIn.stop();
});
afterEach(() => {
  // Mutating tests share the server; each starts from the sample again.
  standIn.reset();
});

async function getUrl(url: string, init?: RequestInit): Promise<Got> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? (JSON.parse(text) as Json) : {} };
}

const get = (id: string, init?: RequestInit) => getUrl(standIn.armUrl(id), init);
const props = (g: Got) => g.body.properties as Json;

/** Follows nextLink to the end, verbatim. */
async function listAll(collection: string): Promise<{ items: Json[]; pages: Json[] }> {
  const pages: Json[] = [];
  let next: unknown = standIn.armUrl(collection);
  while (typeof next === 'string') {
    const page = await getUrl(next);
    expect(page.status).toBe(200);
    pages.push(page.body);
    next = page.body.nextLink;
    expect(pages.length).toBeLessThan(50);
  }
  return { items: pages.flatMap((p) => p.value as Json[]), pages };
}

/** `azureml://registries/r/...` -> the registry's ARM path in the sample (the URI holds no subscription). */
function registryPath(uri: string): string {
  const m = /^azureml:\/\/registries\/([^/]+)\/(.+)$/.exec(uri);
  if (!m || m[1] !== 'contoso-ml-registry') throw new Error(`not a sample registry URI: ${uri}`);
  return `${SAMPLE_IDS.registry}/${m[2]}`;
}

const ids = SAMPLE_IDS;

/** One resource of every kind, with the spec example it must cover and its ARM type. */
const KINDS: Array<{ id: string; example: string; type: string }> = [
  { id: ids.workspace, example: '', type: 'Microsoft.MachineLearningServices/workspaces' },
  { id: ids.jobs.pipeline, example: 'aml-Job-PipelineJob-get.json', type: 'Microsoft.MachineLearningServices/workspaces/jobs' },
  { id: ids.jobs.train, example: 'aml-Job-CommandJob-get.json', type: 'Microsoft.MachineLearningServices/workspaces/jobs' },
  { id: ids.models.container, example: 'aml-ModelContainer-get.json', type: 'Microsoft.MachineLearningServices/workspaces/models' },
  { id: ids.models.v3, example: 'aml-ModelVersion-get.json', type: 'Microsoft.MachineLearningServices/workspaces/models/versions' },
  { id: ids.data.container, example: '', type: 'Microsoft.MachineLearningServices/workspaces/data' },
  { id: ids.data.v3, example: 'aml-DataVersionBase-get-uri_file.json', type: 'Microsoft.MachineLearningServices/workspaces/data/versions' },
  { id: ids.environments.container, example: '', type: 'Microsoft.MachineLearningServices/workspaces/environments' },
  {
    id: ids.environments.v5,
    example: 'aml-EnvironmentVersion-get.json',
    type: 'Microsoft.MachineLearningServices/workspaces/environments/versions',
  },
  { id: ids.codes.container, example: '', type: 'Microsoft.MachineLearningServices/workspaces/codes' },
  { id: ids.codes.v7, example: 'aml-CodeVersion-get.json', type: 'Microsoft.MachineLearningServices/workspaces/codes/versions' },
  { id: ids.components.train, example: '', type: 'Microsoft.MachineLearningServices/workspaces/components/versions' },
  { id: ids.compute, example: '', type: 'Microsoft.MachineLearningServices/workspaces/computes' },
  { id: ids.datastores.blob, example: 'aml-Datastore-get.json', type: 'Microsoft.MachineLearningServices/workspaces/datastores' },
  { id: ids.endpoint, example: 'aml-OnlineEndpoint-get.json', type: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints' },
  {
    id: ids.deployments.green,
    example: 'aml-OnlineDeployment-Managed-get.json',
    type: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments',
  },
  {
    id: ids.registryModel,
    example: 'aml-Registry-ModelVersion-get.json',
    type: 'Microsoft.MachineLearningServices/registries/models/versions',
  },
  {
    id: ids.registryData,
    example: 'aml-Registry-DataVersionBase-get-mltable.json',
    type: 'Microsoft.MachineLearningServices/registries/data/versions',
  },
];

describe('GET of every resource kind', () => {
  for (const kind of KINDS) {
    it(`${kind.type.split('/').slice(1).join('/')} answers 200 with the ARM envelope`, async () => {
      const got = await get(kind.id);
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toMatch(/^application\/json/);
      expect(Number(got.headers.get('x-ms-ratelimit-remaining-subscription-reads'))).toBeGreaterThan(0);
      const { body } = got;
      expect(body.id).toBe(kind.id);
      expect(body.type).toBe(kind.type);
      expect(body.name).toBe(kind.id.split('/').at(-1));
      expect(typeof body.properties).toBe('object');
      expect(body.systemData).toMatchObject({ createdAt: expect.any(String) });
      if (kind.example) {
        // Every key the spec example shows is present (top level and in properties), maybe as null.
        const example = fixture<{ responses: { '200': { body: Json } } }>(`azureml-rest/${kind.example}`).responses['200'].body;
        expect(Object.keys(body)).toEqual(expect.arrayContaining(Object.keys(example)));
        expect(Object.keys(props(got))).toEqual(expect.arrayContaining(Object.keys(example.properties as Json)));
      }
      // The ids the app keys nodes on parse with the production parser (asset containers and the
      // workspace are not nodes, so it does not parse those).
      const container = /\/(models|data|environments|codes)$/.test(kind.type);
      if (kind.type.includes('/registries/')) expect(parseArmId(kind.id)?.workspace).toBeNull();
      else if (kind.id !== ids.workspace && !container) expect(parseArmId(kind.id)?.workspace).toBe(ids.workspace.toLowerCase());
    });
  }

  it('names a version resource by its version, not by the asset name', async () => {
    expect((await get(ids.models.v2)).body.name).toBe('2');
    expect((await get(ids.data.v3)).body.name).toBe('3');
    expect((await get(ids.environments.v5)).body.name).toBe('5');
    expect((await get(ids.registryModel)).body.name).toBe('1');
  });

  it('writes 7 fractional digits with +00:00 (escaped as \\u002B, like the service), and Z on the workspace', async () => {
    const model = await get(ids.models.v3);
    expect(model.text).toContain('"createdAt":"2024-05-01T09:02:44.4671910\\u002B00:00"');
    expect((model.body.systemData as Json).createdAt).toBe('2024-05-01T09:02:44.4671910+00:00');
    const ws = await get(ids.workspace);
    expect((ws.body.systemData as Json).createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
  });

  it('mixes id casings the way the service does', async () => {
    expect(props(await get(ids.data.v3)).dataUri).toMatch(
      /^azureml:\/\/subscriptions\/[^/]+\/resourcegroups\/rg-ml-prod\/workspaces\/ws-credit\/datastores\/workspaceblobstore\/paths\/.+\/$/,
    );
    expect(props(await get(ids.models.v2)).modelUri).toContain('/resourceGroups/rg-ml-prod/');
    const endpoint = props(await get(ids.endpoint));
    expect((endpoint.properties as Json)['azureml.onlineendpointid']).toBe(ids.endpoint.toLowerCase());
  });

  it('matches paths case-insensitively, like ARM, and returns the stored casing', async () => {
    const lower = await get(ids.deployments.blue.toLowerCase());
    const upper = await get(ids.deployments.blue.toUpperCase());
    expect(lower.status).toBe(200);
    expect(upper.status).toBe(200);
    expect(lower.body.id).toBe(ids.deployments.blue);
  });

  it('accepts any api-version (nextLinks may carry another one)', async () => {
    expect((await getUrl(standIn.armUrl(ids.models.v3, '2025-07-01-preview'))).status).toBe(200);
  });
});

describe('coherence of the sample workspace', () => {
  it('model versions name jobs the stand-in serves (and v1 none)', async () => {
    const expected: Record<string, string | null> = { '1': null, '2': ids.jobNames.trainApril, '3': ids.jobNames.train };
    for (const [version, jobName] of Object.entries(expected)) {
      const model = props(await get(`${ids.models.container}/versions/${version}`));
      expect(model.jobName).toBe(jobName);
      if (jobName) expect((await get(`${ids.workspace}/jobs/${jobName}`)).status).toBe(200);
    }
  });

  it('deployments name model versions, code and environments that resolve; the endpoint traffic names its deployments', async () => {
    const { items } = await listAll(`${ids.endpoint}/deployments`);
    expect(items.map((d) => d.name)).toEqual(['blue', 'green']);
    const served: Record<string, unknown> = {};
    for (const d of items) {
      const p = d.properties as Json;
      served[d.name as string] = p.model;
      expect((await get(p.model as string)).status).toBe(200);
      expect((await get((p.codeConfiguration as Json).codeId as string)).status).toBe(200);
      const env = p.environmentId as string;
      if (env.startsWith('/')) expect((await get(env)).status).toBe(200);
      else expect(parseRegistryUri(env)?.kind).toBe('environment'); // curated: azureml://registries/azureml/...
    }
    expect(served).toEqual({ blue: ids.models.v2, green: ids.models.v3 });
    expect(props(await get(ids.endpoint)).traffic).toEqual({ blue: 100, green: 0 });
  });

  it('jobs link code, environment, compute, component and their inputs resolve', async () => {
    const train = props(await get(ids.jobs.train));
    for (const key of ['codeId', 'environmentId', 'computeId', 'componentId'])
      expect((await get(train[key] as string)).status, key).toBe(200);
    expect(train.properties).toMatchObject({
      'mlflow.source.git.repoURL': 'git@github.com:contoso/credit-models.git',
      'mlflow.source.git.branch': 'main',
      'mlflow.source.git.commit': '9c1e4f7a2b3d5e6f8091a2b3c4d5e6f708192a3b',
      'azureml.git.dirty': 'False',
    });
    const inputs = train.inputs as Record<string, Json>;
    expect(inputs.learning_rate).toEqual({ description: null, jobInputType: 'literal', value: '0.05' });
    expect(inputs.n_estimators).toMatchObject({ jobInputType: 'literal', value: '400' });
    expect((await get(registryPath(inputs.baseline_model?.uri as string))).status).toBe(200);

    // The training step reads exactly what the prep step wrote.
    const prep = props(await get(ids.jobs.prep));
    const prepOut = (prep.outputs as Record<string, Json>).prepared_data;
    expect(prepOut).toMatchObject({ jobOutputType: 'uri_folder' });
    expect(inputs.training_data?.uri).toBe(prepOut?.uri);
    const prepIn = prep.inputs as Record<string, Json>;
    expect(prepIn.raw_data).toMatchObject({ jobInputType: 'uri_folder', uri: 'azureml:credit-applications:3' });
    expect((await get(`${ids.workspace}/data/credit-applications/versions/3`)).status).toBe(200);
    expect((await get(registryPath(prepIn.bureau_features?.uri as string))).body.properties).toMatchObject({ dataType: 'mltable' });
  });

  it('the pipeline lists its steps in the recorded jobs-map shape', async () => {
    const pipeline = props(await get(ids.jobs.pipeline));
    expect(pipeline.jobType).toBe('Pipeline');
    const steps = pipeline.jobs as Record<string, Json>;
    expect(Object.keys(steps)).toEqual(['prep', 'train']);
    expect(steps.train).toMatchObject({ name: 'train', type: 'command', componentId: ids.components.train, computeId: ids.compute });
    expect((steps.train?.inputs as Record<string, Json>).training_data).toEqual({
      job_input_type: 'literal',
      value: '${{parent.jobs.prep.outputs.prepared_data}}',
    });
    // Step jobs carry no parent field (2025-12-01 JobBase has none); their displayName is the step name.
    const train = props(await get(ids.jobs.train));
    expect(train.displayName).toBe('train');
    expect(Object.keys(train).some((k) => /parent/i.test(k))).toBe(false);
  });
});

describe('lists', () => {
  it('page with an absolute nextLink carrying $skipToken, to the end, without duplicates', async () => {
    const collections = [
      `${ids.workspace}/jobs`,
      `${ids.workspace}/models`,
      `${ids.models.container}/versions`,
      `${ids.data.container}/versions`,
      `${ids.workspace}/data`,
      `${ids.workspace}/environments`,
      `${ids.environments.container}/versions`,
      `${ids.workspace}/codes`,
      `${ids.codes.container}/versions`,
      `${ids.workspace}/computes`,
      `${ids.workspace}/datastores`,
      `${ids.workspace}/onlineEndpoints`,
      `${ids.endpoint}/deployments`,
      `${ids.registry}/models/credit-baseline/versions`,
    ];
    for (const collection of collections) {
      const { items, pages } = await listAll(collection);
      expect(items.length, collection).toBeGreaterThan(0);
      expect(new Set(items.map((i) => i.id)).size, collection).toBe(items.length);
      for (const item of items) expect((item.id as string).toLowerCase().startsWith(`${collection.toLowerCase()}/`)).toBe(true);
      for (const page of pages.slice(0, -1)) {
        expect((page.value as Json[]).length).toBe(2);
        expect(page.nextLink).toMatch(
          new RegExp(`^${standIn.url.replace(/\./g, '\\.')}/subscriptions/.+\\?api-version=${API_VERSION}&\\$skipToken=`),
        );
      }
      expect(pages.at(-1)).not.toHaveProperty('nextLink');
    }
  });

  it('lists all five jobs over three pages and all three model versions', async () => {
    const jobs = await listAll(`${ids.workspace}/jobs`);
    expect(jobs.pages).toHaveLength(3);
    expect(jobs.items.map((j) => j.name).sort()).toEqual(Object.values(ids.jobNames).sort());
    expect((await listAll(`${ids.models.container}/versions`)).items.map((m) => m.name)).toEqual(['1', '2', '3']);
  });

  it('honours pageSize, $top and a different nextLink api-version', async () => {
    const other = await startAzureMlStandIn({ pageSize: 3, nextLinkApiVersion: '2025-07-01-preview' });
    try {
      const first = await getUrl(other.armUrl(`${ids.workspace}/jobs`));
      expect(first.body.value).toHaveLength(3);
      expect(first.body.nextLink).toContain('api-version=2025-07-01-preview');
      const second = await getUrl(first.body.nextLink as string);
      expect(second.body.value).toHaveLength(2);
      const top = await getUrl(`${other.armUrl(`${ids.workspace}/jobs`)}&$top=1`);
      expect(top.body.value).toHaveLength(1);
      expect(top.body.nextLink).toContain('$top=1');
    } finally {
      await other.stop();
    }
  });

  it('refuses a $skipToken it did not issue', async () => {
    const got = await getUrl(`${standIn.armUrl(`${ids.workspace}/jobs`)}&$skipToken=bogus`);
    expect(got.status).toBe(400);
  });
});

describe('errors', () => {
  it('answers 400 with an ARM error body when api-version is missing', async () => {
    const got = await getUrl(`${standIn.url}${ids.models.v3}`);
    expect(got.status).toBe(400);
    expect(got.headers.get('x-ms-response-type')).toBe('error');
    expect(got.body).toEqual({
      error: { code: 'MissingApiVersionParameter', message: expect.stringContaining('api-version'), details: [], additionalInfo: [] },
    });
  });

  it('answers 404 ResourceNotFound for unknown resources, collections and workspaces', async () => {
    for (const path of [
      `${ids.models.container}/versions/99`,
      `${ids.workspace}/jobs/no-such-job`,
      `${ids.workspace}/notacollection`,
      `${ids.jobs.train}/versions`,
      ids.workspace.replace('ws-credit', 'ws-other') + '/models',
    ]) {
      const got = await get(path);
      expect(got.status, path).toBe(404);
      expect(got.headers.get('x-ms-response-type')).toBe('error');
      expect((got.body.error as Json).code).toBe('ResourceNotFound');
      expect((got.body.error as Json).message).toMatch(/was not found/);
    }
  });

  it('serves GET only', async () => {
    const got = await getUrl(standIn.armUrl(ids.models.v3), { method: 'DELETE' });
    expect(got.status).toBe(405);
    expect((await get(ids.models.v3)).status).toBe(200);
  });
});

describe('faults', () => {
  const count = (fragment: string) => standIn.requests.filter((r) => r.path.toLowerCase().includes(fragment.toLowerCase())).length;

  it('429 with Retry-After, for the given number of matching requests, each recorded', async () => {
    standIn.faults.add({ path: '/models/credit-default/versions/3$', status: 429, retryAfterSeconds: 7, times: 2 });
    const first = await get(ids.models.v3);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('7');
    expect(first.headers.get('x-ms-response-type')).toBe('error');
    expect((first.body.error as Json).code).toBe('SubscriptionRequestsThrottled');
    expect((await get(ids.models.v2)).status).toBe(200); // other paths are not affected
    expect((await get(ids.models.v3)).status).toBe(429);
    expect((await get(ids.models.v3)).status).toBe(200);
    expect(count('/versions/3')).toBe(3);
    expect(standIn.requests.filter((r) => r.fault === '429').map((r) => r.status)).toEqual([429, 429]);
    expect(standIn.faults.list()[0]).toMatchObject({ hits: 2, remaining: 0 });
  });

  it('500 and 503, matched by method', async () => {
    standIn.faults.add({ path: 'onlineEndpoints/credit-scoring$', method: 'POST', status: 500 });
    standIn.faults.add({ path: 'onlineEndpoints/credit-scoring$', method: 'get', status: 503, retryAfterSeconds: 1 });
    standIn.faults.add({ path: 'onlineEndpoints/credit-scoring$', status: 500 });
    const unavailable = await get(ids.endpoint);
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('1');
    expect((unavailable.body.error as Json).code).toBe('ServiceUnavailable');
    const internal = await get(ids.endpoint);
    expect(internal.status).toBe(500);
    expect((internal.body.error as Json).code).toBe('InternalServerError');
    expect((await get(ids.endpoint)).status).toBe(200);
    expect(standIn.faults.list().map((f) => f.hits)).toEqual([0, 1, 1]);
  });

  it('404 makes an existing resource disappear for a while', async () => {
    standIn.faults.add({ path: '/jobs/credit-train-20240501$', status: 404, times: 'forever' });
    for (let i = 0; i < 3; i++) expect((await get(ids.jobs.train)).status).toBe(404);
    standIn.faults.clear();
    expect((await get(ids.jobs.train)).status).toBe(200);
    expect(count('/jobs/credit-train-20240501')).toBe(4);
  });

  it('a delay makes a client with a timeout give up; the request is still recorded', async () => {
    standIn.faults.add({ path: 'deployments/blue$', delayMs: 1500 });
    const started = Date.now();
    await expect(fetch(standIn.armUrl(ids.deployments.blue), { signal: AbortSignal.timeout(150) })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1400);
    expect(standIn.requests.filter((r) => r.fault === 'delay 1500ms')).toHaveLength(1);
    // The rule is spent: the retry is answered at once.
    expect((await get(ids.deployments.blue)).status).toBe(200);
  });

  it('a delay with a status answers late with that status', async () => {
    standIn.faults.add({ path: 'deployments/green$', delayMs: 200, status: 503 });
    const started = Date.now();
    expect((await get(ids.deployments.green)).status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(standIn.requests.at(-1)).toMatchObject({ fault: 'delay 200ms + 503', status: 503 });
  });

  it('refuses a rule that does nothing', () => {
    expect(() => standIn.faults.add({ path: 'x' })).toThrow(/status, a delayMs/);
  });

  it('are driven over HTTP too, and GET /_standin/requests counts calls per resource', async () => {
    const post = await getUrl(`${standIn.url}/_standin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { path: '/codes/credit-src/versions/7$', status: 429, retryAfterSeconds: 2 },
        { path: '/computes/', status: 500, times: 'forever' },
      ]),
    });
    expect(post.status).toBe(201);
    expect((await get(ids.codes.v7)).status).toBe(429);
    expect((await get(ids.compute)).status).toBe(500);
    const faults = (await getUrl(`${standIn.url}/_standin/faults`)).body.faults as Json[];
    expect(faults.map((f) => [f.hits, f.remaining])).toEqual([
      [1, 0],
      [1, 'forever'],
    ]);
    expect((await getUrl(`${standIn.url}/_standin/faults`, { method: 'DELETE' })).status).toBe(200);
    expect((await get(ids.compute)).status).toBe(200);

    const requests = (await getUrl(`${standIn.url}/_standin/requests`)).body.requests as Json[];
    expect(requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', ids.codes.v7, 429],
      ['GET', ids.compute, 500],
      ['GET', ids.compute, 200],
    ]);
    const bad = await getUrl(`${standIn.url}/_standin/faults`, { method: 'POST', body: JSON.stringify({ path: 'x', status: 418 }) });
    expect(bad.status).toBe(400);
  });
});

describe('scenario mutations', () => {
  it('setTraffic changes what the endpoint GET returns, with its lastModifiedAt', async () => {
    standIn.setTraffic('credit-scoring', { blue: 20, green: 80 }, '2024-05-03T10:00:00.0000000+00:00');
    const endpoint = await get(ids.endpoint);
    expect(props(endpoint).traffic).toEqual({ blue: 20, green: 80 });
    expect((endpoint.body.systemData as Json).lastModifiedAt).toBe('2024-05-03T10:00:00.0000000+00:00');
    expect((endpoint.body.systemData as Json).createdAt).toBe('2024-04-16T08:30:12.4402319+00:00');
  });

  it('setTraffic refuses unknown deployments and sums other than 100, like the service', () => {
    expect(() => standIn.setTraffic('credit-scoring', { purple: 100 })).toThrow(/no deployment "purple"/);
    expect(() => standIn.setTraffic('credit-scoring', { blue: 50, green: 40 })).toThrow(/sum to 100/);
    expect(() => standIn.setTraffic('no-endpoint', { blue: 100 })).toThrow(/no such resource/);
  });

  it('setTraffic over HTTP, with a default timestamp in the service format', async () => {
    const got = await getUrl(`${standIn.url}/_standin/setTraffic`, {
      method: 'POST',
      body: JSON.stringify({ endpoint: 'credit-scoring', traffic: { green: 100 } }),
    });
    expect(got.status).toBe(200);
    const endpoint = await get(ids.endpoint);
    expect(props(endpoint).traffic).toEqual({ green: 100 });
    expect((endpoint.body.systemData as Json).lastModifiedAt).toMatch(/\.\d{7}\+00:00$/);
    const refused = await getUrl(`${standIn.url}/_standin/setTraffic`, {
      method: 'POST',
      body: JSON.stringify({ endpoint: 'credit-scoring', traffic: { blue: 30 } }),
    });
    expect(refused.status).toBe(400);
  });

  it('upsertDeployment adds a deployment at 0% traffic, then updates its model', async () => {
    standIn.addModelVersion(
      'credit-default',
      '4',
      {
        jobName: ids.jobNames.train,
        modelUri: 'azureml://jobs/credit-train-20240501/outputs/model_output/paths/',
        modelType: 'mlflow_model',
      },
      '2024-05-06T09:00:00.0000000+00:00',
    );
    standIn.upsertDeployment(
      'credit-scoring',
      'canary',
      { model: ids.models.v3, environmentId: ids.environments.v5, codeId: ids.codes.v7 },
      '2024-05-06T09:10:00.0000000+00:00',
    );
    expect((await listAll(`${ids.endpoint}/deployments`)).items.map((d) => d.name)).toEqual(['blue', 'green', 'canary']);
    expect(props(await get(ids.endpoint)).traffic).toEqual({ blue: 100, green: 0, canary: 0 });
    const v4 = `${ids.models.container}/versions/4`;
    standIn.upsertDeployment('credit-scoring', 'canary', { model: v4, environmentId: ids.environments.v5 });
    const canary = await get(`${ids.endpoint}/deployments/canary`);
    expect(props(canary)).toMatchObject({ model: v4, codeConfiguration: { codeId: ids.codes.v7, scoringScript: 'score.py' } });
    expect((canary.body.systemData as Json).createdAt).toBe('2024-05-06T09:10:00.0000000+00:00');
    expect(props(await get(ids.models.container))).toMatchObject({ latestVersion: '4', nextVersion: '5' });
    expect((await get(v4)).body.name).toBe('4');
  });

  it('deleteResource makes later GETs 404, takes children with it and leaves traffic coherent', async () => {
    expect(standIn.deleteResource(ids.deployments.green.toUpperCase())).toBe(true);
    expect((await get(ids.deployments.green)).status).toBe(404);
    expect(props(await get(ids.endpoint)).traffic).toEqual({ blue: 100 });
    expect(standIn.deleteResource(ids.deployments.green)).toBe(false);

    const http = await getUrl(`${standIn.url}/_standin/deleteResource`, { method: 'POST', body: JSON.stringify({ id: ids.endpoint }) });
    expect(http.status).toBe(200);
    expect((await get(ids.endpoint)).status).toBe(404);
    expect((await get(ids.deployments.blue)).status).toBe(404);
    expect((await get(`${ids.endpoint}/deployments`)).status).toBe(404);
  });

  it('addJob serves a new job with the JobBase defaults', async () => {
    standIn.addJob('credit-sweep-20240510', { jobType: 'Sweep', computeId: ids.compute, experimentName: 'credit-default' });
    const job = props(await get(`${ids.workspace}/jobs/credit-sweep-20240510`));
    expect(job).toMatchObject({ jobType: 'Sweep', status: 'Completed', computeId: ids.compute, displayName: 'credit-sweep-20240510' });
  });

  it('reset restores the sample; separate stand-ins share nothing', async () => {
    const other = await startAzureMlStandIn();
    try {
      standIn.deleteResource(ids.models.v3);
      expect((await getUrl(other.armUrl(ids.models.v3))).status).toBe(200);
      const reset = await getUrl(`${standIn.url}/_standin/reset`, { method: 'POST' });
      expect(reset.status).toBe(200);
      expect((await get(ids.models.v3)).status).toBe(200);
      expect(standIn.requests.map((r) => r.path)).toEqual([ids.models.v3]);
    } finally {
      await other.stop();
    }
  });

  it('listens on loopback only', () => {
    expect(standIn.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
