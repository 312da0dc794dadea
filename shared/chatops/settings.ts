import { z } from 'zod';
import { isUnresolvedKeyVaultReference, UNRESOLVED_REFERENCE } from '../config.js';
import { parseWorkspaceId } from '../graph/keys.js';

/**
 * Chat-ops settings. Read on each chat request (not at the composition root) so a missing secret
 * only disables the chat routes, with a 503 naming the setting, instead of failing every lookup.
 */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

const schema = z.object({
  /** Slack app "Signing Secret"; unset = the Slack route answers 503. */
  SLACK_SIGNING_SECRET: optional(
    z
      .string()
      .min(1)
      .refine((s) => !isUnresolvedKeyVaultReference(s), UNRESOLVED_REFERENCE),
  ),
  /** Teams outgoing webhook security token (base64, as Teams shows it); unset = the Teams route answers 503. */
  TEAMS_WEBHOOK_SECRET: optional(
    z
      .string()
      .trim()
      .refine((s) => !isUnresolvedKeyVaultReference(s), UNRESOLVED_REFERENCE)
      .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be the base64 security token Teams shows when the outgoing webhook is created'),
  ),
  /** Workspace ARM id used for `azureml:NAME:VERSION` (and endpoint names) when a command has no `in WORKSPACE`. */
  CHATOPS_DEFAULT_WORKSPACE: optional(
    z
      .string()
      .trim()
      .refine((s) => parseWorkspaceId(s) !== undefined, 'must be the ARM id of an Azure ML workspace'),
  ),
  /**
   * Workspace ARM ids chat users may see, comma-separated. Unset = every workspace: anyone in a
   * channel with the bot can read lineage, so list workspaces when some are confidential. Names are
   * refused: two workspaces in different subscriptions or resource groups can share one.
   */
  CHATOPS_WORKSPACES: optional(z.string()).transform((s, ctx) => {
    const ids = new Set<string>();
    for (const entry of (s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      const ws = parseWorkspaceId(entry);
      if (!ws) {
        ctx.addIssue({ code: 'custom', message: `"${entry}" is not the ARM id of an Azure ML workspace` });
        return z.NEVER;
      }
      ids.add(ws.key);
    }
    return ids.size > 0 ? ids : null;
  }),
  /** Origin put in front of `/api/...` in "full JSON" links; unset = the origin the request came in on. */
  PUBLIC_BASE_URL: optional(z.url({ protocol: /^https?$/ }).transform((s) => s.replace(/\/+$/, ''))),
  /** Local tests only: let Slack deferred answers go to any response_url, not just hooks.slack.com. */
  SLACK_RESPONSE_URL_ALLOW_ANY: optional(z.enum(['true', 'false'])).transform((s) => s === 'true'),
  /** Overrides both platforms' time budgets (ms); tests set it tiny to force the deferred path. */
  CHATOPS_TIME_BUDGET_MS: optional(z.coerce.number().int().min(1).max(60_000)),
});

export type ChatopsSettings = z.infer<typeof schema>;

/** The name of every chat-ops setting (the settings contract test uses it). */
export const CHATOPS_SETTING_NAMES: readonly string[] = Object.keys(schema.shape);

export function chatopsSettings(env: Record<string, string | undefined> = process.env): ChatopsSettings {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`Invalid chat-ops settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
