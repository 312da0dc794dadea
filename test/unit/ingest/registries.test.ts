import { describe, expect, it } from 'vitest';
import { parseArmId, parseRegistryUri, registryAsset, registryAssetArmId, versionedAsset } from '../../../shared/graph/keys.js';
import { emptyDelta, type GraphDelta } from '../../../shared/graph/model.js';
import { enrichmentMessageSchema } from '../../../shared/ingest/enrichmentMessage.js';
import { registryDirectory, registryFollowUps } from '../../../shared/ingest/followUps.js';
import { normalizeMonitorRecord } from '../../../shared/ingest/monitor/categories.js';
import type { RestObservation } from '../../../shared/ingest/rest/observation.js';
import { normalizeRestObservation } from '../../../shared/ingest/rest/resourceKinds.js';
import { loadSettings } from '../../../shared/config.js';
import { fixture, WS } from '../../helpers/fixtures.js';

/**
 * Registries: their assets are read by the registry's ARM id (found in the AML_REGISTRIES setting,
 * an Activity Log record or a registry log record), and a version links to what it was copied from
 * and to its base model.
 */
const REGISTRY = '/subscriptions/s1/resourceGroups/rg-shared/providers/Microsoft.MachineLearningServices/registries/Shared-Reg';
const REGISTRY_KEY = REGISTRY.toLowerCase();
const directory = registryDirectory([REGISTRY]);

const body = (file: string) =>
  structuredClone(fixture<{ responses: { '200': { body: Record<string, unknown> } } }>(`azureml-rest/${file}`).responses['200'].body);
const observe = (kind: RestObservation['kind'], armId: string, resource: unknown): RestObservation => ({
  kind,
  armId,
  apiVersion: '2025-12-01',
  status: 200,
  resource,
});
function normalized(o: RestObservation) {
  const r = normalizeRestObservation(o);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r;
}
const edges = (d: GraphDelta) => d.edges.map((e) => `${e.from.key} -${e.kind}-> ${e.to.key}`).sort();
/** The documented registry model version with the given properties merged in. */
const registryModel = (properties: Record<string, unknown>) => {
  const b = body('aml-Registry-ModelVersion-get.json');
  return { ...b, properties: { ...(b.properties as Record<string, unknown>), ...properties } };
};

describe('registry asset ids', () => {
  it('builds the ARM id of a registry asset from its node and the registry id, in the spelling the events used', () => {
    const ref = parseRegistryUri('azureml://registries/shared-reg/models/Credit-Baseline/versions/RC1')!;
    expect(ref.key).toBe('azureml://registries/shared-reg/models/credit-baseline/versions/rc1');
    expect(registryAssetArmId(ref, REGISTRY)).toBe(`${REGISTRY}/models/Credit-Baseline/versions/RC1`);
    // It names the same node again.
    expect(parseArmId(registryAssetArmId(ref, REGISTRY)!)).toEqual({ ...ref, label: 'Credit-Baseline:RC1' });
    // A workspace asset has no registry id.
    expect(registryAssetArmId(versionedAsset(WS, 'models', 'credit', '1'), REGISTRY)).toBeUndefined();
  });

  it('fetches the registry assets a delta names when their registry is listed, and no other', () => {
    const delta = emptyDelta();
    const job = parseArmId(`${WS}/jobs/train-1`)!;
    const model = parseRegistryUri('azureml://registries/shared-reg/models/credit-baseline/versions/1')!;
    const data = parseRegistryUri('azureml://registries/SHARED-REG/data/bureau/versions/2')!;
    const curated = parseRegistryUri('azureml://registries/azureml/environments/lightgbm-3.3/versions/43')!;
    const component = parseRegistryUri('azureml://registries/shared-reg/components/score/versions/2')!;
    delta.edges.push({ kind: 'inputOf', from: model, to: job }, { kind: 'inputOf', from: data, to: job });
    delta.edges.push({ kind: 'environmentOf', from: curated, to: job }, { kind: 'inputOf', from: component, to: job });
    delta.references.push(model);
    const messages = registryFollowUps(delta, directory);
    expect(messages).toEqual([
      { kind: 'model', armId: `${REGISTRY}/models/credit-baseline/versions/1` },
      { kind: 'data', armId: `${REGISTRY}/data/bureau/versions/2` },
      { kind: 'component', armId: `${REGISTRY}/components/score/versions/2` },
    ]);
    for (const m of messages) expect(enrichmentMessageSchema.safeParse(m).success).toBe(true);
    expect(registryFollowUps(delta, registryDirectory([]))).toEqual([]);
  });

  it('does not ask again for the registry asset the delta is about (a version just read)', () => {
    const r = normalized(
      observe(
        'model',
        `${REGISTRY}/models/credit-ft/versions/1`,
        registryModel({ modelUri: 'azureml://registries/shared-reg/models/base/versions/2' }),
      ),
    );
    expect(registryFollowUps(r.delta, directory)).toEqual([{ kind: 'model', armId: `${REGISTRY}/models/base/versions/2` }]);
  });

  it('never asks for a registry asset whose name could steer the request path', () => {
    for (const name of ['..', '%2e%2e', 'a%3Fb']) {
      const delta = emptyDelta();
      delta.references.push(registryAsset('shared-reg', 'models', name, '1')!);
      expect(registryFollowUps(delta, directory), name).toEqual([]);
    }
  });

  it('AML_REGISTRIES is a JSON array of registry ARM ids; anything else is refused with the setting named', () => {
    const base = { COSMOS_ENDPOINT: 'https://cosmos.documents.azure.com', STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' };
    expect(loadSettings(base).AML_REGISTRIES).toEqual([]);
    expect(loadSettings({ ...base, AML_REGISTRIES: JSON.stringify([REGISTRY]) }).AML_REGISTRIES).toEqual([REGISTRY]);
    for (const bad of [
      REGISTRY,
      JSON.stringify([`${WS}`]),
      JSON.stringify([REGISTRY.replace('rg-shared', '..')]),
      JSON.stringify([`${REGISTRY}%2F..`]),
      JSON.stringify([`${REGISTRY}/models/m`]),
    ])
      expect(() => loadSettings({ ...base, AML_REGISTRIES: bad }), bad).toThrow(/AML_REGISTRIES/);
  });
});

describe('registry assets through the REST enrichment', () => {
  it('projects the documented registry model version under the registry id it was requested by', () => {
    const armId = `${REGISTRY}/models/credit-baseline/versions/1`;
    const r = normalized(observe('model', armId, body('aml-Registry-ModelVersion-get.json')));
    expect(r.workspace).toBe(REGISTRY_KEY);
    expect(r.time).toBe('2020-01-01T12:34:56.999Z');
    expect(r.delta.nodes.map((n) => n.ref)).toEqual([registryAsset('Shared-Reg', 'models', 'credit-baseline', '1')]);
    expect(r.delta.nodes[0]?.ref.workspace).toBeNull();
    expect(r.delta.nodes[0]?.facts).toMatchObject({ modelType: 'CustomModel', modelUri: 'string', flavors: { string: { data: {} } } });
    // Its content is a placeholder string: it names no version it was copied from.
    expect(r.delta.edges).toEqual([]);
  });

  it('projects the documented registry data version, its storage URL as its location', () => {
    const armId = `${REGISTRY}/data/bureau/versions/2`;
    const b = body('aml-Registry-DataVersionBase-get-mltable.json');
    const r = normalized(observe('data', armId, b));
    expect(r.delta.nodes[0]).toMatchObject({
      ref: { kind: 'data', workspace: null },
      facts: { dataType: 'mltable', referencedUris: ['string'] },
    });
    const located = normalized(
      observe('data', armId, {
        ...b,
        properties: { ...(b.properties as object), dataUri: 'https://streg.blob.core.windows.net/c/bureau-2/' },
      }),
    );
    expect(edges(located.delta)).toEqual([
      `https://streg.blob.core.windows.net/c/bureau-2 -locationOf-> azureml://registries/shared-reg/data/bureau/versions/2`,
    ]);
  });

  it('links a workspace version promoted to the registry (the copy names it) and fetches that workspace version', () => {
    const wsVersion = `${WS}/models/credit-default/versions/2`;
    const armId = `${REGISTRY}/models/credit-default/versions/2`;
    for (const modelUri of [wsVersion, `azureml:${wsVersion}`, wsVersion.toUpperCase()]) {
      const r = normalized(observe('model', armId, registryModel({ modelUri })));
      expect(edges(r.delta), modelUri).toEqual([
        `${wsVersion.toLowerCase()} -copiedTo-> azureml://registries/shared-reg/models/credit-default/versions/2`,
      ]);
      expect(r.enrich).toEqual([{ kind: 'model', armId: wsVersion.toLowerCase() }]);
    }
  });

  it('links a base model named in a property or tag whose key says base; other keys and relative names link nothing', () => {
    const armId = `${REGISTRY}/models/credit-ft/versions/1`;
    const r = normalized(
      observe(
        'model',
        armId,
        registryModel({
          properties: {
            baseModel: 'azureml://registries/azureml/models/phi-3-mini/versions/7',
            previous: `${REGISTRY}/models/credit-ft/versions/0`,
          },
          tags: { base_model: 'azureml:credit:1' },
        }),
      ),
    );
    expect(edges(r.delta)).toEqual([
      'azureml://registries/azureml/models/phi-3-mini/versions/7 -parentOf-> azureml://registries/shared-reg/models/credit-ft/versions/1',
    ]);
    // Registry assets are fetched by capture, which knows the registries; nothing from here.
    expect(r.enrich).toEqual([]);
  });

  it('links a workspace version copied from a registry version, and its base model', () => {
    const armId = `${WS}/models/credit-local/versions/1`;
    const b = body('aml-ModelVersion-get.json');
    const resource = {
      ...b,
      properties: {
        ...(b.properties as object),
        jobName: null,
        modelUri: 'azureml://registries/shared-reg/models/credit-baseline/versions/1',
        tags: { baseModel: 'azureml://registries/azureml/models/phi-3-mini/versions/7' },
      },
    };
    const r = normalized(observe('model', armId, resource));
    const self = armId.toLowerCase();
    expect(edges(r.delta)).toEqual([
      `azureml://registries/azureml/models/phi-3-mini/versions/7 -parentOf-> ${self}`,
      `azureml://registries/shared-reg/models/credit-baseline/versions/1 -copiedTo-> ${self}`,
    ]);
    expect(registryFollowUps(r.delta, directory)).toEqual([{ kind: 'model', armId: `${REGISTRY}/models/credit-baseline/versions/1` }]);
  });

  it('refuses what a registry does not hold, and ids in neither a workspace nor a registry', () => {
    const asJob = normalizeRestObservation(observe('job', `${REGISTRY}/jobs/x`, body('aml-Registry-ModelVersion-get.json')));
    expect(asJob.ok).toBe(false);
    const asCompute = normalizeRestObservation(
      observe('compute', `${REGISTRY}/models/m/versions/1`, body('aml-Registry-ModelVersion-get.json')),
    );
    expect(asCompute).toMatchObject({ ok: false, issues: [{ path: 'armId' }] });
  });
});

describe('registry ids in log records', () => {
  it('an Activity Log write of a registry model version asks for the version from the registry', () => {
    const resourceId = `${REGISTRY}/models/credit-default/versions/2`;
    const result = normalizeMonitorRecord({
      time: '2024-05-02T09:00:00Z',
      resourceId,
      operationName: 'Microsoft.MachineLearningServices/registries/models/versions/write',
      category: 'Administrative',
      resultType: 'Success',
      correlationId: 'c-9',
      properties: {},
    });
    expect(result).toMatchObject({ status: 'projected', workspace: REGISTRY_KEY, enrich: [{ kind: 'model', armId: resourceId }] });
  });

  it('a registry write record that says the asset type asks for the asset by the registry id it names', () => {
    const result = normalizeMonitorRecord({
      time: '2024-05-02T09:00:00Z',
      resourceId: REGISTRY.toUpperCase(),
      category: 'RegistryAssetWriteEvent',
      operationName: 'Microsoft.MachineLearningServices/registries/data/versions/write',
      properties: { AssetName: 'Bureau', AssetVersion: '3', RegistryResourceId: REGISTRY },
    });
    expect(result).toMatchObject({ status: 'projected', enrich: [{ kind: 'data', armId: `${REGISTRY}/data/Bureau/versions/3` }] });
  });
});
