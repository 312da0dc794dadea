import { until as untilWithin } from '../../helpers/until.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { z } from 'zod';
import { SAMPLE_IDS, SAMPLE_ROLLOUT } from '../../../infra/local/azureMlStandIn/sampleWorkspace.js';
import { nodeSchema, problemSchema, timelineAnswerSchema } from '../../../shared/api/schemas.js';
import { PROBLEM_CODES, type ProblemCode } from '../../../shared/errors.js';
import { azureMlStandInUrl, ROOT, spawnHost, type SpawnedHost } from '../../helpers/localHost.js';

/**
 * Shared by the per-route API tests: one local host per test file (as `npm start` runs it, with
 * function keys switched on), the sample workspace's history delivered as Azure would, and
 * assertions for the problem-details shape every error must have.
 */
export const FUNCTION_KEY = 'e2e-function-key-4f1c9a';
export const ADMIN_KEY = 'e2e-admin-key-8d2b7e';
/** The Event Grid extension's system key (`eventgrid_extension` in Azure), which the webhook URL carries. */
export const EVENTGRID_KEY = 'e2e-eventgrid-system-key-41c6';

export const S = SAMPLE_IDS;
export const WS = SAMPLE_IDS.workspace;
export const ENDPOINT = SAMPLE_IDS.endpoint;
export const REGISTRY_MODEL_URI = SAMPLE_IDS.registryModelUri;
export const REGISTRY_DATA_URI = SAMPLE_IDS.registryDataUri;
export const SAMPLE_REQUEST = 'sample-request-0001';
export const SHA256 = /^sha256:[0-9a-f]{64}$/;

export const sampleEvents = JSON.parse(readFileSync(join(ROOT, 'infra', 'local', 'sample-events.json'), 'utf8')) as Array<
  Record<string, unknown>
>;

export type Node = z.infer<typeof nodeSchema>;

export interface Answer {
  status: number;
  contentType: string;
  headers: Headers;
  text: string;
  /** Parsed JSON for JSON answers; the text otherwise. */
  body: unknown;
}

export type Key = 'function' | 'admin' | 'none' | { value: string };

export interface CallOptions {
  /** Which key to present (default: the function key). */
  key?: Key;
  /** Where to present it: `?code=` (default) or the `x-functions-key` header. */
  keyIn?: 'query' | 'header';
  /** `x-ms-client-principal` header value, as App Service authentication would add it. */
  principal?: string;
  headers?: Record<string, string>;
}

/** The `x-ms-client-principal` header for a caller with these app roles. */
export function principal(roles: string[], name = 'alex@contoso.example'): string {
  const claims = [{ typ: 'name', val: name }, ...roles.map((val) => ({ typ: 'roles', val }))];
  return Buffer.from(JSON.stringify({ auth_typ: 'aad', name_typ: 'name', role_typ: 'roles', claims }), 'utf8').toString('base64');
}

export const AS = {
  reader: principal(['Lineage.Reader']),
  auditor: principal(['Lineage.Auditor']),
  admin: principal(['Lineage.Admin']),
  readerOfSample: principal(['Lineage.Reader.ws-credit']),
  auditorOfSample: principal(['Lineage.Auditor.ws-credit']),
  readerOfOther: principal(['Lineage.Reader.other-ws']),
  auditorOfOther: principal(['Lineage.Auditor.other-ws']),
  adminOfOther: principal(['Lineage.Admin.other-ws']),
  noRoles: principal([]),
  approver: principal(['Lineage.Approver'], 'release-bot@contoso.example'),
  malformed: Buffer.from('{"claims": [', 'utf8').toString('base64'),
} as const;

/**
 * An admin behind Entra ID: a function key and the Lineage.Admin app role. Behind App Service
 * authentication admin routes take a function key and the role decides; the admin key alone is a
 * key-only caller there.
 */
export const ADMIN: CallOptions = { key: 'function', principal: AS.admin };

export class Api {
  readonly standIn: string;

  constructor(readonly host: SpawnedHost) {
    this.standIn = azureMlStandInUrl(host);
  }

  async request(
    method: string,
    path: string,
    params: Record<string, string> = {},
    options: CallOptions & { body?: string } = {},
  ): Promise<Answer> {
    const url = new URL(`${this.host.url}${path}`);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const key = options.key ?? 'function';
    const keyValue = key === 'function' ? FUNCTION_KEY : key === 'admin' ? ADMIN_KEY : key === 'none' ? undefined : key.value;
    if (keyValue !== undefined) {
      if (options.keyIn === 'header') headers['x-functions-key'] = keyValue;
      else url.searchParams.set('code', keyValue);
    }
    if (options.principal !== undefined) headers['x-ms-client-principal'] = options.principal;
    if (options.body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(url, { method, headers, body: options.body }).catch((error: unknown) => {
      // A host that died says why: its exit and the last of its output, not only "fetch failed".
      const { exitCode, signalCode } = this.host.child;
      const state = exitCode === null && signalCode === null ? 'still running' : `exited (code ${exitCode}, signal ${signalCode})`;
      throw new Error(`${method} ${path} failed; the host is ${state}. Its output ends:\n${this.host.output().slice(-4000)}`, {
        cause: error,
      });
    });
    const text = await res.text();
    const contentType = res.headers.get('content-type') ?? '';
    let body: unknown = text;
    if (/json/.test(contentType)) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: res.status, contentType, headers: res.headers, text, body };
  }

  get(path: string, params: Record<string, string> = {}, options: CallOptions = {}): Promise<Answer> {
    return this.request('GET', path, params, options);
  }

  post(path: string, body: string, options: CallOptions = {}): Promise<Answer> {
    return this.request('POST', path, {}, { ...options, body });
  }

  /** Event Grid delivery to the capture function, as the webhook receives it. */
  async eventGrid(events: unknown[]): Promise<void> {
    const res = await fetch(`${this.host.url}/runtime/webhooks/eventgrid?functionName=captureEventGrid&code=${EVENTGRID_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
      body: JSON.stringify(events),
    });
    if (res.status !== 202) throw new Error(`Event Grid delivery answered ${res.status}: ${await res.text()}`);
  }

  /** One Event Hubs message of Azure Monitor records, through the admin endpoint. */
  async eventHub(records: unknown[]): Promise<void> {
    const res = await fetch(`${this.host.url}/admin/functions/captureEventHub`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': ADMIN_KEY },
      body: JSON.stringify({ input: { records } }),
    });
    if (res.status !== 202) throw new Error(`Event Hubs delivery answered ${res.status}: ${await res.text()}`);
  }

  async standInControl(route: string, body: unknown): Promise<void> {
    const res = await fetch(`${this.standIn}/_standin/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`stand-in ${route} answered ${res.status}: ${await res.text()}`);
  }

  stop(): Promise<number | null> {
    return this.host.stop();
  }
}

/** A workspace of another team, in another subscription. */
export const OTHER_WS = WS.replace(/^\/subscriptions\/[^/]+/i, '/subscriptions/99999999-8888-7777-6666-555555555555').replace(
  /workspaces\/[^/]+$/i,
  'workspaces/other-ws',
);

/**
 * A local host with keys switched on (LOCAL_FUNCTION_KEY / LOCAL_ADMIN_KEY / LOCAL_EVENTGRID_KEY), standing in
 * for an app behind App Service authentication (WEBSITE_AUTH_ENABLED, which App Service sets, so
 * the principals above are trusted), with the role suffixes they use mapped to workspaces
 * (ROLE_WORKSPACES), and key-only callers allowed the auditor routes (KEY_ONLY_ROLE).
 */
export async function startApi(env: Record<string, string> = {}): Promise<Api> {
  return new Api(
    await spawnHost({
      LOCAL_FUNCTION_KEY: FUNCTION_KEY,
      LOCAL_ADMIN_KEY: ADMIN_KEY,
      LOCAL_EVENTGRID_KEY: EVENTGRID_KEY,
      WEBSITE_AUTH_ENABLED: 'True',
      KEY_ONLY_ROLE: 'auditor',
      ROLE_WORKSPACES: `ws-credit=${WS},other-ws=${OTHER_WS}`,
      ...env,
    }),
  );
}

/** The Activity Log's record of an endpoint write, which makes enrichment read its deployments. */
export function endpointWrite(time: string) {
  return {
    time,
    resourceId: ENDPOINT.toUpperCase(),
    operationName: 'MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/ONLINEENDPOINTS/WRITE',
    category: 'Administrative',
    resultType: 'Success',
    properties: {},
  };
}

/** A traffic-log record of one scoring request. */
export function scoringRequest(id: string, deployment: 'blue' | 'green', time: string) {
  return {
    time,
    resourceId: ENDPOINT.toUpperCase(),
    category: 'AmlOnlineEndpointTrafficLog',
    properties: {
      XRequestId: id,
      EndpointName: 'credit-scoring',
      DeploymentName: deployment,
      Method: 'POST',
      Path: '/score',
      ResponseCode: 200,
      ModelStatusCode: 200,
      TotalDurationMs: 38,
    },
  };
}

/** The shared poll, with the longer bound these tests' settling waits need. */
export function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 45_000): Promise<T> {
  return untilWithin(what, read, ok, timeoutMs);
}

const labelsOf = (a: Answer): string[] => {
  const nodes = (a.body as { nodes?: Array<{ label: string }> } | undefined)?.nodes ?? [];
  return nodes.map((n) => n.label);
};

const ranWithMetrics = (a: Answer, job: string): boolean => {
  const nodes = (a.body as { nodes?: Array<{ label: string; properties: Record<string, unknown> }> } | undefined)?.nodes ?? [];
  return nodes.some((n) => n.label === job && n.properties.metrics !== undefined);
};

/**
 * Delivers the quick start's history (`npm run sample`): six Event Grid events, the Activity Log
 * record of the endpoint write and one scoring request, then waits until enrichment from the REST
 * stand-in has filled in both model versions' lineage and the answers stop changing.
 */
export async function seedSample(api: Api): Promise<void> {
  await api.eventGrid(sampleEvents);
  await api.eventHub([endpointWrite('2024-05-02T07:15:01Z'), scoringRequest(SAMPLE_REQUEST, 'blue', '2024-05-20T10:00:00Z')]);
  const want3 = [
    'credit-applications:3',
    'credit-bureau-features:2',
    'credit-prep-20240501',
    'credit-src:7',
    'lightgbm-env:5',
    'cpu-cluster',
    'github.com/contoso/credit-models@9c1e4f7a2b3d',
    'credit-scoring/green',
  ];
  const want2 = ['credit-applications:2', 'credit-train-20240415', 'credit-src:6', 'credit-scoring/blue'];
  const read = async () => {
    const [v3, v2, asOf] = await Promise.all([
      api.get('/api/lineage', { ref: S.models.v3, direction: 'both', depth: '10' }),
      api.get('/api/lineage', { ref: S.models.v2, direction: 'both', depth: '10' }),
      api.get('/api/lineage/as-of', { endpoint: ENDPOINT, at: '2024-05-20T00:00:00Z' }),
    ]);
    return { v3, v2, asOf, fingerprint: `${v3.text}\n${v2.text}\n${asOf.text}` };
  };
  let previous = '';
  await until(
    'the sample workspace to be enriched and settled',
    async () => {
      const now = await read();
      const stable = now.fingerprint === previous;
      previous = now.fingerprint;
      return { ...now, stable };
    },
    (r) =>
      r.stable &&
      want3.every((l) => labelsOf(r.v3).includes(l)) &&
      want2.every((l) => labelsOf(r.v2).includes(l)) &&
      r.asOf.text.includes('credit-train-20240415') &&
      // Both training runs' MLflow metrics have arrived (fetched in the jobs' queue messages).
      ranWithMetrics(r.v3, 'credit-train-20240501') &&
      ranWithMetrics(r.v2, 'credit-train-20240415'),
    // The MLflow runs come a queue hop after the events, with their jobs; a loaded machine needs the longer bound.
    90_000,
  );
}

/** Nothing internal leaves the app: no stack frames, file paths or module names. */
/**
 * Plays the sample's rollout of credit-default:3 (SAMPLE_ROLLOUT) after seedSample: each traffic
 * step set on the stand-in and observed through an endpoint write before the next, then a drift
 * compliance run, which attributes the monitor breach to green and credit-default:3. Not part of
 * seedSample: it runs a compliance check, and some suites start from no report at all.
 */
export async function playSampleRollout(api: Api): Promise<void> {
  for (const step of SAMPLE_ROLLOUT) {
    await api.standInControl('setTraffic', { endpoint: 'credit-scoring', traffic: step.traffic, at: step.at });
    await api.eventHub([endpointWrite(new Date(Date.parse(step.at) + 1000).toISOString())]);
    await until(
      `the traffic step of ${step.at} in the timeline`,
      () => api.get('/api/endpoints/timeline', { endpoint: ENDPOINT }),
      (a) =>
        a.status === 200 &&
        timelineAnswerSchema
          .parse(a.body)
          .changes.some(
            (c) =>
              c.kind === 'traffic' &&
              c.deployment === 'credit-scoring/green' &&
              Date.parse(c.at) === Date.parse(step.at) &&
              c.to === step.traffic.green,
          ),
    );
  }
  const run = await api.request('POST', '/api/compliance/run', { wait: '200' }, { ...ADMIN, body: JSON.stringify({ checks: ['drift'] }) });
  if (run.status !== 200) throw new Error(`the drift check answered ${run.status}: ${run.text}`);
}

export function expectNoInternals(text: string): void {
  expect(text).not.toMatch(/\n\s*at\s|node_modules|\/work\/|file:\/\/|\.(?:ts|js|mjs|cjs):\d+/);
  expect(text).not.toMatch(/"stack"\s*:/);
}

/** An RFC 9457 problem with the given status and code, and nothing internal in it. */
export function expectProblem(res: Answer, status: number, code: ProblemCode): z.infer<typeof problemSchema> {
  expect(res.status, res.text).toBe(status);
  expect(res.contentType).toMatch(/^application\/problem\+json/);
  const p = problemSchema.parse(res.body);
  expect(p).toMatchObject({ type: `/problems/${code}`, title: PROBLEM_CODES[code].title, status, code });
  expect(p.detail.trim().length).toBeGreaterThan(0);
  expectNoInternals(res.text);
  return p;
}

const parameterErrors = z.array(z.object({ parameter: z.string(), message: z.string() }));

/** 400 invalid-request naming the parameter, in `errors[].parameter` or leading the detail. */
export function expectInvalidParameter(res: Answer, parameter: string): z.infer<typeof problemSchema> {
  const p = expectProblem(res, 400, 'invalid-request');
  const errors = p.errors === undefined ? [] : parameterErrors.parse(p.errors);
  const named =
    errors.some((e) => e.parameter === parameter || e.parameter.startsWith(`${parameter}.`)) || p.detail.startsWith(`${parameter}:`);
  expect(named, `the problem should name "${parameter}": ${res.text}`).toBe(true);
  return p;
}

/** A 200 JSON answer, parsed with the route's answer schema. */
export function expectOk<T extends z.ZodType>(res: Answer, schema: T): z.infer<T> {
  expect(res.status, res.text).toBe(200);
  expect(res.contentType).toMatch(/^application\/json/);
  return schema.parse(res.body);
}

/** Labels of nodes, sorted, for readable comparisons. */
export const labels = (nodes: Array<{ label: string }>): string[] => nodes.map((n) => n.label).sort();

/** True when any node of the answer belongs to the sample workspace. */
export function mentionsSampleWorkspace(value: unknown): boolean {
  return JSON.stringify(value).toLowerCase().includes('/workspaces/ws-credit');
}

/**
 * One local host per test file with the sample workspace delivered: registers the file's
 * beforeAll/afterAll and hands the started host to `use`.
 */
export function withSampleApi(use: (api: Api) => void, env: Record<string, string> = {}): void {
  let started: Api | undefined;
  beforeAll(async () => {
    started = await startApi(env);
    await seedSample(started);
    use(started);
  });
  afterAll(async () => {
    await started?.stop();
  });
}
