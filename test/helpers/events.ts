import { firstEvent, fixture, WS } from './fixtures.js';

/**
 * Events for a concrete workspace, made from the documented fixtures by changing identifiers and
 * times in memory (the fixture files themselves are never touched).
 */
type Raw = Record<string, unknown>;

function base(type: string, schema: 'eventgrid' | 'cloudevents' = 'eventgrid'): Raw {
  const event = firstEvent(`azureml-eventgrid/${schema}-${type}.json`);
  if (schema === 'eventgrid') event.topic = WS;
  else event.source = WS;
  return event;
}

function setTime(event: Raw, time: string): Raw {
  if ('eventTime' in event) event.eventTime = time;
  else event.time = time;
  return event;
}

export function modelRegistered(
  name: string,
  version: string | number,
  opts: { id?: string; time?: string; tags?: Record<string, string>; schema?: 'eventgrid' | 'cloudevents' } = {},
): Raw {
  const e = base('ModelRegistered', opts.schema);
  e.id = opts.id ?? `reg-${name}-${version}`;
  e.subject = `models/${name}:${version}`;
  e.data = { ModelName: name, ModelVersion: version, ModelTags: opts.tags ?? { team: 'risk' }, ModelProperties: {} };
  return setTime(e, opts.time ?? '2024-03-01T10:00:00.0000000Z');
}

export function modelDeployed(service: string, modelIds: string, opts: { id?: string; time?: string } = {}): Raw {
  const e = base('ModelDeployed');
  e.id = opts.id ?? `dep-${service}-${modelIds}`;
  e.subject = `endpoints/${service}`;
  (e.data as Raw).ServiceName = service;
  (e.data as Raw).ModelIds = modelIds;
  return setTime(e, opts.time ?? '2024-03-01T11:00:00.0000000Z');
}

export function runEvent(
  type: 'RunCompleted' | 'RunStatusChanged',
  runId: string,
  opts: { id?: string; time?: string; status?: string; git?: boolean } = {},
): Raw {
  const e = base(type);
  e.id = opts.id ?? `${type}-${runId}-${opts.status ?? ''}`;
  e.subject = `experiments/0fa9dfaa-cba3-4fa7-b590-23e48548f5c1/runs/${runId}`;
  const data = e.data as Raw;
  data.runId = runId;
  if (type === 'RunStatusChanged') data.runStatus = opts.status ?? 'Running';
  if (opts.git) {
    const git = fixture<{ properties: Record<string, string> }>('azureml-eventgrid/runproperties-git.json').properties;
    data.runProperties = { ...(data.runProperties as Raw), ...git };
  }
  return setTime(e, opts.time ?? '2024-03-01T09:00:00.0000000Z');
}

export function driftDetected(monitorId: string, runId: string, opts: { id?: string; time?: string } = {}): Raw {
  const e = base('DatasetDriftDetected');
  e.id = opts.id ?? `drift-${runId}`;
  e.subject = `datadrift/${monitorId}/run/${runId}`;
  (e.data as Raw).DataDriftId = monitorId;
  (e.data as Raw).RunId = runId;
  return setTime(e, opts.time ?? '2024-03-02T00:00:00.0000000Z');
}
