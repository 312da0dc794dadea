import { WS } from './fixtures.js';

/**
 * Azure ML resource-log records as diagnostic settings stream them: the common envelope from
 * schema-ResourceLogCommon.md with the documented columns of each category in `properties`
 * (no Azure ML record has been published in its Event Hubs form; see test/fixtures/README.md).
 */
const RESOURCE = WS.toUpperCase(); // records carry upper-cased resource ids

export function runStatusRecord(runId: string, status: string, time: string, parentRunId?: string): Record<string, unknown> {
  return {
    time,
    resourceId: RESOURCE,
    category: 'AmlRunStatusChangedEvent',
    operationName: 'Microsoft.MachineLearningServices/workspaces/runs/statuschanged',
    level: 'Informational',
    properties: { RunId: runId, Status: status, ...(parentRunId ? { ParentRunId: parentRunId } : {}), WorkspaceName: 'ws-prod' },
  };
}

export function trafficRecord(requestId: string, endpoint: string, deployment: string, time: string): Record<string, unknown> {
  return {
    time,
    resourceId: `${RESOURCE}/ONLINEENDPOINTS/${endpoint.toUpperCase()}`,
    category: 'AmlOnlineEndpointTrafficLog',
    operationName: 'Microsoft.MachineLearningServices/onlineEndpoints/score',
    properties: {
      XRequestId: requestId,
      XMSClientRequestId: `client-${requestId}`,
      EndpointName: endpoint,
      DeploymentName: deployment,
      Method: 'POST',
      Path: '/score',
      ResponseCode: 200,
      ModelStatusCode: 200,
      TotalDurationMs: 42,
      AuthType: 'Key',
      IdentityData: 'secret-oid',
      UserAgent: 'python-requests/2.31',
    },
  };
}

export function activityWrite(resourceArmId: string, time: string, operation: string): Record<string, unknown> {
  return {
    time,
    resourceId: resourceArmId.toUpperCase(),
    operationName: operation.toUpperCase(),
    category: 'Administrative',
    resultType: 'Success',
    resultSignature: 'Succeeded.OK',
    durationMs: '0',
    callerIpAddress: '203.0.113.7',
    correlationId: '8f2b2c1e-0000-4000-8000-000000000001',
    identity: { claims: { name: 'someone@contoso.com' } },
    level: 'Information',
    properties: {},
  };
}
