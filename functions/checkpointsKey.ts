import { z } from 'zod';
import { route } from '../shared/api/route.js';

export const checkpointsKeyRoute = route(
  {
    name: 'checkpointsKey',
    method: 'GET',
    route: 'checkpoints/key',
    summary: 'The public key that signs the evidence log checkpoints',
    description:
      'Fetch it once, through a channel you trust, and pin it: `verifierKey` is what `npm run verify -- PACK --key KEY` takes. An evidence pack that brought its own key would prove nothing.',
    tags: ['audit'],
    authLevel: 'function',
    role: 'reader',
    responses: {
      200: {
        description: 'The ECDSA P-256 public key, as a signed-note verifier key and as PEM',
        schema: z.object({
          keyName: z.string(),
          keyId: z.string(),
          signatureType: z.literal('ecdsa-p256-sha256 (signed-note type 0x02)'),
          verifierKey: z.string(),
          publicKeyPem: z.string(),
        }),
      },
    },
  },
  ({ services }) => services.tlog.publicKey(),
);
