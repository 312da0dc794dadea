import { beforeEach, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/composition.js';
import { nodeId, parseArmId } from '../../shared/graph/keys.js';
import { captureMonitorMessage } from '../../shared/usecases/captureMonitorMessage.js';
import { predictionRequest } from '../../shared/usecases/predictionRequest.js';
import { fixture, WS } from '../helpers/fixtures.js';
import { activityWrite, runStatusRecord, trafficRecord } from '../helpers/monitorRecords.js';
import { freshServices } from '../helpers/stores.js';

let services: Services;
beforeEach(async () => {
  services = await freshServices();
});

const jobId = (name: string) => {
  const r = parseArmId(`${WS}/jobs/${name}`)!;
  return nodeId(r.kind, r.key);
};

async function queued(): Promise<Array<{ kind: string; armId: string }>> {
  const peek = await services.enrichmentQueue.client.peekMessages({ numberOfMessages: 32 });
  return peek.peekedMessageItems.map(
    (m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as { kind: string; armId: string },
  );
}

describe('capturing Azure Monitor messages from Event Hubs', () => {
  it('captures each record with its delivery in provenance, isolating a bad record and counting unknown categories', async () => {
    const keyVault = fixture<Array<{ records: unknown[] }>>('azure-monitor/resourcelog-eventhubs-AuditEvent-KeyVault.json')[0]?.records[0];
    const message = {
      records: [
        runStatusRecord('train-7', 'Running', '2024-05-01T08:00:00.0000000Z'),
        { category: 'AmlRunStatusChangedEvent', properties: { RunId: 'no-time' } },
        runStatusRecord('train-7', 'Completed', '2024-05-01T09:00:00.0000000Z', 'pipeline-7'),
        keyVault,
      ],
    };
    const report = await captureMonitorMessage(services.capture, message, {
      partitionId: '3',
      sequenceNumber: 1200,
      offset: '4096',
      enqueuedTime: '2024-05-01T09:00:01Z',
    });
    expect(report).toMatchObject({ records: 4, projected: 2, deadLettered: 1, ignored: 1, failed: 0 });
    expect(Object.keys(report.ignoredByCategory)).toEqual(['AuditEvent']);

    const job = await services.graph.readNode(jobId('train-7'));
    expect(job?.facts.status?.value).toBe('Completed');
    expect(job?.series.status?.map((s) => s.value)).toEqual(['Running', 'Completed']);
    expect(job?.provenance[0]).toMatchObject({
      source: 'eventhubs',
      eventType: 'AmlRunStatusChangedEvent',
      delivery: { partitionId: '3', sequenceNumber: 1200, offset: '4096', enqueuedTime: '2024-05-01T09:00:01Z', recordIndex: 0 },
    });
    const parents = await services.graph.edgesOf([jobId('train-7')], 'in');
    expect(parents.map((e) => e.kind)).toEqual(['parentOf']);
    // A terminal status asks the REST API for the job's links.
    expect(await queued()).toEqual([expect.objectContaining({ kind: 'job', armId: expect.stringMatching(/\/jobs\/train-7$/) })]);
    expect(await services.deadLetters.countPending()).toBe(1);
  });

  it('dead-letters a message that is not an Azure Monitor envelope, and loses nothing', async () => {
    const report = await captureMonitorMessage(services.capture, 'this is not json', { partitionId: '0' });
    expect(report).toMatchObject({ records: 0, deadLettered: 1, failed: 0 });
    const letters = [];
    for await (const l of services.deadLetters.pending()) letters.push(l.letter);
    expect(letters[0]).toMatchObject({
      channel: 'eventhubs',
      body: 'this is not json',
      reason: expect.stringContaining('not an Azure Monitor message'),
    });
  });

  it('records traced requests without caller identity, and Activity Log writes ask for enrichment', async () => {
    const message = {
      records: [
        trafficRecord('req-1', 'credit-scoring', 'blue', '2024-05-02T10:00:00Z'),
        activityWrite(
          `${WS}/onlineEndpoints/credit-scoring`,
          '2024-05-02T09:00:00Z',
          'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write',
        ),
      ],
    };
    const report = await captureMonitorMessage(services.capture, message, { partitionId: '1' });
    expect(report).toMatchObject({ projected: 2, failed: 0 });
    const answer = await predictionRequest(services.graph, services.predictionRequests, 'req-1', 3, 100);
    expect(answer).toMatchObject({ requestId: 'req-1', clientRequestId: 'client-req-1', responseCode: 200, model: null });
    expect(JSON.stringify(await services.predictionRequests.get('req-1'))).not.toMatch(/secret-oid|python-requests|203\.0\.113/);
    // Not in the raw event log either: identities are replaced before anything is written.
    const raw = [];
    for await (const r of services.eventLog.scan()) raw.push(JSON.stringify(r));
    expect(raw.join('\n')).not.toMatch(/secret-oid|python-requests|203\.0\.113|someone@contoso/);
    expect((await queued()).map((q) => q.kind)).toEqual(['endpoint']);
    await expect(predictionRequest(services.graph, services.predictionRequests, 'nope', 3, 100)).rejects.toMatchObject({
      code: 'not-found',
    });
  });
});
