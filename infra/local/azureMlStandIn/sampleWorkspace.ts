import { armResource, type ArmResource, type SystemData } from './arm.js';

/**
 * The sample workspace the stand-in serves: one credit-risk team's workspace `ws-credit` in
 * `rg-ml-prod`, the same subscription/workspace/run/model/endpoint names as
 * infra/local/sample-events.json, so the quick start's events enrich against it.
 *
 * Lineage it holds:
 *   credit-applications:2 -> credit-train-20240415 -> credit-default:2 -> credit-scoring/blue (100%)
 *   credit-applications:3 + registry credit-bureau-features:2 -> credit-prep-20240501 (step "prep")
 *     -> prepared_data -> credit-train-20240501 (step "train", + registry model credit-baseline:1)
 *     -> credit-default:3 -> credit-scoring/green (0%)
 *   credit-default:1 was uploaded from a datastore path (jobName null).
 *   credit-default:3 rolled out on green (10 %, then 100 %), breached its monitor, rolled back (SAMPLE_ROLLOUT)
 *   credit-default:2 -> credit-batch/monthly (the batch endpoint's default deployment)
 *   credit-default:2 promoted to the shared registry as its credit-default:2 (SAMPLE_IDS.registryPromoted),
 *     whose modelUri names the workspace version it was copied from
 *     -> scoring job credit-batch-score-20240601 over credit-applications:3
 *
 * Shapes follow the 2025-12-01 spec examples and the quirks listed in test/fixtures/README.md; values are invented. Where the
 * notes say the service differs from the schema, the sample does what the service does: explicit
 * nulls, extra fields (`autoDeleteSetting`, `shmSize`, `_azureml.ComputeTargetType`), lower-case
 * `resourcegroups` in `dataUri`, an all-lower-case `azureml.onlineendpointid`, 7-digit `+00:00`
 * timestamps (the workspace itself uses `Z`).
 */
export interface SampleWorkspace {
  subscriptionId: string;
  resourceGroup: string;
  workspaceName: string;
  /** ARM id of the workspace; names given to the mutation helpers are resolved under it. */
  workspaceId: string;
  resources: ArmResource[];
}

const SUB = '6f1a0c7e-2b7d-4c1e-9a51-3d2f1e0b9c41';
const TENANT = '3c8d5e2f-7a41-4b9e-a6d0-5f1e2c3b4a97';
const RG = 'rg-ml-prod';
const WS_NAME = 'ws-credit';
const WS_GUID = '9e2b7c4d-1f3a-4b6e-8d5c-2a7f0e1b3c94';
const LOCATION = 'westeurope';
const STORAGE = 'stcreditml7f3a';
const BLOB_CONTAINER = `azureml-blobstore-${WS_GUID}`;
const REG_RG = 'rg-ml-shared';
const REG_NAME = 'contoso-ml-registry';

const WS = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/${WS_NAME}`;
const REG = `/subscriptions/${SUB}/resourceGroups/${REG_RG}/providers/Microsoft.MachineLearningServices/registries/${REG_NAME}`;
/** Form I datastore URI prefix, spelled with lower-case `resourcegroups` as the service returns `dataUri`. */
const DATASTORE_URI_LC = `azureml://subscriptions/${SUB}/resourcegroups/${RG}/workspaces/${WS_NAME}/datastores`;
/** Same form with `resourceGroups`, as the recorded `modelUri`. */
const DATASTORE_URI = `azureml://subscriptions/${SUB}/resourceGroups/${RG}/workspaces/${WS_NAME}/datastores`;
const ENDPOINT = `${WS}/onlineEndpoints/credit-scoring`;
const BATCH_ENDPOINT = `${WS}/batchEndpoints/credit-batch`;

/** Every id and name of the default sample, for tests and the quick start. */
export const SAMPLE_IDS = {
  subscriptionId: SUB,
  tenantId: TENANT,
  resourceGroup: RG,
  workspaceName: WS_NAME,
  workspaceGuid: WS_GUID,
  location: LOCATION,
  workspace: WS,
  registry: REG,
  jobNames: {
    pipeline: 'credit-pipeline-20240501',
    prep: 'credit-prep-20240501',
    train: 'credit-train-20240501',
    trainApril: 'credit-train-20240415',
    /** The batch scoring job the `monthly` deployment ran on 1 June 2024 over credit-applications:3. */
    batchScore: 'credit-batch-score-20240601',
  },
  jobs: {
    pipeline: `${WS}/jobs/credit-pipeline-20240501`,
    prep: `${WS}/jobs/credit-prep-20240501`,
    train: `${WS}/jobs/credit-train-20240501`,
    trainApril: `${WS}/jobs/credit-train-20240415`,
    batchScore: `${WS}/jobs/credit-batch-score-20240601`,
  },
  models: {
    container: `${WS}/models/credit-default`,
    v1: `${WS}/models/credit-default/versions/1`,
    v2: `${WS}/models/credit-default/versions/2`,
    v3: `${WS}/models/credit-default/versions/3`,
  },
  data: {
    container: `${WS}/data/credit-applications`,
    v2: `${WS}/data/credit-applications/versions/2`,
    v3: `${WS}/data/credit-applications/versions/3`,
  },
  environments: { container: `${WS}/environments/lightgbm-env`, v5: `${WS}/environments/lightgbm-env/versions/5` },
  codes: { container: `${WS}/codes/credit-src`, v6: `${WS}/codes/credit-src/versions/6`, v7: `${WS}/codes/credit-src/versions/7` },
  components: {
    container: `${WS}/components/azureml_anonymous`,
    prep: `${WS}/components/azureml_anonymous/versions/6b0d3c1e-5a2f-4e7d-9c81-0f4b2a6d8e13`,
    train: `${WS}/components/azureml_anonymous/versions/d2f8a4b7-3c6e-4a91-8b5d-7e0c1f9a2b64`,
  },
  compute: `${WS}/computes/cpu-cluster`,
  datastores: { blob: `${WS}/datastores/workspaceblobstore`, artifacts: `${WS}/datastores/workspaceartifactstore` },
  /** The storage account and container behind the workspaceblobstore datastore. */
  storageAccount: STORAGE,
  blobContainer: BLOB_CONTAINER,
  endpoint: ENDPOINT,
  deployments: { blue: `${ENDPOINT}/deployments/blue`, green: `${ENDPOINT}/deployments/green` },
  batchEndpoint: BATCH_ENDPOINT,
  batchDeployment: `${BATCH_ENDPOINT}/deployments/monthly`,
  registryModel: `${REG}/models/credit-baseline/versions/1`,
  registryModelUri: `azureml://registries/${REG_NAME}/models/credit-baseline/versions/1`,
  /** credit-default:2 as promoted to the registry for the other credit workspaces (the Activity Log records the write). */
  registryPromoted: `${REG}/models/credit-default/versions/2`,
  registryPromotedUri: `azureml://registries/${REG_NAME}/models/credit-default/versions/2`,
  registryData: `${REG}/data/credit-bureau-features/versions/2`,
  registryDataUri: `azureml://registries/${REG_NAME}/data/credit-bureau-features/versions/2`,
  /** Curated environment of the green deployment; Microsoft's `azureml` registry is not served (not in this subscription). */
  curatedEnvironmentUri: 'azureml://registries/azureml/environments/lightgbm-3.3/versions/43',
} as const;

/**
 * The rollout of credit-default:3 the sample tells after its events: green takes 10 %, then all
 * traffic; the model monitor's run on green fails on 23 May (the RunStatusChanged in
 * sample-events.json, tagged azureml_modelmonitor_threshold_breached) and traffic goes back to blue
 * half an hour later. The REST API shows only the current traffic, so each step is set on the
 * stand-in (`setTraffic`) and observed through an Activity Log endpoint write before the next.
 */
export const SAMPLE_ROLLOUT = [
  { at: '2024-05-21T08:00:00.0000000+00:00', traffic: { blue: 90, green: 10 } },
  { at: '2024-05-22T08:00:00.0000000+00:00', traffic: { blue: 0, green: 100 } },
  { at: '2024-05-23T10:00:00.0000000+00:00', traffic: { blue: 100, green: 0 } },
] as const;

const ids = SAMPLE_IDS;

const DATA_SCIENTIST = 'Priya Raman';
const DEPLOY_PRINCIPAL = 'sp-credit-ml-deploy';

function byUser(createdAt: string, lastModifiedAt: string = createdAt): SystemData {
  return {
    createdAt,
    createdBy: DATA_SCIENTIST,
    createdByType: 'User',
    lastModifiedAt,
    lastModifiedBy: DATA_SCIENTIST,
    lastModifiedByType: 'User',
  };
}

function byPipeline(createdAt: string, lastModifiedAt: string = createdAt): SystemData {
  return {
    createdAt,
    createdBy: DEPLOY_PRINCIPAL,
    createdByType: 'Application',
    lastModifiedAt,
    lastModifiedBy: DEPLOY_PRINCIPAL,
    lastModifiedByType: 'Application',
  };
}

const GIT_MAY = {
  'mlflow.source.git.repoURL': 'git@github.com:contoso/credit-models.git',
  'mlflow.source.git.branch': 'main',
  'mlflow.source.git.commit': '9c1e4f7a2b3d5e6f8091a2b3c4d5e6f708192a3b',
  'azureml.git.dirty': 'False',
};
/** Submitted from another clone: same repository spelled as an https URL, uncommitted changes. */
const GIT_APRIL = {
  'mlflow.source.git.repoURL': 'https://github.com/contoso/credit-models',
  'mlflow.source.git.branch': 'feature/bureau-features',
  'mlflow.source.git.commit': '4b7d2e91c0a35f6e8d1b2c3a4f5e6d7c8b9a0f1e',
  'azureml.git.dirty': 'True',
};

function jobServices(jobName: string) {
  return {
    Tracking: {
      jobServiceType: 'Tracking',
      port: null,
      endpoint: `azureml://${LOCATION}.api.azureml.ms/mlflow/v1.0${WS}?`,
      status: null,
      errorMessage: null,
      properties: null,
    },
    Studio: {
      jobServiceType: 'Studio',
      port: null,
      endpoint: `https://ml.azure.com/runs/${jobName}?wsid=${WS}&tid=${TENANT}`,
      status: null,
      errorMessage: null,
      properties: null,
    },
  };
}

/** `default` output every command job gets: the run's artifact folder (form K). */
function defaultOutput(jobName: string) {
  return {
    description: null,
    jobOutputType: 'uri_folder',
    mode: 'ReadWriteMount',
    uri: `azureml://datastores/workspaceartifactstore/ExperimentRun/dcid.${jobName}`,
  };
}

function commandJob(
  name: string,
  p: {
    displayName: string;
    description: string | null;
    git: Record<string, string>;
    codeId: string;
    componentId: string | null;
    command: string;
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
  },
  systemData: SystemData,
): ArmResource {
  return armResource(
    `${WS}/jobs/${name}`,
    {
      description: p.description,
      tags: { team: 'risk' },
      properties: { '_azureml.ComputeTargetType': 'amlctrain', ...p.git },
      displayName: p.displayName,
      status: 'Completed',
      experimentName: 'credit-default',
      services: jobServices(name),
      computeId: ids.compute,
      isArchived: false,
      identity: null,
      componentId: p.componentId,
      notificationSetting: null,
      jobType: 'Command',
      resources: { instanceCount: 1, instanceType: null, properties: null, shmSize: '2g', dockerArgs: null },
      codeId: p.codeId,
      command: p.command,
      environmentId: ids.environments.v5,
      inputs: p.inputs,
      outputs: { ...p.outputs, default: defaultOutput(name) },
      distribution: null,
      limits: null,
      environmentVariables: {},
      parameters: {},
      queueSettings: null,
    },
    systemData,
  );
}

const PREP_OUTPUT_URI = 'azureml://datastores/workspaceblobstore/paths/azureml/credit-prep-20240501/prepared_data/';

function jobs(): ArmResource[] {
  const pipeline = armResource(
    ids.jobs.pipeline,
    {
      description: 'Monthly retrain: prepare applications, train LightGBM',
      tags: { team: 'risk', schedule: 'monthly' },
      properties: { ...GIT_MAY },
      displayName: 'credit-pipeline',
      status: 'Completed',
      experimentName: 'credit-default',
      services: jobServices('credit-pipeline-20240501'),
      computeId: null,
      isArchived: false,
      identity: null,
      componentId: null,
      notificationSetting: null,
      jobType: 'Pipeline',
      sourceJobId: null,
      settings: { default_compute: ids.compute, continue_on_step_failure: false, _source: 'DSL' },
      inputs: {
        applications: { description: null, jobInputType: 'uri_folder', mode: 'ReadOnlyMount', uri: 'azureml:credit-applications:3' },
        bureau_features: { description: null, jobInputType: 'mltable', mode: 'ReadOnlyMount', uri: ids.registryDataUri },
        learning_rate: { description: null, jobInputType: 'literal', value: '0.05' },
        n_estimators: { description: null, jobInputType: 'literal', value: '400' },
      },
      outputs: {
        trained_model: {
          description: null,
          jobOutputType: 'mlflow_model',
          mode: 'ReadWriteMount',
          uri: 'azureml://datastores/workspaceblobstore/paths/azureml/credit-train-20240501/model_output/',
        },
      },
      // The recorded real shape (a recorded PipelineJob PUT body): step name -> {name, type, componentId, computeId, inputs,
      // outputs, _source}, snake_case `job_input_type`, bindings as `${{...}}` literals. Nothing in
      // the 2025-12-01 job body names the step jobs (credit-prep-/credit-train-20240501) or links
      // them back here; this map is the only pipeline -> step linkage the stand-in serves.
      jobs: {
        prep: {
          name: 'prep',
          type: 'command',
          componentId: ids.components.prep,
          computeId: ids.compute,
          inputs: {
            raw_data: { job_input_type: 'literal', value: '${{parent.inputs.applications}}' },
            bureau_features: { job_input_type: 'literal', value: '${{parent.inputs.bureau_features}}' },
          },
          outputs: {},
          _source: 'YAML.COMPONENT',
        },
        train: {
          name: 'train',
          type: 'command',
          componentId: ids.components.train,
          computeId: ids.compute,
          inputs: {
            training_data: { job_input_type: 'literal', value: '${{parent.jobs.prep.outputs.prepared_data}}' },
            baseline_model: { job_input_type: 'mlflow_model', uri: ids.registryModelUri, mode: 'ReadOnlyMount' },
            learning_rate: { job_input_type: 'literal', value: '${{parent.inputs.learning_rate}}' },
            n_estimators: { job_input_type: 'literal', value: '${{parent.inputs.n_estimators}}' },
          },
          outputs: { model_output: { type: 'literal', value: '${{parent.outputs.trained_model}}' } },
          _source: 'YAML.COMPONENT',
        },
      },
    },
    byUser('2024-05-01T07:55:12.8830421+00:00', '2024-05-01T08:41:19.0127764+00:00'),
  );

  const prep = commandJob(
    ids.jobNames.prep,
    {
      displayName: 'prep',
      description: null,
      git: GIT_MAY,
      codeId: ids.codes.v7,
      componentId: ids.components.prep,
      command:
        'python prep.py --raw_data ${{inputs.raw_data}} --bureau_features ${{inputs.bureau_features}} --prepared_data ${{outputs.prepared_data}}',
      inputs: {
        raw_data: { description: null, jobInputType: 'uri_folder', mode: 'ReadOnlyMount', uri: 'azureml:credit-applications:3' },
        bureau_features: { description: null, jobInputType: 'mltable', mode: 'ReadOnlyMount', uri: ids.registryDataUri },
      },
      outputs: { prepared_data: { description: null, jobOutputType: 'uri_folder', mode: 'ReadWriteMount', uri: PREP_OUTPUT_URI } },
    },
    byUser('2024-05-01T07:55:40.2261895+00:00', '2024-05-01T07:59:58.6604412+00:00'),
  );

  const train = commandJob(
    ids.jobNames.train,
    {
      displayName: 'train',
      description: null,
      git: GIT_MAY,
      codeId: ids.codes.v7,
      componentId: ids.components.train,
      command:
        'python train.py --training_data ${{inputs.training_data}} --baseline_model ${{inputs.baseline_model}} --learning_rate ${{inputs.learning_rate}} --n_estimators ${{inputs.n_estimators}} --model_output ${{outputs.model_output}}',
      inputs: {
        training_data: { description: null, jobInputType: 'uri_folder', mode: 'ReadOnlyMount', uri: PREP_OUTPUT_URI },
        baseline_model: { description: null, jobInputType: 'mlflow_model', mode: 'ReadOnlyMount', uri: ids.registryModelUri },
        learning_rate: { description: null, jobInputType: 'literal', value: '0.05' },
        n_estimators: { description: null, jobInputType: 'literal', value: '400' },
      },
      outputs: {
        model_output: {
          description: null,
          jobOutputType: 'mlflow_model',
          mode: 'ReadWriteMount',
          uri: 'azureml://datastores/workspaceblobstore/paths/azureml/credit-train-20240501/model_output/',
        },
      },
    },
    byUser('2024-05-01T08:00:03.1234567+00:00', '2024-05-01T08:41:17.5350054+00:00'),
  );

  const trainApril = commandJob(
    ids.jobNames.trainApril,
    {
      displayName: 'credit-train-april',
      description: 'Ad-hoc retrain with bureau features (feature branch)',
      git: GIT_APRIL,
      codeId: ids.codes.v6,
      componentId: null,
      command:
        'python train.py --training_data ${{inputs.training_data}} --learning_rate ${{inputs.learning_rate}} --n_estimators ${{inputs.n_estimators}} --model_output ${{outputs.model}}',
      inputs: {
        training_data: { description: null, jobInputType: 'uri_folder', mode: 'ReadOnlyMount', uri: 'azureml:credit-applications:2' },
        learning_rate: { description: null, jobInputType: 'literal', value: '0.1' },
        n_estimators: { description: null, jobInputType: 'literal', value: '200' },
      },
      outputs: {
        model: {
          description: null,
          jobOutputType: 'mlflow_model',
          mode: 'ReadWriteMount',
          uri: 'azureml://datastores/workspaceartifactstore/paths/ExperimentRun/dcid.credit-train-20240415/outputs/model/',
        },
      },
    },
    byUser('2024-04-15T13:20:41.5518203+00:00', '2024-04-15T14:02:09.7741036+00:00'),
  );

  return [pipeline, prep, train, trainApril];
}

const LIGHTGBM_FLAVORS = {
  python_function: { data: { loader_module: 'mlflow.lightgbm', python_version: '3.10.14', data: 'model.lgb', env: 'conda.yaml' } },
  lightgbm: { data: { lgb_version: '4.3.0', data: 'model.lgb', model_class: 'lightgbm.sklearn.LGBMClassifier', code: '' } },
};

function models(): ArmResource[] {
  const asset = {
    isAnonymous: false,
    isArchived: false,
    stage: null,
    provisioningState: 'Succeeded',
    autoDeleteSetting: null,
    intellectualProperty: null,
  };
  return [
    armResource(
      ids.models.container,
      {
        description: 'Probability of default within 12 months for consumer loan applications',
        tags: { team: 'risk' },
        properties: {},
        isArchived: false,
        latestVersion: '3',
        nextVersion: '4',
        provisioningState: 'Succeeded',
      },
      byUser('2024-02-01T11:04:27.3310977+00:00', '2024-05-01T09:02:44.4671910+00:00'),
    ),
    // Uploaded by hand from a datastore folder before training ran in Azure ML: no producing job.
    armResource(
      ids.models.v1,
      {
        ...asset,
        description: 'Scorecard export from the legacy SAS pipeline',
        tags: { team: 'risk', stage: 'retired' },
        properties: { framework: 'lightgbm' },
        flavors: null,
        jobName: null,
        modelType: 'custom_model',
        modelUri: `${DATASTORE_URI}/workspaceblobstore/paths/legacy/credit-default-v1/`,
      },
      byUser('2024-02-01T11:04:27.3310977+00:00'),
    ),
    armResource(
      ids.models.v2,
      {
        ...asset,
        description: null,
        tags: { team: 'risk', stage: 'production' },
        properties: { framework: 'lightgbm', auc: '0.781' },
        flavors: LIGHTGBM_FLAVORS,
        jobName: ids.jobNames.trainApril,
        modelType: 'mlflow_model',
        modelUri: `${DATASTORE_URI}/workspaceartifactstore/paths/ExperimentRun/dcid.credit-train-20240415/outputs/model/`,
      },
      byUser('2024-04-15T14:10:52.0896134+00:00'),
    ),
    // Same name, version and properties as the sample ModelRegistered event.
    armResource(
      ids.models.v3,
      {
        ...asset,
        description: null,
        tags: { team: 'risk', stage: 'candidate' },
        properties: { framework: 'lightgbm' },
        flavors: LIGHTGBM_FLAVORS,
        jobName: ids.jobNames.train,
        modelType: 'mlflow_model',
        modelUri: 'azureml://jobs/credit-train-20240501/outputs/model_output/paths/',
      },
      byUser('2024-05-01T09:02:44.4671910+00:00'),
    ),
  ];
}

function data(): ArmResource[] {
  const version = (id: string, folder: string, description: string, at: string) =>
    armResource(
      id,
      {
        description,
        tags: { source: 'loan-origination' },
        properties: {},
        isAnonymous: false,
        isArchived: false,
        stage: null,
        autoDeleteSetting: null,
        intellectualProperty: null,
        dataType: 'uri_folder',
        dataUri: `${DATASTORE_URI_LC}/workspaceblobstore/paths/credit-applications/${folder}/`,
      },
      byUser(at),
    );
  return [
    armResource(
      ids.data.container,
      {
        description: 'Consumer loan applications with 12-month default outcome',
        tags: { source: 'loan-origination' },
        properties: {},
        isArchived: false,
        latestVersion: '3',
        nextVersion: '4',
        dataType: 'uri_folder',
      },
      byUser('2024-03-01T08:12:55.6021174+00:00', '2024-04-30T17:45:03.2209916+00:00'),
    ),
    version(ids.data.v2, '2024-04-10', 'Snapshot up to 2024-03-31', '2024-04-10T09:31:18.4456012+00:00'),
    version(ids.data.v3, '2024-04-30', 'Snapshot up to 2024-04-29', '2024-04-30T17:45:03.2209916+00:00'),
  ];
}

function environmentsAndCode(): ArmResource[] {
  const code = (id: string, upload: string, at: string) =>
    armResource(
      id,
      {
        description: null,
        tags: {},
        properties: {},
        isAnonymous: false,
        isArchived: false,
        provisioningState: 'Succeeded',
        autoDeleteSetting: null,
        codeUri: `https://${STORAGE}.blob.core.windows.net/${BLOB_CONTAINER}/LocalUpload/${upload}/src`,
      },
      byUser(at),
    );
  return [
    armResource(
      ids.environments.container,
      {
        description: 'LightGBM 4.3 training and scoring',
        tags: {},
        properties: {},
        isArchived: false,
        latestVersion: '5',
        nextVersion: '6',
        provisioningState: 'Succeeded',
      },
      byUser('2024-01-22T10:40:16.9184401+00:00', '2024-04-12T15:27:30.5521839+00:00'),
    ),
    armResource(
      ids.environments.v5,
      {
        description: 'LightGBM 4.3 training and scoring',
        tags: {},
        properties: { 'azureml.labels': 'latest' },
        isAnonymous: false,
        isArchived: false,
        autoRebuild: 'OnBaseImageUpdate',
        build: null,
        condaFile: [
          'name: lightgbm-env',
          'channels:',
          '  - conda-forge',
          'dependencies:',
          '  - python=3.10',
          '  - pip',
          '  - pip:',
          '      - lightgbm==4.3.0',
          '      - scikit-learn==1.4.2',
          '      - pandas==2.2.2',
          '      - mlflow==2.12.1',
          '      - azureml-mlflow==1.56.0',
          '      - azureml-inference-server-http==1.2.1',
        ].join('\n'),
        environmentType: 'UserCreated',
        image: 'mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240418.v1',
        inferenceConfig: null,
        osType: 'Linux',
        stage: null,
        provisioningState: 'Succeeded',
        autoDeleteSetting: null,
        intellectualProperty: null,
      },
      byUser('2024-04-12T15:27:30.5521839+00:00'),
    ),
    armResource(
      ids.codes.container,
      {
        description: null,
        tags: {},
        properties: {},
        isArchived: false,
        latestVersion: '7',
        nextVersion: '8',
        provisioningState: 'Succeeded',
      },
      byUser('2024-02-20T13:02:11.0034518+00:00', '2024-05-01T07:55:09.7305526+00:00'),
    ),
    code(ids.codes.v6, '5d41c8a0e2b94f7c8a3d1e6b2f0c9a47', '2024-04-15T13:20:33.4820077+00:00'),
    code(ids.codes.v7, 'a8e3f1c94b2d4e06b7c5d2e1f0a9b384', '2024-05-01T07:55:09.7305526+00:00'),
  ];
}

function components(): ArmResource[] {
  // Anonymous components the SDK registers per pipeline submission; systemData here has no
  // createdByType/lastModifiedBy, which the notes say real responses sometimes omit.
  const version = (id: string, displayName: string, spec: Record<string, unknown>) =>
    armResource(
      id,
      {
        description: null,
        tags: {},
        properties: {},
        isAnonymous: true,
        isArchived: false,
        stage: null,
        provisioningState: 'Succeeded',
        componentSpec: {
          $schema: 'https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json',
          name: 'azureml_anonymous',
          version: id.slice(id.lastIndexOf('/') + 1),
          display_name: displayName,
          type: 'command',
          is_deterministic: true,
          environment: `azureml:${ids.environments.v5}`,
          code: `azureml:${ids.codes.v7}`,
          ...spec,
        },
      },
      { createdAt: '2024-05-01T07:55:11.2093467+00:00', createdBy: DATA_SCIENTIST, lastModifiedAt: '2024-05-01T07:55:11.2093467+00:00' },
    );
  return [
    armResource(
      ids.components.container,
      {
        description: null,
        tags: {},
        properties: {},
        isArchived: false,
        latestVersion: null,
        nextVersion: null,
        provisioningState: 'Succeeded',
      },
      { createdAt: '2024-02-20T13:02:14.5569302+00:00', createdBy: DATA_SCIENTIST, lastModifiedAt: '2024-05-01T07:55:11.2093467+00:00' },
    ),
    version(ids.components.prep, 'prep', {
      inputs: { raw_data: { type: 'uri_folder' }, bureau_features: { type: 'mltable' } },
      outputs: { prepared_data: { type: 'uri_folder' } },
      command:
        'python prep.py --raw_data ${{inputs.raw_data}} --bureau_features ${{inputs.bureau_features}} --prepared_data ${{outputs.prepared_data}}',
    }),
    version(ids.components.train, 'train', {
      inputs: {
        training_data: { type: 'uri_folder' },
        baseline_model: { type: 'mlflow_model' },
        learning_rate: { type: 'number' },
        n_estimators: { type: 'integer' },
      },
      outputs: { model_output: { type: 'mlflow_model' } },
      command:
        'python train.py --training_data ${{inputs.training_data}} --baseline_model ${{inputs.baseline_model}} --learning_rate ${{inputs.learning_rate}} --n_estimators ${{inputs.n_estimators}} --model_output ${{outputs.model_output}}',
    }),
  ];
}

function infrastructure(): ArmResource[] {
  const datastore = (id: string, container: string, isDefault: boolean) =>
    armResource(
      id,
      {
        description: null,
        tags: {},
        properties: null,
        isDefault,
        credentials: { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey' } },
        datastoreType: 'AzureBlob',
        accountName: STORAGE,
        containerName: container,
        endpoint: 'core.windows.net',
        protocol: 'https',
        serviceDataAccessAuthIdentity: 'WorkspaceSystemAssignedIdentity',
        resourceGroup: RG,
        subscriptionId: SUB,
      },
      byUser('2024-01-15T10:13:26.1185317+00:00'),
    );
  return [
    armResource(
      ids.compute,
      {
        computeType: 'AmlCompute',
        computeLocation: LOCATION,
        description: 'Shared CPU training cluster',
        createdOn: '2024-01-16T09:21:37.1187652+00:00',
        modifiedOn: '2024-03-04T15:02:11.4093278+00:00',
        resourceId: null,
        provisioningErrors: null,
        provisioningState: 'Succeeded',
        isAttachedCompute: false,
        disableLocalAuth: true,
        properties: {
          osType: 'Linux',
          vmSize: 'STANDARD_DS3_V2',
          vmPriority: 'Dedicated',
          scaleSettings: { maxNodeCount: 4, minNodeCount: 0, nodeIdleTimeBeforeScaleDown: 'PT2M' },
          remoteLoginPortPublicAccess: 'Disabled',
          enableNodePublicIp: false,
          allocationState: 'Steady',
          allocationStateTransitionTime: '2024-05-01T08:52:40.0191833+00:00',
          currentNodeCount: 0,
          targetNodeCount: 0,
          subnet: null,
          errors: null,
        },
      },
      byUser('2024-01-16T09:21:37.1187652+00:00', '2024-03-04T15:02:11.4093278+00:00'),
      {
        location: LOCATION,
        tags: {},
        identity: null,
        sku: null,
      },
    ),
    datastore(ids.datastores.blob, BLOB_CONTAINER, true),
    datastore(ids.datastores.artifacts, 'azureml', false),
  ];
}

function endpointAndDeployments(): ArmResource[] {
  const deployment = (
    id: string,
    p: { description: string; model: string; codeId: string; environmentId: string },
    systemData: SystemData,
  ) =>
    armResource(
      id,
      {
        description: p.description,
        properties: {},
        codeConfiguration: { codeId: p.codeId, scoringScript: 'score.py' },
        environmentId: p.environmentId,
        environmentVariables: {},
        appInsightsEnabled: true,
        dataCollector: null,
        egressPublicNetworkAccess: 'Enabled',
        endpointComputeType: 'Managed',
        instanceType: 'Standard_DS3_v2',
        livenessProbe: { failureThreshold: 30, initialDelay: 'PT10S', period: 'PT10S', successThreshold: 1, timeout: 'PT2S' },
        readinessProbe: { failureThreshold: 30, initialDelay: 'PT10S', period: 'PT10S', successThreshold: 1, timeout: 'PT2S' },
        model: p.model,
        modelMountPath: null,
        provisioningState: 'Succeeded',
        requestSettings: { maxConcurrentRequestsPerInstance: 1, maxQueueWait: 'PT0.5S', requestTimeout: 'PT5S' },
        scaleSettings: { scaleType: 'Default' },
      },
      systemData,
      {
        location: LOCATION,
        tags: { team: 'risk' },
        kind: 'Managed',
        identity: null,
        sku: { name: 'Default', tier: 'Standard', capacity: 2 },
      },
    );
  return [
    armResource(
      ENDPOINT,
      {
        description: 'Credit default scoring for the loan origination service',
        // Lower-case ARM id, as the service writes this property.
        properties: { 'azureml.onlineendpointid': ENDPOINT.toLowerCase() },
        authMode: 'Key',
        compute: null,
        mirrorTraffic: {},
        provisioningState: 'Succeeded',
        publicNetworkAccess: 'Enabled',
        scoringUri: `https://credit-scoring.${LOCATION}.inference.ml.azure.com/score`,
        swaggerUri: `https://credit-scoring.${LOCATION}.inference.ml.azure.com/swagger.json`,
        // green is listed at 0 (the service accepts both listing it and leaving it out).
        traffic: { blue: 100, green: 0 },
      },
      byPipeline('2024-04-16T08:30:12.4402319+00:00', '2024-05-02T07:15:00.0000000+00:00'),
      {
        location: LOCATION,
        tags: { team: 'risk' },
        kind: 'Managed',
        identity: { type: 'SystemAssigned', principalId: '5a7c9e1b-3d2f-4a6b-8c0d-e1f2a3b4c5d6', tenantId: TENANT },
        sku: null,
      },
    ),
    deployment(
      ids.deployments.blue,
      {
        description: 'credit-default:2 (April retrain)',
        model: ids.models.v2,
        codeId: ids.codes.v6,
        environmentId: ids.environments.v5,
      },
      byPipeline('2024-04-16T08:45:27.9937145+00:00', '2024-04-16T08:58:03.1176654+00:00'),
    ),
    deployment(
      ids.deployments.green,
      {
        description: 'credit-default:3 (May pipeline), shadow before cut-over',
        model: ids.models.v3,
        codeId: ids.codes.v7,
        environmentId: ids.curatedEnvironmentUri,
      },
      byPipeline('2024-05-02T07:15:00.0000000+00:00', '2024-05-02T07:26:41.6639012+00:00'),
    ),
  ];
}

/**
 * The batch endpoint and its default deployment (model given as an `Id` asset reference, as batch
 * deployments write it), and one scoring job it ran. The job is a pipeline job whose properties
 * name the endpoint and deployment (`azureml.endpointname`, `azureml.deploymentname`,
 * `runSource: BatchDeployment`), as the service records batch runs.
 */
function batchEndpoint(): ArmResource[] {
  const monthly = ids.batchDeployment;
  return [
    armResource(
      BATCH_ENDPOINT,
      {
        description: 'Monthly re-scoring of the loan book',
        properties: { BatchEndpointCreationApiVersion: '2023-10-01', 'azureml.onlineendpointid': BATCH_ENDPOINT },
        authMode: 'AADToken',
        defaults: { deploymentName: 'monthly' },
        provisioningState: 'Succeeded',
        scoringUri: `https://credit-batch.${LOCATION}.inference.ml.azure.com/jobs`,
        swaggerUri: null,
      },
      byPipeline('2024-05-20T09:00:00.0000000+00:00', '2024-05-20T09:12:31.0000000+00:00'),
      { location: LOCATION, tags: { team: 'risk' }, kind: '', identity: { type: 'SystemAssigned', tenantId: TENANT }, sku: null },
    ),
    armResource(
      monthly,
      {
        description: 'credit-default:2 over the month-end loan book',
        properties: {},
        codeConfiguration: { codeId: ids.codes.v6, scoringScript: 'batch_score.py' },
        environmentId: ids.environments.v5,
        environmentVariables: {},
        compute: ids.compute,
        errorThreshold: -1,
        retrySettings: { maxRetries: 3, timeout: 'PT30S' },
        miniBatchSize: 10,
        loggingLevel: 'Info',
        model: { referenceType: 'Id', assetId: ids.models.v2 },
        maxConcurrencyPerInstance: 1,
        outputAction: 'AppendRow',
        outputFileName: 'predictions.csv',
        resources: { instanceCount: 2, instanceType: null, properties: {} },
        provisioningState: 'Succeeded',
      },
      byPipeline('2024-05-20T09:05:00.0000000+00:00', '2024-05-20T09:12:31.0000000+00:00'),
      { location: LOCATION, tags: { team: 'risk' }, kind: '', identity: null, sku: null },
    ),
    armResource(
      ids.jobs.batchScore,
      {
        description: null,
        tags: { 'azureml.batchrun': 'true', 'azureml.deploymentname': 'monthly', 'azureml.jobtype': 'azureml.pipelinejob' },
        properties: {
          'azureml.deploymentname': 'monthly',
          'azureml.endpointname': 'credit-batch',
          'azureml.runLineageType': 'batchDeployment',
          'azureml.defaultComputeName': 'cpu-cluster',
          runSource: 'BatchDeployment',
          runType: 'HTTP',
        },
        displayName: 'credit-batch-monthly',
        status: 'Completed',
        experimentName: 'credit-batch',
        services: jobServices(ids.jobNames.batchScore),
        computeId: null,
        isArchived: false,
        identity: null,
        componentId: null,
        notificationSetting: null,
        jobType: 'Pipeline',
        sourceJobId: null,
        settings: { default_compute: ids.compute },
        inputs: {
          input_data: { description: null, jobInputType: 'uri_folder', mode: 'ReadOnlyMount', uri: 'azureml:credit-applications:3' },
        },
        outputs: {
          score: {
            description: null,
            jobOutputType: 'uri_file',
            mode: 'ReadWriteMount',
            uri: `azureml://datastores/workspaceblobstore/paths/azureml/${ids.jobNames.batchScore}/score/predictions.csv`,
          },
        },
        jobs: {},
      },
      byPipeline('2024-06-01T02:00:03.1713520+00:00', '2024-06-01T02:04:32.8374260+00:00'),
    ),
  ];
}

function workspace(): ArmResource {
  return armResource(
    WS,
    {
      friendlyName: 'Credit risk',
      description: 'Credit risk models (consumer lending)',
      workspaceId: WS_GUID,
      tenantId: TENANT,
      storageAccount: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Storage/storageAccounts/${STORAGE}`,
      keyVault: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/kv-credit-ml-7f3a`,
      applicationInsights: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/microsoft.insights/components/appi-credit-ml`,
      containerRegistry: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerRegistry/registries/crcreditml7f3a`,
      discoveryUrl: `https://${LOCATION}.api.azureml.ms/discovery`,
      mlFlowTrackingUri: `azureml://${LOCATION}.api.azureml.ms/mlflow/v1.0${WS}`,
      hbiWorkspace: false,
      provisioningState: 'Succeeded',
      publicNetworkAccess: 'Enabled',
      v1LegacyMode: false,
      storageHnsEnabled: false,
      privateLinkCount: 0,
      imageBuildCompute: null,
      allowPublicAccessWhenBehindVnet: false,
      enableDataIsolation: false,
      notebookInfo: null,
      serviceProvisionedResourceGroup: null,
      creationTime: '2024-01-15T10:12:03.9315063Z',
    },
    {
      // The workspace writes `Z`, unlike the assets (recorded workspace GET).
      createdAt: '2024-01-15T10:12:03.9315063Z',
      createdBy: DATA_SCIENTIST,
      createdByType: 'User',
      lastModifiedAt: '2024-03-04T14:58:30.2215518Z',
      lastModifiedBy: DATA_SCIENTIST,
      lastModifiedByType: 'User',
    },
    {
      location: LOCATION,
      tags: { team: 'risk', costCenter: 'CC-4102' },
      kind: 'Default',
      identity: { type: 'SystemAssigned', principalId: '0d4e6f8a-1b3c-4d5e-9f70-a1b2c3d4e5f6', tenantId: TENANT },
      sku: { name: 'Basic', tier: 'Basic' },
    },
  );
}

/** The shared registry: one model and one MLTable data asset the workspace's jobs consume by `azureml://registries/...`. */
function registry(): ArmResource[] {
  const blob = 'https://stcontosomlreg01.blob.core.windows.net';
  return [
    armResource(
      REG,
      {
        discoveryUrl: `https://${LOCATION}.api.azureml.ms/registrymanagement/v1.0/registries/${REG_NAME}/discovery`,
        intellectualPropertyPublisher: null,
        managedResourceGroup: {
          resourceId: `/subscriptions/${SUB}/resourceGroups/azureml-rg-${REG_NAME}_4e1d7b2a-9c3f-4a58-b6e0-2d1f8c7a9b35`,
        },
        mlFlowRegistryUri: `azureml://${LOCATION}.api.azureml.ms/mlflow/v1.0${REG}`,
        publicNetworkAccess: 'Enabled',
        regionDetails: [{ location: LOCATION, storageAccountDetails: [], acrDetails: [] }],
      },
      byUser('2024-01-10T16:20:45.7781226+00:00'),
      {
        location: LOCATION,
        tags: {},
        kind: '',
        identity: { type: 'SystemAssigned', principalId: '8b9c0d1e-2f3a-4b5c-9d6e-7f8091a2b3c4', tenantId: TENANT },
        sku: null,
      },
    ),
    armResource(
      `${REG}/models/credit-baseline`,
      {
        description: 'Champion model shared across credit workspaces',
        tags: {},
        properties: {},
        isArchived: false,
        latestVersion: '1',
        nextVersion: '2',
      },
      byUser('2024-02-20T10:05:33.0912847+00:00'),
    ),
    armResource(
      ids.registryModel,
      {
        description: 'Champion model shared across credit workspaces',
        tags: { team: 'risk' },
        properties: { framework: 'lightgbm' },
        isAnonymous: false,
        isArchived: false,
        stage: null,
        flavors: LIGHTGBM_FLAVORS,
        jobName: null,
        modelType: 'mlflow_model',
        modelUri: `${blob}/credit-baseline-1-0f3c2a9e/model/`,
      },
      byUser('2024-02-20T10:05:33.0912847+00:00'),
    ),
    armResource(
      `${REG}/models/credit-default`,
      {
        description: 'Probability of default, as released to the other credit workspaces',
        tags: {},
        properties: {},
        isArchived: false,
        latestVersion: '2',
        nextVersion: '3',
      },
      byUser('2024-04-16T09:30:12.5521890+00:00'),
    ),
    // Promoted from ws-credit the day after training. Its modelUri names the workspace version it
    // was copied from by ARM id; what the service writes there for a share is not documented, so
    // this is the shape the projection reads, not a recorded one.
    armResource(
      ids.registryPromoted,
      {
        description: 'credit-default:2 from ws-credit',
        tags: { team: 'risk', stage: 'production' },
        properties: { framework: 'lightgbm', auc: '0.781' },
        isAnonymous: false,
        isArchived: false,
        stage: null,
        flavors: LIGHTGBM_FLAVORS,
        jobName: null,
        modelType: 'mlflow_model',
        modelUri: ids.models.v2,
      },
      byUser('2024-04-16T09:30:12.5521890+00:00'),
    ),
    armResource(
      `${REG}/data/credit-bureau-features`,
      {
        description: 'Monthly credit bureau aggregates',
        tags: {},
        properties: {},
        isArchived: false,
        latestVersion: '2',
        nextVersion: '3',
        dataType: 'mltable',
      },
      byUser('2024-03-02T06:10:12.3301945+00:00', '2024-04-02T06:10:48.6612093+00:00'),
    ),
    armResource(
      ids.registryData,
      {
        description: 'Bureau aggregates as of 2024-03-31',
        tags: { source: 'bureau' },
        properties: {},
        isAnonymous: false,
        isArchived: false,
        dataType: 'mltable',
        dataUri: `${blob}/credit-bureau-features-2-6a1e9d3b/`,
        referencedUris: ['./bureau_features_2024-03.parquet'],
      },
      byUser('2024-04-02T06:10:48.6612093+00:00'),
    ),
  ];
}

/** A fresh copy each call, so stand-ins never share mutable state. */
export function createSampleWorkspace(): SampleWorkspace {
  return {
    subscriptionId: SUB,
    resourceGroup: RG,
    workspaceName: WS_NAME,
    workspaceId: WS,
    resources: [
      workspace(),
      ...jobs(),
      ...models(),
      ...data(),
      ...environmentsAndCode(),
      ...components(),
      ...infrastructure(),
      ...endpointAndDeployments(),
      ...batchEndpoint(),
      ...registry(),
    ],
  };
}
