import { beforeAll, describe, expect, it } from 'vitest';
import { principalFrom, requireRole } from '../../shared/access.js';
import { chatopsSettings } from '../../shared/chatops/settings.js';
import type { Services } from '../../shared/composition.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { evidenceRecord } from '../../shared/usecases/evidence.js';
import { lineage } from '../../shared/usecases/lineage.js';
import { search } from '../../shared/usecases/search.js';
import { modelRegistered } from '../helpers/events.js';
import { freshServices } from '../helpers/stores.js';

/**
 * Two teams, two workspaces with the same name in different subscriptions, one graph. A role or
 * chat scope naming one of them must not reach the other's lineage, search results or evidence.
 */
const WS_A =
  '/subscriptions/aaaaaaaa-0000-0000-0000-000000000001/resourceGroups/rg-a/providers/Microsoft.MachineLearningServices/workspaces/ws-credit';
const WS_B =
  '/subscriptions/bbbbbbbb-0000-0000-0000-000000000002/resourceGroups/rg-b/providers/Microsoft.MachineLearningServices/workspaces/ws-credit';
const ENV = { WEBSITE_AUTH_ENABLED: 'True', ROLE_WORKSPACES: `ws-credit=${WS_A}` };

function principalHeader(role: string) {
  const value = Buffer.from(JSON.stringify({ role_typ: 'roles', claims: [{ typ: 'roles', val: role }] })).toString('base64');
  return { get: (name: string) => (name === 'x-ms-client-principal' ? value : null) };
}

let services: Services;
beforeAll(async () => {
  services = await freshServices();
  for (const [ws, team] of [
    [WS_A, 'a'],
    [WS_B, 'b'],
  ] as const) {
    const event = modelRegistered('credit-default', 3, { id: `reg-${team}`, tags: { team } });
    event.topic = ws;
    expect((await captureEvent(services.capture, event)).status).toBe('projected');
  }
});

describe('workspace scope is the workspace identity, not its name (hole 1)', () => {
  it('a reader of ws-credit (mapped to subscription A) finds only A’s model', async () => {
    const scope = requireRole(principalFrom(principalHeader('Lineage.Reader.ws-credit'), { env: ENV }), 'reader');
    const found = await search(services.graph, { q: 'credit-default', limit: 10, scope });
    expect(found.nodes.map((n) => n.workspace)).toEqual([WS_A.toLowerCase()]);
    await expect(
      lineage(services.graph, { ref: `${WS_B}/models/credit-default/versions/3`, direction: 'upstream', depth: 2, maxNodes: 10, scope }),
    ).rejects.toMatchObject({ code: 'not-found' });
    const own = await lineage(services.graph, {
      ref: `${WS_A}/models/credit-default/versions/3`,
      direction: 'upstream',
      depth: 2,
      maxNodes: 10,
      scope,
    });
    expect(own.nodes[0]?.properties.tags).toEqual({ team: 'a' });
  });

  it('an auditor of ws-credit gets no evidence of the other team’s model', async () => {
    const scope = requireRole(principalFrom(principalHeader('Lineage.Auditor.ws-credit'), { env: ENV }), 'auditor');
    await expect(evidenceRecord(services.graph, { ref: `${WS_B}/models/credit-default/versions/3`, scope })).rejects.toMatchObject({
      code: 'not-found',
    });
    expect((await evidenceRecord(services.graph, { ref: `${WS_A}/models/credit-default/versions/3`, scope })).model.label).toBe(
      'credit-default:3',
    );
  });

  it('chat-ops scope lists workspace ARM ids, so a chat limited to A does not see B', async () => {
    const scope = chatopsSettings({ CHATOPS_WORKSPACES: WS_A.toUpperCase() }).CHATOPS_WORKSPACES;
    const found = await search(services.graph, { q: 'credit-default', limit: 10, scope });
    expect(found.nodes.map((n) => n.workspace)).toEqual([WS_A.toLowerCase()]);
  });
});
