import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MAX_PATHS,
  MORE_PATHS,
  emptySchemaDriftState,
  schemaDriftSection,
  updateSchemaDriftState,
} from '../../shared/compliance/schemaDriftCheck.js';
import { unexpectedFields } from '../../shared/ingest/expectedFields.js';
import type { StoredDoc } from '../../shared/store/reads.js';
import { contentHash } from '../../shared/util/canonicalJson.js';
import { ROOT } from '../helpers/localHost.js';

const WS =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws';

function modelRegistered(data: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    id: `evt-${JSON.stringify(data).length}-${Object.keys(extra).join()}`,
    topic: WS,
    subject: 'models/churn:3',
    eventType: 'Microsoft.MachineLearningServices.ModelRegistered',
    eventTime: '2024-05-01T10:00:00Z',
    dataVersion: '2',
    metadataVersion: '1',
    data,
    ...extra,
  };
}

/** A raw event document as the events container's change stream returns it. */
function logged(channel: string, body: unknown, extra: Record<string, unknown> = {}): StoredDoc {
  const hash = contentHash(body);
  const id = hash.replace(/^sha256:/, '');
  return { id, pk: id, _ts: 1, _etag: `"${id}"`, hash, channel, receivedAt: '2024-05-01T10:00:01Z', body, ...extra };
}

const REST_KINDS: Record<string, string> = {
  Job: 'job',
  ModelVersion: 'model',
  DataVersionBase: 'data',
  EnvironmentVersion: 'environment',
  CodeVersion: 'code',
  OnlineEndpoint: 'endpoint',
  OnlineDeployment: 'deployment',
  BatchEndpoint: 'endpoint',
  BatchDeployment: 'deployment',
};

describe('unexpectedFields', () => {
  it('finds no unexpected field in the documented Azure ML events and REST examples (test/fixtures)', () => {
    let checked = 0;
    const eventDir = join(ROOT, 'test/fixtures/azureml-eventgrid');
    for (const file of readdirSync(eventDir)) {
      const parsed = JSON.parse(readFileSync(join(eventDir, file), 'utf8')) as unknown;
      const event = Array.isArray(parsed) ? (parsed[0] as unknown) : parsed;
      const found = unexpectedFields('eventgrid', event);
      if (!found) continue;
      checked++;
      expect(found.unexpected, file).toEqual([]);
    }
    const restDir = join(ROOT, 'test/fixtures/azureml-rest');
    for (const file of readdirSync(restDir)) {
      const kind = REST_KINDS[/^aml-(?:Registry-)?([A-Za-z]+)-get/.exec(file)?.[1] ?? ''];
      if (!kind) continue;
      const example = JSON.parse(readFileSync(join(restDir, file), 'utf8')) as { responses: { '200': { body: unknown } } };
      const found = unexpectedFields('rest', {
        kind,
        armId: `${WS}/x/y`,
        apiVersion: '2025-12-01',
        status: 200,
        resource: example.responses['200'].body,
      });
      checked++;
      expect(found?.unexpected, file).toEqual([]);
    }
    expect(checked).toBeGreaterThanOrEqual(19);
  });

  it('names new data fields of an event type by path, matching declared fields ignoring case, never by value', () => {
    const found = unexpectedFields('eventgrid', modelRegistered({ modelname: 'churn', ModelVersion: 3, ModelStage: 'secret-stage-value' }));
    expect(found).toEqual({
      source: 'Microsoft.MachineLearningServices.ModelRegistered',
      sourceKind: 'event-type',
      unexpected: ['data.ModelStage'],
    });
    expect(JSON.stringify(found)).not.toContain('secret-stage-value');
  });

  it('checks the envelope of either schema: a CloudEvents extension attribute is unexpected, datacontenttype is not', () => {
    const cloud = {
      specversion: '1.0',
      id: 'c-1',
      source: WS,
      type: 'Microsoft.MachineLearningServices.ModelRegistered',
      time: '2024-05-01T10:00:00Z',
      datacontenttype: 'application/json',
      traceparent: '00-abc-def-01',
      data: { ModelName: 'churn', ModelVersion: '3' },
    };
    expect(unexpectedFields('eventgrid', cloud)?.unexpected).toEqual(['traceparent']);
    expect(
      unexpectedFields('eventgrid', modelRegistered({ ModelName: 'm', ModelVersion: 1 }, { region: 'westeurope' }))?.unexpected,
    ).toEqual(['region']);
  });

  it('reads Monitor records by category against the common schema, ignoring case and underscores', () => {
    const record = {
      time: '2024-05-01T10:00:00Z',
      resourceId: WS,
      Category: 'AmlRunStatusChangedEvent',
      operation_name: 'x',
      properties: { RunId: 'r1' },
      brandNewColumn: 1,
    };
    expect(unexpectedFields('eventhubs', record)).toEqual({
      source: 'AmlRunStatusChangedEvent',
      sourceKind: 'category',
      unexpected: ['brandNewColumn'],
    });
  });

  it('reads REST resources by kind: envelope and properties, and leaves kinds without a closed list alone', () => {
    const resource = {
      id: `${WS}/onlineEndpoints/e/deployments/blue`,
      name: 'blue',
      properties: { model: 'azureml:m:1', gpuPolicy: 'x' },
      etag: 'W/1',
    };
    expect(
      unexpectedFields('rest', {
        kind: 'deployment',
        armId: `${WS}/onlineEndpoints/e/deployments/blue`,
        apiVersion: 'v',
        status: 200,
        resource,
      }),
    ).toEqual({
      source: 'azureml-rest:deployment',
      sourceKind: 'resource-kind',
      unexpected: ['resource.etag', 'resource.properties.gpuPolicy'],
    });
    expect(
      unexpectedFields('rest', { kind: 'mlflowRun', armId: `${WS}/jobs/j`, apiVersion: '2.0', status: 200, resource: { run: {} } }),
    ).toBeUndefined();
    expect(unexpectedFields('openlineage', { eventType: 'START' })).toBeUndefined();
  });
});

describe('schema drift check', () => {
  it('counts events per source, those with unexpected fields and those dead-lettered, with examples by path', () => {
    const state = emptySchemaDriftState();
    updateSchemaDriftState(state, [
      logged('eventgrid', modelRegistered({ ModelName: 'churn', ModelVersion: 1 })),
      logged('eventgrid', modelRegistered({ ModelName: 'churn', ModelVersion: 2, ModelStage: 'a' })),
      logged('eventgrid', modelRegistered({ ModelName: 'churn', ModelVersion: 3, ModelStage: 'b', Extra: 1 })),
      // ModelName missing: the normalizer refuses it, so capture dead-lettered it.
      logged('eventgrid', { ...modelRegistered({ ModelVersion: 4 }), subject: 'models' }),
      logged('eventhubs', { time: 'not a time', category: 'AmlRunStatusChangedEvent' }),
    ]);
    const section = schemaDriftSection(state);
    expect(section.denominator).toBe(5);
    expect(section.numerator).toBe(1);
    expect(section.ratio).toBe(1 / 5);
    const registered = section.bySource.find((s) => s.source === 'Microsoft.MachineLearningServices.ModelRegistered');
    expect(registered).toMatchObject({
      channel: 'eventgrid',
      sourceKind: 'event-type',
      events: 4,
      clean: 1,
      withUnexpectedFields: 2,
      deadLettered: 1,
    });
    expect(registered?.unexpectedFields).toEqual([
      { path: 'data.ModelStage', events: 2 },
      { path: 'data.Extra', events: 1 },
    ]);
    expect(registered?.deadLetterFields).toEqual([{ path: 'data.ModelName', events: 1 }]);
    // A record that cannot be read at all is still counted, under its channel.
    const unreadable = section.bySource.find((s) => s.channel === 'eventhubs');
    expect(unreadable).toMatchObject({ events: 1, deadLettered: 1, clean: 0, deadLetterFields: [{ path: 'time', events: 1 }] });
    expect(section.items.map((i) => i.channel).sort()).toEqual(['eventgrid', 'eventhubs']);
  });

  it('skips tombstones and events re-written under a legal hold (counted when first logged)', () => {
    const state = emptySchemaDriftState();
    const event = logged('eventgrid', modelRegistered({ ModelName: 'churn', ModelVersion: 1 }));
    updateSchemaDriftState(state, [event]);
    updateSchemaDriftState(state, [
      { ...event, legalHold: 'hold-1' },
      { id: event.id, pk: event.pk, _ts: 2, _etag: 'x', tombstone: true },
    ]);
    expect(schemaDriftSection(state)).toMatchObject({ numerator: 1, denominator: 1, items: [] });
  });

  it(`keeps at most ${MAX_PATHS} distinct paths per source and counts the rest under "${MORE_PATHS}"`, () => {
    const state = emptySchemaDriftState();
    const docs = Array.from({ length: MAX_PATHS + 5 }, (_, i) =>
      logged('eventgrid', modelRegistered({ ModelName: 'm', ModelVersion: i, [`New${i}`]: i })),
    );
    updateSchemaDriftState(state, docs);
    const fields = schemaDriftSection(state).items[0]?.unexpectedFields ?? [];
    expect(fields).toHaveLength(MAX_PATHS + 1);
    expect(fields[0]).toEqual({ path: MORE_PATHS, events: 5 });
  });

  it('has nothing to measure before any event: ratio null', () => {
    expect(schemaDriftSection(emptySchemaDriftState())).toMatchObject({
      numerator: 0,
      denominator: 0,
      ratio: null,
      items: [],
      bySource: [],
    });
  });
});
