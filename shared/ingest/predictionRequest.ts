import { z } from 'zod';

/**
 * A prediction request: one scoring request an online endpoint served, as its traffic log
 * records it (Q3). No caller identity or IP is kept.
 */
export const predictionRequestSchema = z.object({
  requestId: z.string().min(1),
  clientRequestId: z.string().optional(),
  /** When Azure ML received the request (TimeGenerated / time), as written by the source. */
  time: z.string(),
  workspace: z.string(),
  endpointArmId: z.string(),
  deploymentArmId: z.string(),
  method: z.string().optional(),
  path: z.string().optional(),
  responseCode: z.union([z.string(), z.number()]).optional(),
  modelStatusCode: z.union([z.string(), z.number()]).optional(),
  totalDurationMs: z.number().optional(),
  authType: z.string().optional(),
});
export type PredictionRequest = z.infer<typeof predictionRequestSchema>;
