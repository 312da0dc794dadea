import { describe, expect, it } from 'vitest';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { CLOSURE_STAGE_LOCK, runClosureStage, type StageLocks } from '../../shared/usecases/closureStage.js';
import { lineage } from '../../shared/usecases/lineage.js';
import { WS } from '../helpers/fixtures.js';
import { modelDeployed, modelRegistered, runEvent } from '../helpers/events.js';
import { freshServices } from '../helpers/stores.js';

const CHILD = 'AutoML_ad912b2d-6467-4f32-a616-dbe4af6dd8fc_5';
const upstreamOf = (ref: string) => ({ ref, direction: 'upstream' as const, depth: 5, maxNodes: 100 });

describe('the closure stage runs one at a time', () => {
  it('a run that finds the stage held returns busy and leaves the links pending; the next run takes them', async () => {
    const services = await freshServices();
    for (const e of [runEvent('RunCompleted', CHILD, { git: true }), modelRegistered('credit', 3), modelDeployed('svc-a', 'credit:3')])
      await captureEvent(services.capture, e);
    const held = await services.compliance.blobs.lease(CLOSURE_STAGE_LOCK);
    expect(held).toBeDefined();
    const turnedAway = await runClosureStage(services.graph, services.compliance.blobs);
    expect(turnedAway).toMatchObject({ busy: true, links: 0 });
    expect((await services.graph.pendingLinks(10)).length).toBeGreaterThan(0);

    await held?.();
    const run = await runClosureStage(services.graph, services.compliance.blobs);
    expect(run.busy).toBe(false);
    expect(run.links).toBeGreaterThan(0);
    expect(await services.graph.pendingLinks(10)).toEqual([]);
    expect((await lineage(services.graph, upstreamOf(`${WS}/services/svc-a`))).answeredFrom).toBe('closures');
  });

  it('links stored while a run holds the stage (their nudges turned away) are taken after it lets go', async () => {
    const services = await freshServices();
    await captureEvent(services.capture, modelDeployed('svc-a', 'credit:3'));
    let storedWhileHeld = false;
    // The real lease, with one more event captured just before the first run lets go of it, as a
    // capture on another instance would while the stage runs.
    const locks: StageLocks = {
      lease: async (name) => {
        const release = await services.compliance.blobs.lease(name);
        if (!release) return undefined;
        return async () => {
          if (!storedWhileHeld) {
            storedWhileHeld = true;
            await captureEvent(services.capture, modelDeployed('svc-a', 'credit:3,credit:5', { id: 'while-held' }));
            expect(await runClosureStage(services.graph, services.compliance.blobs)).toMatchObject({ busy: true });
          }
          await release();
        };
      },
    };
    const run = await runClosureStage(services.graph, locks);
    expect(storedWhileHeld).toBe(true);
    expect(run.batches).toBeGreaterThanOrEqual(2);
    expect(await services.graph.pendingLinks(10)).toEqual([]);
    const answer = await lineage(services.graph, upstreamOf(`${WS}/services/svc-a`));
    expect(answer.answeredFrom).toBe('closures');
    expect(answer.nodes.map((n) => n.label).sort()).toEqual(['credit:3', 'credit:5', 'svc-a']);
  });

  it('with wait, a caller that needs current closures (a compliance run) waits for the holder, then runs', async () => {
    const services = await freshServices();
    await captureEvent(services.capture, modelDeployed('svc-a', 'credit:3'));
    const held = await services.compliance.blobs.lease(CLOSURE_STAGE_LOCK);
    let released = false;
    setTimeout(() => void held?.().then(() => (released = true)), 1500);
    const run = await runClosureStage(services.graph, services.compliance.blobs, { wait: true });
    expect(released).toBe(true);
    expect(run).toMatchObject({ busy: false });
    expect(run.links).toBeGreaterThan(0);
    expect(await services.graph.pendingLinks(10)).toEqual([]);
  });
});
