import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { reproduceAnswerSchema } from '../../../shared/api/schemas.js';
import { AS, S, WS, expectInvalidParameter, expectOk, expectProblem, type Api, type CallOptions, withSampleApi } from './harness.js';

/** GET /api/reproduce: a job of the sample rebuilt as a pinned Azure ML job spec, with what could not be pinned. */
let api: Api;
withSampleApi((started) => (api = started));

const reproduce = async (params: Record<string, string>, options: CallOptions = {}) =>
  expectOk(await api.get('/api/reproduce', params, options), reproduceAnswerSchema);

describe('happy', () => {
  it('credit-default:3 with no workspace: the train step pinned to code, environment, data and registry model versions', async () => {
    const r = await reproduce({ ref: 'credit-default:3' });
    expect(r.model?.label).toBe('credit-default:3');
    expect(r.job).toMatchObject({ label: S.jobNames.train, jobType: 'Command' });
    const spec = parse(r.yaml) as Record<string, unknown>;
    expect(spec).toEqual(r.spec);
    expect(spec).toMatchObject({
      $schema: 'https://azuremlschemas.azureedge.net/latest/commandJob.schema.json',
      type: 'command',
      code: `azureml:${S.codes.v7}`,
      environment: 'azureml:lightgbm-env:5',
      compute: 'azureml:cpu-cluster',
      experiment_name: 'credit-default',
      inputs: {
        baseline_model: { type: 'mlflow_model', path: S.registryModelUri, mode: 'ro_mount' },
        learning_rate: '0.05',
        n_estimators: '400',
      },
      outputs: { model_output: { type: 'mlflow_model', mode: 'rw_mount' } },
    });
    expect(String(spec.command)).toContain('python train.py --training_data ${{inputs.training_data}}');
    expect(r.pinned).toEqual(
      expect.arrayContaining([
        { what: 'code', to: 'credit-src:7' },
        { what: 'environment', to: 'lightgbm-env:5' },
        { what: 'inputs.baseline_model', to: S.registryModelUri },
        { what: 'git commit', to: 'github.com/contoso/credit-models@9c1e4f7a2b3d' },
      ]),
    );
    // What could not be pinned: the tagged base image (rebuilt on updates), the prep step's output folder, the seed.
    expect(r.gaps.map((g) => [g.kind, g.what]).sort()).toEqual([
      ['image-rebuilt', 'environment'],
      ['mutable-image', 'environment'],
      ['no-seed', 'seed'],
      ['unversioned-input', 'inputs.training_data'],
    ]);
    expect(r.gaps.find((g) => g.kind === 'mutable-image')?.detail).toContain(
      'mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240418.v1',
    );
    expect(r.command).toBe(
      `az ml job create --file reproduce-${S.jobNames.train}.yml --resource-group rg-ml-prod --workspace-name ws-credit`,
    );
  });

  it('the April job by its name: its data version pinned, its dirty clone reported', async () => {
    const r = await reproduce({ ref: S.jobNames.trainApril, workspace: 'ws-credit' });
    expect(r.model).toBeNull();
    expect(r.spec.inputs).toMatchObject({ training_data: { type: 'uri_folder', path: 'azureml:credit-applications:2', mode: 'ro_mount' } });
    expect(r.pinned).toContainEqual({ what: 'inputs.training_data', to: 'credit-applications:2' });
    expect(r.gaps.map((g) => g.kind)).toContain('dirty-code');
    expect(r.gaps.map((g) => g.kind)).not.toContain('unversioned-input');
    // The same job by its ARM id, and through the model it produced (which the spec then tags).
    expect((await reproduce({ ref: S.jobs.trainApril })).yaml).toBe(r.yaml);
    const viaModel = await reproduce({ ref: S.models.v2 });
    expect(viaModel.spec).toEqual({ ...r.spec, tags: { reproduces: S.jobNames.trainApril, model: 'credit-default:2' } });
  });
});

describe('errors', () => {
  it('a missing ref is 400 naming ref; a pipeline job is 400; a model with no producing job is 404', async () => {
    expectInvalidParameter(await api.get('/api/reproduce', {}), 'ref');
    // The batch scoring run is a pipeline job.
    expectProblem(await api.get('/api/reproduce', { ref: S.jobs.batchScore }), 400, 'invalid-request');
    expectProblem(await api.get('/api/reproduce', { ref: S.models.v1 }), 404, 'not-found');
    expectProblem(await api.get('/api/reproduce', { ref: S.endpoint }), 400, 'invalid-ref');
    expectProblem(await api.get('/api/reproduce', { ref: 'no-such-job', workspace: WS }), 404, 'not-found');
  });
});

describe('security', () => {
  it('needs a key; a reader of another workspace gets 404; no role is 403', async () => {
    expect((await api.get('/api/reproduce', { ref: S.jobs.train }, { key: 'none' })).status).toBe(401);
    expectProblem(await api.get('/api/reproduce', { ref: S.jobs.train }, { principal: AS.readerOfOther }), 404, 'not-found');
    expectProblem(await api.get('/api/reproduce', { ref: 'credit-default:3' }, { principal: AS.readerOfOther }), 404, 'not-found');
    expectProblem(await api.get('/api/reproduce', { ref: S.jobs.train }, { principal: AS.noRoles }), 403, 'forbidden');
    await reproduce({ ref: S.jobs.train }, { principal: AS.readerOfSample });
  });
});
