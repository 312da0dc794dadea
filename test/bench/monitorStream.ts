import { fixture, WS } from '../helpers/fixtures.js';
import { activityWrite, runStatusRecord, trafficRecord } from '../helpers/monitorRecords.js';
import { pickFrom, prng, randomHex, randomUuid } from './stream.js';

/**
 * A deterministic stream of Event Hubs message bodies as Azure Monitor diagnostic settings send
 * them: `{"records":[...]}`, each message one source's batch of 1-20 records. Azure ML records use
 * the shapes of test/helpers/monitorRecords.ts with the other documented columns of their table
 * added (no Azure ML record has been published in its Event Hubs form, see test/fixtures/README.md);
 * non-ML records are clones of the documented envelopes in test/fixtures/azure-monitor.
 *
 * Sources, by share of messages:
 *   endpoint traffic  AmlOnlineEndpointTrafficLog, one record per scoring request (the bulk of real traffic)
 *   workspace logs    AmlRunStatusChangedEvent, AmlComputeJobEvent, ModelsChangeEvent, EnvironmentChangeEvent
 *   Activity Log      Administrative writes on Azure ML resources (Started + Succeeded pairs), and the
 *                     documented non-ML `Write` (a support ticket)
 *   other services    Key Vault AuditEvent, Logic Apps WorkflowRuntime, App Service metrics
 */
export const MONITOR_SOURCES = ['endpoint traffic', 'workspace logs', 'Activity Log', 'other services'] as const;
export type MonitorSource = (typeof MONITOR_SOURCES)[number];

export interface MonitorMessage {
  source: MonitorSource;
  body: { records: Array<Record<string, unknown>> };
  /** One label per record, for reporting: the record's category (`metrics` for metric records, which have none). */
  labels: string[];
}

const SOURCE_MIX: ReadonlyArray<readonly [MonitorSource, number]> = [
  ['endpoint traffic', 0.6],
  ['workspace logs', 0.2],
  ['Activity Log', 0.1],
  ['other services', 0.1],
];

type Raw = Record<string, unknown>;

const RESOURCE = WS.toUpperCase();
const START_MS = Date.UTC(2024, 4, 1);
const ENDPOINTS = ['credit-scoring', 'churn-api', 'fraud-realtime'];
const MODELS = ['credit-default', 'churn-xgb', 'fraud-detector', 'demand-forecast'];
const ENVIRONMENTS = ['sklearn-env', 'lightgbm-env', 'pytorch-gpu'];
const CLUSTERS = ['cpu-cluster', 'gpu-cluster'];
const EXPERIMENTS = ['credit-training', 'churn-nightly', 'fraud-retrain'];
const RUN_STATUSES = ['Queued', 'Preparing', 'Running', 'Running', 'Finalizing', 'Completed', 'Completed', 'Failed', 'Canceled'];
const COMPUTE_EVENTS: ReadonlyArray<readonly [string, string]> = [
  ['JobSubmitted', 'Queued'],
  ['JobRunning', 'Running'],
  ['JobSucceeded', 'Succeeded'],
  ['JobFailed', 'Failed'],
];
/** Response code, reason, model status code: mostly 200, some throttling, timeouts and model errors. */
const OUTCOMES: ReadonlyArray<readonly [number, string, number, number]> = [
  [200, 'OK', 200, 0.94],
  [424, 'Failed Dependency', 500, 0.02],
  [429, 'Too Many Requests', 0, 0.02],
  [408, 'Request Timeout', 0, 0.02],
];

/** The records of one documented non-ML envelope (object or outer-array form). */
function fixtureRecords(file: string): Raw[] {
  const value = fixture<{ records: Raw[] } | Array<{ records: Raw[] }>>(`azure-monitor/${file}`);
  return (Array.isArray(value) ? value.flatMap((m) => m.records) : value.records).map((r) => structuredClone(r));
}

class MonitorStreamBuilder {
  private readonly random: () => number;
  private clock = START_MS;
  private readonly runs: Array<{ runId: string; parent?: string; experiment: string }> = [];
  private readonly otherServices = [
    fixtureRecords('resourcelog-eventhubs-AuditEvent-KeyVault.json'),
    fixtureRecords('resourcelog-eventhubs-envelope-WorkflowRuntime.json'),
    fixtureRecords('metrics-eventhubs-envelope-WebSite.json'),
  ];
  private readonly supportTicket = fixtureRecords('activitylog-eventhubs-Write-supporttickets.json');

  constructor(
    seed: number,
    private readonly trafficShare: number,
  ) {
    this.random = prng(seed);
  }

  next(): MonitorMessage {
    const source = this.pickSource();
    this.clock += 1000 + Math.floor(this.random() * 20_000);
    let records: Raw[];
    switch (source) {
      case 'endpoint traffic':
        records = this.traffic(1 + Math.floor(this.random() * 20));
        break;
      case 'workspace logs':
        records = Array.from({ length: 1 + Math.floor(this.random() * 12) }, () => this.workspaceRecord());
        break;
      case 'Activity Log':
        records = Array.from({ length: 1 + Math.floor(this.random() * 3) }, () => this.activityPair()).flat();
        break;
      case 'other services':
        records = this.otherService(1 + Math.floor(this.random() * 20));
        break;
    }
    return { source, body: { records }, labels: records.map((r) => (typeof r.category === 'string' ? r.category : 'metrics')) };
  }

  /** One endpoint's batch: most requests to the blue deployment, some to green. */
  private traffic(count: number): Raw[] {
    const endpoint = pickFrom(this.random, ENDPOINTS);
    return Array.from({ length: count }, () => {
      const deployment = this.random() < 0.9 ? 'blue' : 'green';
      const record = trafficRecord(randomUuid(this.random), endpoint, deployment, this.time());
      const [code, reason, modelCode] = this.outcome();
      const requestMs = Math.floor(this.random() * 5);
      const responseMs = 5 + Math.floor(this.random() * 200);
      Object.assign(record.properties as Raw, {
        XMSClientRequestId: randomUuid(this.random),
        Protocol: 'HTTP/1.1',
        ResponseCode: code,
        ResponseCodeReason: reason,
        ModelStatusCode: modelCode,
        ModelStatusReason: modelCode === 200 ? 'OK' : modelCode === 0 ? '' : 'Internal Server Error',
        RequestPayloadSize: 200 + Math.floor(this.random() * 4000),
        ResponsePayloadSize: 20 + Math.floor(this.random() * 400),
        RequestDurationMs: requestMs,
        ResponseDurationMs: responseMs,
        TotalDurationMs: requestMs + responseMs + Math.floor(this.random() * 3),
        RequestThrottlingDelayMs: 0,
        ResponseThrottlingDelayMs: 0,
        AzureMLWorkspaceName: 'ws-prod',
        AzureMLWorkspaceId: '7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09',
        Location: 'westeurope',
        AuthType: this.random() < 0.7 ? 'Key' : 'AADToken',
      });
      return record;
    });
  }

  private workspaceRecord(): Raw {
    const roll = this.random();
    if (roll < 0.4) return this.runStatus();
    if (roll < 0.8) return this.computeJob();
    if (roll < 0.9) return this.modelsChange();
    return this.environmentChange();
  }

  private run(): { runId: string; parent?: string; experiment: string } {
    if (this.runs.length < 4 || this.random() < 0.3) {
      const experiment = pickFrom(this.random, EXPERIMENTS);
      const parent = this.runs.length > 0 && this.random() < 0.3 ? pickFrom(this.random, this.runs).runId : undefined;
      this.runs.push({ runId: `${experiment}_${Math.floor(this.clock / 1000)}_${randomHex(this.random, 8)}`, parent, experiment });
      if (this.runs.length > 50) this.runs.shift();
    }
    return pickFrom(this.random, this.runs);
  }

  private runStatus(): Raw {
    const run = this.run();
    const status = pickFrom(this.random, RUN_STATUSES);
    const record = runStatusRecord(run.runId, status, this.time(), run.parent);
    Object.assign(record, {
      resultType: 'Succeeded',
      resultSignature: '200',
      durationMs: String(Math.floor(this.random() * 40)),
      correlationId: randomUuid(this.random),
      location: 'westeurope',
    });
    Object.assign(record.properties as Raw, {
      RootRunId: run.parent ?? run.runId,
      Message: status === 'Failed' ? 'UserError: script exited with code 1' : '',
      TriggeringUserName: 'Jane Doe',
      WorkspaceId: '7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09',
    });
    return record;
  }

  private computeJob(): Raw {
    const run = this.run();
    const [eventType, state] = pickFrom(this.random, COMPUTE_EVENTS);
    return {
      time: this.time(),
      resourceId: RESOURCE,
      category: 'AmlComputeJobEvent',
      operationName: eventType,
      level: 'Informational',
      properties: {
        JobName: run.runId,
        JobId: `cj-${randomHex(this.random, 8)}`,
        EventType: eventType,
        ExecutionState: state,
        ClusterName: pickFrom(this.random, CLUSTERS),
        ExperimentName: run.experiment,
        ExperimentId: randomUuid(this.random),
        NodeId: `tvmps_${randomHex(this.random, 24)}_d`,
        ToolType: 'Python',
        CustomerSubscriptionId: '00000000-1111-2222-3333-444444444444',
        ErrorDetails: state === 'Failed' ? 'Process exited with code 1' : '',
      },
    };
  }

  private modelsChange(): Raw {
    return {
      time: this.time(),
      resourceId: RESOURCE,
      category: 'ModelsChangeEvent',
      operationName: 'Microsoft.MachineLearningServices/workspaces/models/write',
      resultType: 'Succeeded',
      resultSignature: this.random() < 0.5 ? '200' : '201',
      durationMs: String(10 + Math.floor(this.random() * 90)),
      callerIpAddress: '203.0.113.7',
      level: 'Informational',
      properties: {
        AmlModelName: pickFrom(this.random, MODELS),
        Identity: { UserName: 'jane@contoso.com', ObjectId: 'oid-jane' },
        AmlWorkspaceId: '7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09',
      },
    };
  }

  private environmentChange(): Raw {
    return {
      time: this.time(),
      resourceId: RESOURCE,
      category: 'EnvironmentChangeEvent',
      operationName: 'Microsoft.MachineLearningServices/workspaces/environments/write',
      resultType: 'Succeeded',
      resultSignature: '200',
      durationMs: String(10 + Math.floor(this.random() * 90)),
      level: 'Informational',
      properties: {
        AmlEnvironmentName: pickFrom(this.random, ENVIRONMENTS),
        AmlEnvironmentVersion: String(1 + Math.floor(this.random() * 9)),
        Identity: { UserName: 'jane@contoso.com' },
        AmlWorkspaceId: '7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09',
      },
    };
  }

  /** A write's Started and Succeeded records sharing a correlationId; one in five is the documented non-ML write. */
  private activityPair(): Raw[] {
    const correlationId = randomUuid(this.random);
    const time = this.time();
    if (this.random() < 0.2) {
      const [ticket] = this.supportTicket.map((r) => structuredClone(r));
      return [Object.assign(ticket as Raw, { time, correlationId })];
    }
    const roll = this.random();
    const model = pickFrom(this.random, MODELS);
    const [type, id] =
      roll < 0.3
        ? ['jobs', `${WS}/jobs/${this.run().runId}`]
        : roll < 0.55
          ? ['models/versions', `${WS}/models/${model}/versions/${1 + Math.floor(this.random() * 9)}`]
          : roll < 0.7
            ? [
                'onlineEndpoints/deployments',
                `${WS}/onlineEndpoints/${pickFrom(this.random, ENDPOINTS)}/deployments/${this.random() < 0.5 ? 'blue' : 'green'}`,
              ]
            : roll < 0.85
              ? ['data/versions', `${WS}/data/credit-applications/versions/${1 + Math.floor(this.random() * 5)}`]
              : ['computes', `${WS}/computes/${pickFrom(this.random, CLUSTERS)}`];
    const operation = `Microsoft.MachineLearningServices/workspaces/${type}/write`;
    const started = Object.assign(activityWrite(id, time, operation), { correlationId, resultType: 'Start', resultSignature: 'Started.' });
    const succeeded = Object.assign(activityWrite(id, this.time(), operation), {
      correlationId,
      durationMs: String(100 + Math.floor(this.random() * 3000)),
    });
    return [started, succeeded];
  }

  /** One non-ML resource's batch: its documented records, repeated with new times. */
  private otherService(count: number): Raw[] {
    const templates = pickFrom(this.random, this.otherServices);
    return Array.from({ length: count }, (_, i) =>
      Object.assign(structuredClone(templates[i % templates.length] as Raw), { time: this.time() }),
    );
  }

  private outcome(): readonly [number, string, number] {
    let roll = this.random();
    for (const [code, reason, model, share] of OUTCOMES) {
      if ((roll -= share) < 0) return [code, reason, model];
    }
    return [200, 'OK', 200];
  }

  private pickSource(): MonitorSource {
    // The traffic share is a parameter (section 4b is traffic-heavier); the rest keep their proportions.
    const rest = SOURCE_MIX.slice(1);
    const restTotal = rest.reduce((n, [, s]) => n + s, 0);
    let roll = this.random();
    if ((roll -= this.trafficShare) < 0) return 'endpoint traffic';
    for (const [source, share] of rest) {
      if ((roll -= (share / restTotal) * (1 - this.trafficShare)) < 0) return source;
    }
    return 'endpoint traffic';
  }

  /** Resource logs carry seven fractional digits; records in one batch are a few hundred ms apart. */
  private time(): string {
    this.clock += Math.floor(this.random() * 400);
    return new Date(this.clock).toISOString().replace('Z', `${String(Math.floor(this.random() * 10_000)).padStart(4, '0')}Z`);
  }
}

/** Share of messages that are endpoint traffic-log batches, by default. */
export const DEFAULT_TRAFFIC_SHARE = SOURCE_MIX[0]?.[1] ?? 0.6;

/** `count` messages, the same ones for the same seed and traffic share. */
export function monitorStream(count: number, seed = 20240501, trafficShare = DEFAULT_TRAFFIC_SHARE): MonitorMessage[] {
  const builder = new MonitorStreamBuilder(seed, trafficShare);
  return Array.from({ length: count }, () => builder.next());
}
