import type { PredictionRequest } from '../predictionRequest.js';
import { compact, field, numberOf, text } from './fields.js';
import { invalid, isResult, projected, recordWorkspace, type CategoryHandler } from './result.js';

/** Status codes are `int` columns but the docs' queries compare them as strings ("200"). */
function statusCode(v: unknown): string | number | undefined {
  const n = numberOf(v);
  if (n !== undefined && Number.isInteger(n)) return n;
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** The path only: a query string may carry keys or tokens. */
function pathOnly(path: string | undefined): string | undefined {
  return path?.split(/[?#]/)[0] || undefined;
}

/**
 * One scoring request (AmlOnlineEndpointTrafficLog) becomes a PredictionRequest for the request
 * lookup, and nothing in the graph: at one record per request, writing even the `serves` edge
 * would cost Cosmos writes per prediction for a link that the deployment's own ARM write and its
 * enrichment already assert. Caller identity (IdentityData), UserAgent and addresses are dropped.
 */
export const trafficLog: CategoryHandler = (r, category) => {
  const at = recordWorkspace(r);
  if (isResult(at)) return at;
  const requestId = text(r, 'XRequestId');
  if (!requestId) return invalid('properties.XRequestId', 'required: the request id that traces a prediction to its deployment');
  // The diagnostic setting sits on the endpoint, so resourceId usually ends in /ONLINEENDPOINTS/{name}.
  const fromId = at.rest[0]?.toLowerCase() === 'onlineendpoints' ? at.rest[1] : undefined;
  const endpoint = text(r, 'EndpointName') ?? fromId;
  if (!endpoint) return invalid('properties.EndpointName', 'required (or a resourceId ending in /onlineEndpoints/{name})');
  if (fromId && endpoint.toLowerCase() !== fromId.toLowerCase()) {
    return invalid('properties.EndpointName', `names endpoint ${endpoint} but resourceId is endpoint ${fromId}`);
  }
  const deployment = text(r, 'DeploymentName');
  if (!deployment) return invalid('properties.DeploymentName', 'required: the deployment that served the request');

  const endpointArmId = `${at.ws.key}/onlineEndpoints/${endpoint}`;
  const predictionRequest: PredictionRequest = compact({
    requestId,
    clientRequestId: text(r, 'XMSClientRequestId'),
    time: r.time,
    workspace: at.ws.key,
    endpointArmId,
    deploymentArmId: `${endpointArmId}/deployments/${deployment}`,
    method: text(r, 'Method'),
    path: pathOnly(text(r, 'Path')),
    responseCode: statusCode(field(r, 'ResponseCode')),
    modelStatusCode: statusCode(field(r, 'ModelStatusCode')),
    totalDurationMs: numberOf(field(r, 'TotalDurationMs')),
    authType: text(r, 'AuthType'),
  });
  return projected(category, r, at.ws.key, { predictionRequest });
};
