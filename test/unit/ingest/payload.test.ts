import { describe, expect, it } from 'vitest';
import { canonicalizeKeys, getIgnoringCase, isTerminalRunStatus, registryOf, workspaceOf } from '../../../shared/ingest/payload.js';
import { WS } from '../../helpers/fixtures.js';

describe('case-insensitive keys', () => {
  it('finds keys whatever their casing, preferring the exact spelling', () => {
    expect(getIgnoringCase({ ModelName: 'a' }, 'modelName')).toBe('a');
    expect(canonicalizeKeys({ modelname: 'x', ModelName: 'y', other: 1 }, ['ModelName'])).toEqual({ ModelName: 'y', other: 1 });
  });
});

describe('run status', () => {
  it('only Completed, Failed and Canceled are final', () => {
    expect(['Completed', 'Failed', 'Canceled'].every(isTerminalRunStatus)).toBe(true);
    for (const status of ['Running', 'CancelRequested', 'completed', undefined, 3])
      expect(isTerminalRunStatus(status), String(status)).toBe(false);
  });
});

describe('ARM ids in payloads', () => {
  it('finds the workspace of an upper-cased resource id and the segments below it', () => {
    expect(workspaceOf(`${WS.toUpperCase()}/ONLINEENDPOINTS/EP`)).toEqual({
      ws: expect.objectContaining({ key: WS.toLowerCase() }),
      rest: ['ONLINEENDPOINTS', 'EP'],
    });
    expect(workspaceOf('/subscriptions/s/resourceGroups/rg')).toBeUndefined();
  });

  it('reads a registry id, leading slash optional', () => {
    const id = 'subscriptions/s/resourceGroups/RG/providers/Microsoft.MachineLearningServices/registries/Shared/';
    expect(registryOf(id)).toEqual({ name: 'Shared', key: `/${id.slice(0, -1)}`.toLowerCase() });
    expect(registryOf(`${WS}/models/m`)).toBeUndefined();
  });
});
