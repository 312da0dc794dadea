import { WS } from '../helpers/fixtures.js';
import { eventTemplate, gitRunProperties, type Schema } from './fixtures.js';

/**
 * A deterministic, realistic stream of Azure ML system events for one workspace, built by cloning
 * the documented fixtures and varying what varies in real traffic: event ids and times, run ids
 * (plain, AutoML and HyperDrive children), run status, git provenance, model names and versions,
 * deployments of registered models, drift monitor runs, and the output schema.
 */
export const AML_TYPES = ['ModelRegistered', 'ModelDeployed', 'RunCompleted', 'RunStatusChanged', 'DatasetDriftDetected'] as const;
export type AmlType = (typeof AML_TYPES)[number];

export interface BenchEvent {
  type: AmlType;
  schema: Schema;
  raw: Record<string, unknown>;
}

/** Share of each type in the stream: run lifecycle events dominate, as in a busy workspace. */
const MIX: ReadonlyArray<readonly [AmlType, number]> = [
  ['RunStatusChanged', 0.4],
  ['RunCompleted', 0.2],
  ['ModelRegistered', 0.2],
  ['ModelDeployed', 0.1],
  ['DatasetDriftDetected', 0.1],
];

/** The run id written throughout the run fixtures (subject, data, artifact paths). */
const FIXTURE_RUN_ID = 'AutoML_ad912b2d-6467-4f32-a616-dbe4af6dd8fc_5';
const START_MS = Date.UTC(2024, 0, 1);

const MODEL_NAMES = [
  'credit-risk',
  'churn-xgb',
  'fraud-detector',
  'sklearn_regression_model',
  'demand-forecast',
  'nlp-intent',
  'image-defects',
  'pricing-gbm',
];
const SERVICES = ['credit-scoring', 'churn-api', 'fraud-realtime', 'forecast-batch', 'intent-svc', 'pricing-svc'];
const REPOSITORIES = [
  'git@github.com:contoso/ml-platform.git',
  'https://github.com/contoso/credit-models',
  'https://dev.azure.com/contoso/ml/_git/forecasting',
];

/** mulberry32: a small seeded PRNG so every run benchmarks the same stream. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded choices shared by the bench's generators. */
export function pickFrom<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

export function randomHex(random: () => number, length: number): string {
  let out = '';
  while (out.length < length)
    out += Math.floor(random() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return out.slice(0, length);
}

export function randomUuid(random: () => number): string {
  const h = randomHex(random, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

interface Run {
  runId: string;
  experimentId: string;
  experimentName: string;
  git: Record<string, string> | undefined;
}

class StreamBuilder {
  private readonly random: () => number;
  private readonly templates = new Map<string, Record<string, unknown>>();
  private readonly gitProps = gitRunProperties();
  private clock = START_MS;
  private readonly inFlight: Run[] = [];
  private readonly versions = new Map<string, number>();
  private sweep = { kind: 'AutoML', id: '', children: 0 };
  private readonly experiments: Array<{ id: string; name: string }>;
  private readonly monitors: Array<{ id: string; name: string; base: string; target: string }>;

  constructor(seed: number) {
    this.random = prng(seed);
    this.experiments = ['automl-local-regression', 'credit-training', 'churn-nightly', 'forecast-retrain', 'nlp-finetune'].map((name) => ({
      id: randomUuid(this.random),
      name,
    }));
    this.monitors = ['credit-drift', 'churn-drift', 'forecast-drift'].map((name) => ({
      id: randomUuid(this.random),
      name,
      base: randomUuid(this.random),
      target: randomUuid(this.random),
    }));
  }

  next(): BenchEvent {
    const type = this.pickType();
    const schema: Schema = this.random() < 0.5 ? 'eventgrid' : 'cloudevents';
    this.clock += 500 + Math.floor(this.random() * 5000);
    switch (type) {
      case 'RunStatusChanged':
        return this.runStatusChanged(schema);
      case 'RunCompleted':
        return this.runCompleted(schema);
      case 'ModelRegistered':
        return this.modelRegistered(schema);
      case 'ModelDeployed':
        return this.modelDeployed(schema);
      case 'DatasetDriftDetected':
        return this.driftDetected(schema);
    }
  }

  private runStatusChanged(schema: Schema): BenchEvent {
    const advance = this.inFlight.length >= 3 && this.random() < 0.5;
    if (!advance) {
      const run = this.newRun();
      this.inFlight.push(run);
      return this.runEvent(schema, 'RunStatusChanged', run, pickFrom(this.random, ['Running', 'Queued', 'Preparing']));
    }
    const index = Math.floor(this.random() * this.inFlight.length);
    const run = this.inFlight[index] as Run;
    const failed = this.random() < 0.3;
    if (failed) this.inFlight.splice(index, 1);
    // Status casing varies by source ("failed" in the docs example, "Running" elsewhere).
    return this.runEvent(schema, 'RunStatusChanged', run, failed ? 'failed' : 'Finalizing');
  }

  private runCompleted(schema: Schema): BenchEvent {
    const run =
      this.inFlight.length > 0 ? (this.inFlight.splice(Math.floor(this.random() * this.inFlight.length), 1)[0] as Run) : this.newRun();
    return this.runEvent(schema, 'RunCompleted', run, undefined);
  }

  private runEvent(schema: Schema, type: 'RunCompleted' | 'RunStatusChanged', run: Run, status: string | undefined): BenchEvent {
    const template = this.template(schema, type);
    // The fixture's run id also appears inside artifact paths; swap it everywhere.
    const data = JSON.parse(JSON.stringify(template.data).replaceAll(FIXTURE_RUN_ID, run.runId)) as Record<string, unknown>;
    data.experimentId = run.experimentId;
    data.experimentName = run.experimentName;
    if (run.git) data.runProperties = { ...(data.runProperties as Record<string, unknown>), ...run.git };
    if (status !== undefined) data.runStatus = status;
    return this.event(schema, type, `experiments/${run.experimentId}/runs/${run.runId}`, data);
  }

  private modelRegistered(schema: Schema): BenchEvent {
    const name = pickFrom(this.random, MODEL_NAMES);
    const version = (this.versions.get(name) ?? 0) + 1;
    this.versions.set(name, version);
    const template = this.template(schema, 'ModelRegistered');
    const data = structuredClone(template.data) as Record<string, unknown>;
    data.ModelName = name;
    // The docs example sends a number; the SDKs and the field table a string. Both occur.
    data.ModelVersion = this.random() < 0.25 ? String(version) : version;
    data.ModelTags = { area: name.split(/[-_]/)[0], stage: pickFrom(this.random, ['dev', 'staging', 'prod']) };
    return this.event(schema, 'ModelRegistered', `models/${name}:${version}`, data);
  }

  private modelDeployed(schema: Schema): BenchEvent {
    const service = pickFrom(this.random, SERVICES);
    const registered = [...this.versions.entries()];
    const models = registered.length > 0 ? [pickFrom(this.random, registered)] : [['sklearn_regression_model', 1] as [string, number]];
    // Blue/green: half the deployments still serve the previous version too.
    const [name, version] = models[0] as [string, number];
    if (version > 1 && this.random() < 0.5) models.push([name, version - 1]);
    const template = this.template(schema, 'ModelDeployed');
    const data = structuredClone(template.data) as Record<string, unknown>;
    data.ServiceName = service;
    data.ServiceComputeType = pickFrom(this.random, ['ACI', 'AKS']);
    data.ModelIds = models.map(([n, v]) => `${n}:${v}`).join(',');
    return this.event(schema, 'ModelDeployed', `endpoints/${service}`, data);
  }

  private driftDetected(schema: Schema): BenchEvent {
    const monitor = pickFrom(this.random, this.monitors);
    const runId = `${monitor.id}_${this.clock}`;
    const day = new Date(this.clock - 86_400_000).toISOString().slice(0, 10);
    const template = this.template(schema, 'DatasetDriftDetected');
    const data = structuredClone(template.data) as Record<string, unknown>;
    Object.assign(data, {
      DataDriftId: monitor.id,
      DataDriftName: monitor.name,
      RunId: runId,
      BaseDatasetId: monitor.base,
      TargetDatasetId: monitor.target,
      DriftCoefficient: Math.round(this.random() * 1e6) / 1e6,
      StartTime: `${day}T00:00:00+00:00`,
      EndTime: `${day}T23:59:59+00:00`,
    });
    return this.event(schema, 'DatasetDriftDetected', `datadrifts/${monitor.id}/runs/${runId}`, data);
  }

  /** A clone of the fixture envelope with this event's id, time, subject, data and the workspace. */
  private event(schema: Schema, type: AmlType, subject: string, data: Record<string, unknown>): BenchEvent {
    const raw = structuredClone(this.template(schema, type));
    raw.id = randomUuid(this.random);
    raw.subject = subject;
    raw.data = data;
    if (schema === 'eventgrid') {
      raw.topic = WS;
      raw.eventTime = this.eventTime();
    } else {
      raw.source = WS;
      raw.time = this.eventTime();
    }
    return { type, schema, raw };
  }

  private newRun(): Run {
    const experiment = pickFrom(this.random, this.experiments);
    const roll = this.random();
    let runId: string;
    if (roll < 0.5) {
      // Children of an AutoML or HyperDrive sweep point at their parent run.
      if (this.sweep.children === 0 || this.sweep.children >= 8)
        this.sweep = { kind: this.random() < 0.8 ? 'AutoML' : 'HD', id: randomUuid(this.random), children: 0 };
      runId = `${this.sweep.kind}_${this.sweep.id}_${this.sweep.children++}`;
    } else {
      runId = `${experiment.name}_${Math.floor(this.clock / 1000)}_${randomHex(this.random, 8)}`;
    }
    const git =
      this.random() < 0.5
        ? undefined
        : (() => {
            const repository = pickFrom(this.random, REPOSITORIES);
            const commit = randomHex(this.random, 40);
            return {
              ...this.gitProps,
              'azureml.git.repository_uri': repository,
              'mlflow.source.git.repoURL': repository,
              'azureml.git.commit': commit,
              'mlflow.source.git.commit': commit,
            };
          })();
    return { runId, experimentId: experiment.id, experimentName: experiment.name, git };
  }

  private template(schema: Schema, type: AmlType): Record<string, unknown> {
    const key = `${schema}-${type}`;
    let template = this.templates.get(key);
    if (!template) {
      template = eventTemplate(schema, type);
      this.templates.set(key, template);
    }
    return template;
  }

  private pickType(): AmlType {
    let roll = this.random();
    for (const [type, share] of MIX) {
      if ((roll -= share) < 0) return type;
    }
    return 'RunStatusChanged';
  }

  /** Azure ML writes seven fractional digits: `2024-01-01T00:00:03.1234567Z`. */
  private eventTime(): string {
    const extraDigits = String(Math.floor(this.random() * 10_000)).padStart(4, '0');
    return new Date(this.clock).toISOString().replace('Z', `${extraDigits}Z`);
  }
}

/** `count` events, the same ones for the same seed. */
export function eventStream(count: number, seed = 20240101): BenchEvent[] {
  const builder = new StreamBuilder(seed);
  return Array.from({ length: count }, () => builder.next());
}
