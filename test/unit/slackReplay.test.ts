import { HttpRequest, InvocationContext } from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import { chatopsSlackRoute } from '../../functions/chatopsSlack.js';
import { SlackReplayCache, verifySlackSignature } from '../../shared/chatops/signature.js';
import { slackSignature as sign } from '../helpers/chatops.js';

/** A signed Slack request is good once: replayed within its five-minute window it is refused (hole 13). */
const SECRET = 'replay-test-secret';
const BODY = 'command=%2Flineage&text=help';

describe('Slack replay protection (hole 13)', () => {
  it('accepts a signed request once and refuses the same request again within the window', () => {
    const replays = new SlackReplayCache();
    const now = 1_714_560_000;
    const ts = String(now);
    const request = { secret: SECRET, timestamp: ts, signature: sign(SECRET, ts, BODY), body: Buffer.from(BODY), replays };
    expect(verifySlackSignature({ ...request, nowSeconds: now })).toEqual({ ok: true });
    expect(verifySlackSignature({ ...request, nowSeconds: now + 200 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/already/i),
    });
    // The same signature in another case is the same request.
    expect(
      verifySlackSignature({ ...request, signature: request.signature.toUpperCase().replace('V0=', 'v0='), nowSeconds: now + 1 }),
    ).toMatchObject({
      ok: false,
    });
    // Another request (a new timestamp, or another body) is not a replay.
    const ts2 = String(now + 1);
    expect(verifySlackSignature({ ...request, timestamp: ts2, signature: sign(SECRET, ts2, BODY), nowSeconds: now + 1 })).toEqual({
      ok: true,
    });
    // A forged signature is refused as such and takes no place in the cache.
    expect(verifySlackSignature({ ...request, signature: `v0=${'0'.repeat(64)}`, nowSeconds: now })).toMatchObject({
      reason: expect.stringContaining('does not match'),
    });
    expect(replays.size).toBe(2);
  });

  it('forgets entries once their window has passed, and stays bounded', () => {
    const replays = new SlackReplayCache(3);
    const now = 1_714_560_000;
    for (let i = 0; i < 5; i++) expect(replays.firstUse(`sig-${i}`, now + i, now + i)).toBe(true);
    expect(replays.size).toBeLessThanOrEqual(3);
    expect(replays.firstUse('sig-4', now + 4, now + 10)).toBe(false);
    expect(replays.firstUse('late', now + 400, now + 400)).toBe(true);
    expect(replays.size).toBe(1); // everything stamped more than five minutes ago is gone
  });

  describe('through the Slack route, as the worker calls it', () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env = { ...saved };
    });

    it('a replayed request is 401', async () => {
      process.env.SLACK_SIGNING_SECRET = SECRET;
      const ts = String(Math.floor(Date.now() / 1000));
      const call = () =>
        chatopsSlackRoute.handler(
          new HttpRequest({
            method: 'POST',
            url: 'http://h/api/chatops/slack',
            body: { string: BODY },
            headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': sign(SECRET, ts, BODY) },
          }),
          new InvocationContext({ functionName: 'chatopsSlack', invocationId: 'i' }),
        );
      expect((await call()).status ?? 200).toBe(200);
      const again = await call();
      expect(again.status).toBe(401);
      expect(again.jsonBody).toMatchObject({ code: 'unauthorized', detail: expect.stringMatching(/already/i) });
    });
  });
});
