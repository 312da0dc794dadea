import { response, route } from '../shared/api/route.js';
import { DomainError } from '../shared/errors.js';

export const checkpointsLatestRoute = route(
  {
    name: 'checkpointsLatest',
    method: 'GET',
    route: 'checkpoints/latest',
    summary: "The evidence log's latest signed checkpoint",
    description:
      'A C2SP checkpoint in a signed note (text/plain): origin, tree size, base64 root hash, `time`, `previous` (SHA-256 of the previous checkpoint), a blank line and the signature line. Verify it with the key from `GET /api/checkpoints/key`. 404 before the sequencer first ran.',
    tags: ['audit'],
    authLevel: 'function',
    role: 'reader',
    responses: { 200: { description: 'The signed checkpoint', contentType: 'text/plain' } },
    problems: ['not-found'],
  },
  async ({ services }) => {
    const { state } = await services.tlog.store.readState();
    if (!state.checkpoint)
      throw new DomainError(
        'not-found',
        'The evidence log has no checkpoint yet: the sequencer has not run since events were first logged.',
      );
    return response({ status: 200, body: state.checkpoint.note, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  },
);
