import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ArmResource } from './arm.js';
import { sendFault, serveArm } from './armRoutes.js';
import { serveControl, type RecordedRequest } from './control.js';
import { FaultControl, type ActiveFault } from './faults.js';
import { sendError } from './http.js';
import { isMlflowPath, SampleRuns, serveMlflow, type SampleRun } from './mlflow.js';
import { createSampleWorkspace, type SampleWorkspace } from './sampleWorkspace.js';
import { SampleWorkspaceState, type DeploymentSpec, type ModelVersionSpec } from './state.js';

/**
 * A local stand-in for the Azure ML management REST API (https://management.azure.com, Azure ML
 * GETs at api-version 2025-12-01) and the workspace's MLflow tracking server (mlflow.ts). Point
 * AZUREML_MANAGEMENT_ENDPOINT and AZUREML_MLFLOW_ENDPOINT at `url`; nothing in the app knows it is
 * not Azure. Plain HTTP on 127.0.0.1 only, no authentication checked (a bearer token,
 * if sent, is ignored).
 */
export interface AzureMlStandInOptions {
  /** 0 or unset: any free port. */
  port?: number;
  /** When `port` is taken, listen on a free one instead of failing (the local host's default port). */
  anyPortIfTaken?: boolean;
  /** Resources to serve; a fresh copy of the sample workspace by default. */
  workspace?: SampleWorkspace;
  /** Items per list page; 2 by default so clients' paging is exercised. `$top` overrides per request. */
  pageSize?: number;
  /** api-version to write into nextLink (the spec's example nextLink carries a different one); the request's by default. */
  nextLinkApiVersion?: string;
}

export interface AzureMlStandIn {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Every ARM request (faulted ones included), in arrival order; the array is live. */
  requests: RecordedRequest[];
  faults: FaultControl;
  workspace: SampleWorkspaceState;
  /** Forgets recorded requests. */
  clearRequests(): void;
  /** Sample resources back, faults and requests cleared. */
  reset(): void;
  setTraffic(endpoint: string, traffic: Record<string, number>, at?: string): ArmResource;
  upsertDeployment(endpoint: string, name: string, spec: DeploymentSpec, at?: string): ArmResource;
  deleteResource(armIdPath: string): boolean;
  addModelVersion(name: string, version: string, spec: ModelVersionSpec, at?: string): ArmResource;
  addJob(name: string, properties: Record<string, unknown> & { jobType: string }, at?: string): ArmResource;
  /** The MLflow runs served (the sample's until a test adds or replaces one). */
  runs: SampleRuns;
  addRun(run: SampleRun): void;
  /** `url` + id + `?api-version=`, for tests. */
  armUrl(idOrPath: string, apiVersion?: string): string;
}

/** Starting value of `x-ms-ratelimit-remaining-subscription-reads`, as in recorded responses ("11999"). */
const READS_PER_WINDOW = 12_000;

export async function startAzureMlStandIn(options: AzureMlStandInOptions = {}): Promise<AzureMlStandIn> {
  const state = new SampleWorkspaceState(options.workspace ?? createSampleWorkspace());
  const runs = new SampleRuns();
  const faults = new FaultControl();
  const requests: RecordedRequest[] = [];
  const pageSize = options.pageSize ?? 2;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new Error(`pageSize must be a positive integer, got ${pageSize}`);
  let reads = 0;
  let baseUrl = '';
  const sleeps = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();

  /** Resolves false when the stand-in stops first, so a delayed answer is never written after stop(). */
  const sleep = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          sleeps.delete(entry);
          resolve(true);
        }, ms),
        wake: () => resolve(false),
      };
      sleeps.add(entry);
    });

  const describe = (f: ActiveFault) =>
    [f.delayMs !== undefined ? `delay ${f.delayMs}ms` : '', f.status !== undefined ? String(f.status) : ''].filter(Boolean).join(' + ');

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', baseUrl);
    if (/^\/_standin(\/|$)/i.test(url.pathname)) return serveControl({ state, faults, requests, reset }, req, url, res);

    const record: RecordedRequest = { method, path: url.pathname, query: url.search, status: 0, at: new Date().toISOString() };
    requests.push(record);
    // A client that gave up (timed out during an injected delay) closes before the answer is written.
    res.on('close', () => {
      if (!res.writableFinished) record.abandoned = true;
    });
    reads += 1;
    const remainingReads = Math.max(0, READS_PER_WINDOW - reads);

    const fault = faults.take(method, url.pathname);
    if (fault) record.fault = describe(fault);
    if (fault?.delayMs !== undefined && !(await sleep(fault.delayMs))) return;
    if (fault?.status !== undefined) sendFault(res, fault.status, fault.retryAfterSeconds, url, remainingReads);
    else if (isMlflowPath(url.pathname)) serveMlflow(runs, state.workspaceId, method, url, res);
    else
      serveArm(
        { state, baseUrl, pageSize, nextLinkApiVersion: options.nextLinkApiVersion, remainingReads: () => remainingReads },
        method,
        url,
        res,
      );
    record.status = res.statusCode;
  }

  function reset(): void {
    state.reset();
    runs.reset();
    faults.clear();
    requests.length = 0;
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendError(res, 500, 'StandInError', err instanceof Error ? err.message : String(err)));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(options.port ?? 0).catch((error: unknown) => {
    if (!options.anyPortIfTaken || (error as { code?: string }).code !== 'EADDRINUSE') throw error;
    return listen(0);
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: baseUrl,
    port,
    requests,
    faults,
    workspace: state,
    clearRequests: () => void (requests.length = 0),
    reset,
    setTraffic: (endpoint, traffic, at) => state.setTraffic(endpoint, traffic, at),
    upsertDeployment: (endpoint, name, spec, at) => state.upsertDeployment(endpoint, name, spec, at),
    deleteResource: (id) => state.deleteResource(id),
    addModelVersion: (name, version, spec, at) => state.addModelVersion(name, version, spec, at),
    addJob: (name, properties, at) => state.addJob(name, properties, at),
    runs,
    addRun: (run) => runs.put(run),
    armUrl: (idOrPath, apiVersion = '2025-12-01') =>
      `${baseUrl}${idOrPath.startsWith('/') ? '' : '/'}${idOrPath}?api-version=${encodeURIComponent(apiVersion)}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sleeps) {
          clearTimeout(s.timer);
          s.wake();
        }
        sleeps.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
