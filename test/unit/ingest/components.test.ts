import { describe, expect, it } from 'vitest';
import { parseArmId } from '../../../shared/graph/keys.js';
import type { GraphDelta } from '../../../shared/graph/model.js';
import { enrichmentMessageSchema } from '../../../shared/ingest/enrichmentMessage.js';
import { followUps, registryDirectory, registryFollowUps } from '../../../shared/ingest/followUps.js';
import type { RestObservation } from '../../../shared/ingest/rest/observation.js';
import { normalizeRestObservation } from '../../../shared/ingest/rest/resourceKinds.js';
import { fixture, WS } from '../../helpers/fixtures.js';

/**
 * Component versions: what a pipeline step ran. A step job names its component (an ARM id or a
 * registry URI); the component version names its code and environment in its `componentSpec`.
 */
const REGISTRY = '/subscriptions/s1/resourceGroups/rg-shared/providers/Microsoft.MachineLearningServices/registries/shared-reg';
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
const edges = (d: GraphDelta) => d.edges.map((e) => `${e.from.kind}:${e.from.label} -${e.kind}-> ${e.to.kind}:${e.to.label}`).sort();

/** A documented component version with a command component's spec in place of the example's placeholder. */
function componentVersion(file: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const b = body(file);
  return { ...b, properties: { ...(b.properties as Record<string, unknown>), componentSpec: spec, ...extra } };
}

/** A documented command job run as a pipeline step of the given component. */
function step(componentId: string) {
  const job = body('aml-Job-CommandJob-get.json');
  Object.assign(job.properties as Record<string, unknown>, { status: 'Running', componentId, codeId: null, environmentId: null });
  return job;
}

describe('component versions', () => {
  it('a workspace component version: its facts, the code and environment its spec names, which are fetched in turn', () => {
    const armId = `${WS}/components/Prep/versions/3`;
    const { delta, enrich } = normalized(
      observe(
        'component',
        armId,
        componentVersion(
          'aml-ComponentVersion-get.json',
          {
            name: 'Prep',
            version: '3',
            type: 'command',
            display_name: 'prepare applications',
            command: 'python prep.py --raw ${{inputs.raw}} --out ${{outputs.out}}',
            code: `azureml:${WS}/codes/c0de/versions/1`,
            environment: 'azureml:lightgbm-env:5',
            inputs: { raw: { type: 'uri_folder' } },
          },
          { isAnonymous: true },
        ),
      ),
    );
    const node = delta.nodes.find((n) => n.ref.kind === 'component');
    expect(node?.ref).toEqual(parseArmId(armId));
    expect(node?.ref.label).toBe('Prep:3');
    expect(node?.facts).toMatchObject({
      type: 'command',
      displayName: 'prepare applications',
      description: 'string',
      isAnonymous: true,
      command: 'python prep.py --raw ${{inputs.raw}} --out ${{outputs.out}}',
    });
    expect(edges(delta)).toEqual([
      'code:c0de:1 -codeOf-> component:Prep:3',
      'environment:lightgbm-env:5 -environmentOf-> component:Prep:3',
    ]);
    expect(enrich.map((e) => `${e.kind} ${e.armId}`).sort()).toEqual([
      `code ${WS.toLowerCase()}/codes/c0de/versions/1`,
      `environment ${WS.toLowerCase()}/environments/lightgbm-env/versions/5`,
    ]);
  });

  it('the documented example (a placeholder spec) is a component node with no links', () => {
    const { delta } = normalized(observe('component', `${WS}/components/prep/versions/1`, body('aml-ComponentVersion-get.json')));
    expect(delta.nodes.map((n) => [n.ref.kind, n.ref.label, n.facts.isAnonymous])).toEqual([['component', 'prep:1', false]]);
    expect(delta.edges).toEqual([]);
  });

  it('a registry component version: code and environment by registry URI or ARM id; the registry ones fetched from a listed registry', () => {
    const armId = `${REGISTRY}/components/score/versions/2`;
    const r = normalized(
      observe(
        'component',
        armId,
        componentVersion('aml-Registry-ComponentVersion-get.json', {
          type: 'command',
          command: 'python score.py',
          code: 'azureml://registries/shared-reg/codes/score-src/versions/4',
          environment: `azureml:${WS}/environments/lightgbm-env/versions/5`,
        }),
      ),
    );
    expect(r.workspace).toBe(REGISTRY.toLowerCase());
    expect(r.delta.nodes.map((n) => [n.ref.kind, n.ref.key, n.facts.command])).toEqual([
      ['component', 'azureml://registries/shared-reg/components/score/versions/2', 'python score.py'],
    ]);
    expect(edges(r.delta)).toEqual([
      'code:score-src:4 -codeOf-> component:score:2',
      'environment:lightgbm-env:5 -environmentOf-> component:score:2',
    ]);
    // The workspace environment by the normalizer; the registry code by capture, which knows the registries.
    expect(r.enrich).toEqual([{ kind: 'environment', armId: `${WS.toLowerCase()}/environments/lightgbm-env/versions/5` }]);
    expect(registryFollowUps(r.delta, directory)).toEqual([{ kind: 'code', armId: `${REGISTRY}/codes/score-src/versions/4` }]);
  });

  it('a pipeline step names its workspace component: linked to the step and fetched in turn', () => {
    const componentId = `${WS}/components/azureml_anonymous/versions/6b0d3c1e`;
    const { delta, enrich } = normalized(observe('job', `${WS}/jobs/prep-1`, step(componentId)));
    expect(edges(delta).filter((e) => e.includes('componentOf'))).toEqual([
      'component:azureml_anonymous:6b0d3c1e -componentOf-> job:prep-1',
    ]);
    expect(delta.nodes.find((n) => n.ref.kind === 'job')?.facts.componentId).toBe(componentId);
    const asked = enrich.filter((e) => e.kind === 'component');
    expect(asked).toEqual([{ kind: 'component', armId: parseArmId(componentId)!.key }]);
    for (const m of asked) expect(enrichmentMessageSchema.safeParse(m).success).toBe(true);
  });

  it('a step running a registry component: fetched when its registry is listed, a placeholder otherwise', () => {
    const r = normalized(observe('job', `${WS}/jobs/train-1`, step('azureml://registries/Shared-Reg/components/Train/versions/7')));
    expect(edges(r.delta).filter((e) => e.includes('componentOf'))).toEqual(['component:Train:7 -componentOf-> job:train-1']);
    expect(r.enrich.filter((e) => e.kind === 'component')).toEqual([]);
    expect(registryFollowUps(r.delta, directory)).toEqual([{ kind: 'component', armId: `${REGISTRY}/components/Train/versions/7` }]);
    expect(registryFollowUps(r.delta, registryDirectory([]))).toEqual([]);
  });

  it('a component id that could steer the request path is never asked for', () => {
    for (const name of ['..', '%2e%2e', 'a%3Fb']) {
      const workspace = normalized(observe('job', `${WS}/jobs/prep-1`, step(`${WS}/components/${name}/versions/1`)));
      expect(
        workspace.enrich.filter((e) => e.kind === 'component'),
        name,
      ).toEqual([]);
      const registry = normalized(
        observe('job', `${WS}/jobs/prep-1`, step(`azureml://registries/shared-reg/components/${name}/versions/1`)),
      );
      expect(registryFollowUps(registry.delta, directory), name).toEqual([]);
    }
    // Nor any other node kind whose key could.
    expect(
      followUps([{ kind: 'code', workspace: WS.toLowerCase(), key: `${WS.toLowerCase()}/codes/../versions/1`, label: '..:1' }]),
    ).toEqual([]);
  });
});
