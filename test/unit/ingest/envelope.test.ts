import { describe, expect, it } from 'vitest';
import { detectSchema, parseEnvelope } from '../../../shared/ingest/eventGrid/envelope.js';
import { firstEvent, fixture } from '../../helpers/fixtures.js';

describe('event envelopes', () => {
  it('reads the Event Grid schema', () => {
    const parsed = parseEnvelope(firstEvent('azureml-eventgrid/eventgrid-ModelRegistered.json'));
    expect(parsed).toMatchObject({
      ok: true,
      envelope: {
        schema: 'eventgrid',
        type: 'Microsoft.MachineLearningServices.ModelRegistered',
        time: '2017-06-26T18:41:00.9584103Z',
        subject: 'models/sklearn_regression_model:20',
      },
    });
  });

  it('reads CloudEvents, including Event Grid examples that omit specversion and time', () => {
    expect(parseEnvelope(firstEvent('azureml-eventgrid/cloudevents-ModelRegistered.json'))).toMatchObject({
      ok: true,
      envelope: { schema: 'cloudevents' },
    });
    const generic = parseEnvelope(fixture('azureml-eventgrid/cloudevents-Delivered-generic.json'));
    expect(generic).toMatchObject({ ok: true, envelope: { schema: 'cloudevents', type: 'fooEventType', time: undefined } });
  });

  it('accepts Event Grid dead-letter records (extra delivery fields are kept, not refused)', () => {
    expect(parseEnvelope(fixture('azureml-eventgrid/eventgrid-DeadLetter-EventGridSchema.json')).ok).toBe(true);
    expect(parseEnvelope(fixture('azureml-eventgrid/cloudevents-DeadLetter.json')).ok).toBe(true);
  });

  it('accepts event times with 7 fractional digits or an offset', () => {
    for (const time of ['2017-06-26T18:41:00.9584103Z', '2022-09-07T21:23:59.5337218+00:00', '2021-01-01T00:00:00.467191+00:00']) {
      const raw = firstEvent('azureml-eventgrid/eventgrid-ModelRegistered.json');
      raw.eventTime = time;
      expect(parseEnvelope(raw).ok, time).toBe(true);
    }
  });

  it('names each missing or malformed field', () => {
    const raw = firstEvent('azureml-eventgrid/eventgrid-ModelRegistered.json');
    delete raw.id;
    raw.eventTime = 'yesterday';
    const parsed = parseEnvelope(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.issues.map((i) => i.path).sort()).toEqual(['eventTime', 'id']);
      expect(parsed.issues.find((i) => i.path === 'eventTime')?.message).toContain('ISO 8601');
    }
  });

  it('refuses what is neither schema', () => {
    expect(detectSchema([1, 2])).toBeUndefined();
    expect(parseEnvelope({ hello: 'world' })).toMatchObject({ ok: false, issues: [{ path: '(root)' }] });
  });
});
