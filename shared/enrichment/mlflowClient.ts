import type { ArmClient, ArmResponse } from './armClient.js';

/**
 * The workspace's MLflow tracking server, read through the MLflow REST API 2.0 (mlflow.org/docs/latest/rest-api.html).
 * An Azure ML workspace is one: its tracking URI (`azureml://REGION.api.azureml.ms/mlflow/v1.0/subscriptions/…/workspaces/WS`,
 * the workspace's `mlFlowTrackingUri`, also each job's `services.Tracking.endpoint`) becomes the REST base by swapping
 * `azureml` for `https`, and the API sits under `/api/2.0/mlflow` (Azure/azureml-examples, "Using MLflow REST with Azure
 * ML"). The token is for the management audience (`https://management.azure.com`), as in that example. Requests go
 * through the ArmClient's slots, retries and throttling: one budget for everything the enrichment asks Azure.
 */
export interface MlflowClientOptions {
  /** Replaces the tracking URI's scheme and host (a loopback stand-in locally); unset in Azure. */
  endpoint?: string;
  /** Token audience for the tracking server. */
  scope?: string;
}

export const MLFLOW_API = '/api/2.0/mlflow';
/** metrics/get-history answers at most this many values a page (the documented maximum of max_results). */
const HISTORY_PAGE = 25_000;

export class MlflowClient {
  constructor(
    private readonly transport: ArmClient,
    private readonly options: MlflowClientOptions = {},
  ) {}

  /** The REST base of a tracking URI, e.g. `https://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/…/workspaces/ws`. */
  baseUrl(trackingUri: string): string {
    const text = trackingUri.trim().replace(/\?.*$/, '').replace(/\/+$/, '');
    const url = new URL(text.replace(/^azureml:\/\//i, 'https://'));
    const origin = this.options.endpoint ? new URL(this.options.endpoint).origin : url.origin;
    return `${origin}${url.pathname}`;
  }

  /** GET runs/get: the run's info, latest metrics, params, tags and dataset inputs. 404 when no such run. */
  getRun(trackingUri: string, runId: string): Promise<ArmResponse> {
    return this.get(`${this.baseUrl(trackingUri)}${MLFLOW_API}/runs/get?run_id=${encodeURIComponent(runId)}`);
  }

  /** Every page of metrics/get-history for one metric of one run, as answered. */
  async getMetricHistory(trackingUri: string, runId: string, metricKey: string): Promise<ArmResponse[]> {
    const pages: ArmResponse[] = [];
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ run_id: runId, metric_key: metricKey, max_results: String(HISTORY_PAGE) });
      if (token) query.set('page_token', token);
      const page = await this.get(`${this.baseUrl(trackingUri)}${MLFLOW_API}/metrics/get-history?${query.toString()}`);
      pages.push(page);
      const next = (page.body as { next_page_token?: unknown } | undefined)?.next_page_token;
      token = page.status === 200 && typeof next === 'string' && next.length > 0 ? next : undefined;
    } while (token && pages.length < 1000);
    return pages;
  }

  private get(url: string): Promise<ArmResponse> {
    return this.transport.getUrl(url, this.options.scope);
  }
}

/** The request path and query of an MLflow call, host left out: the same evidence whichever regional host answered. */
export function mlflowRequest(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}
