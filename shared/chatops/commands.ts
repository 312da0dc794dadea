/**
 * The chat command grammar, the same for Slack and Teams:
 *
 *   help
 *   lineage REF [in WORKSPACE]
 *   impact REF [in WORKSPACE]
 *   gate REF [in WORKSPACE]
 *   diff REF REF [in WORKSPACE]
 *   served ENDPOINT at TIME [in WORKSPACE]
 *   timeline ENDPOINT [in WORKSPACE]
 *   rollback ENDPOINT [in WORKSPACE]
 *   reproduce JOB_OR_MODEL [in WORKSPACE]
 *   request ID
 *
 * REF is any reference the HTTP API accepts; WORKSPACE is a workspace ARM id, needed only for
 * `azureml:NAME:VERSION` and bare endpoint names. Verbs and keywords are case-insensitive, a
 * leading bot mention is ignored, and a trailing `--public` asks for an answer the whole channel
 * sees. Parsing never throws: bad input comes back as `{ ok: false }` with a short reason.
 */
export type Command =
  | { verb: 'help' }
  | { verb: 'lineage' | 'impact' | 'gate' | 'reproduce'; ref: string; workspace?: string }
  | { verb: 'diff'; from: string; to: string; workspace?: string }
  | { verb: 'served'; endpoint: string; at: string; workspace?: string }
  | { verb: 'timeline' | 'rollback'; endpoint: string; workspace?: string }
  | { verb: 'request'; id: string };

export type Parsed = { ok: true; command: Command; public: boolean } | { ok: false; error: string; public: boolean };

export const VERBS = ['help', 'lineage', 'impact', 'gate', 'diff', 'served', 'timeline', 'rollback', 'reproduce', 'request'] as const;

export const USAGE = [
  'help',
  'lineage REF [in WORKSPACE]',
  'impact REF [in WORKSPACE]',
  'gate REF [in WORKSPACE]',
  'diff REF REF [in WORKSPACE]',
  'served ENDPOINT at TIME [in WORKSPACE]',
  'timeline ENDPOINT [in WORKSPACE]',
  'rollback ENDPOINT [in WORKSPACE] (prints the command, never runs it)',
  'reproduce JOB_OR_MODEL [in WORKSPACE] (a pinned job spec and what could not be pinned)',
  'request ID',
];

const MAX_TEXT = 8 * 1024;

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&nbsp;': ' ' };

/**
 * Platform noise removed before tokenizing: Teams sends the mention as `<at>Bot</at>`, HTML
 * entities (`&nbsp;` after the mention) and sometimes wraps text in `<p>`/`<div>`; Slack escapes
 * `&`, `<`, `>` and may wrap links as `<url|label>` or mentions as `<@U123>`.
 */
export function normalizeText(raw: string): string {
  let text = raw.replace(/<at\b[^>]*>[\s\S]*?<\/at>/gi, ' ');
  text = text.replace(/<\/?(?:p|div|span|br)\b[^>]*>/gi, ' ');
  text = text.replace(/<@[A-Z0-9]+(?:\|[^>]*)?>/g, ' ');
  text = text.replace(/<((?:https?|mailto):[^>|]+)(?:\|[^>]*)?>/gi, '$1');
  text = text.replace(/&(?:amp|lt|gt|quot|#39|nbsp);/g, (e) => ENTITIES[e] ?? e);
  return text.trim();
}

export function parseCommand(raw: string): Parsed {
  if (raw.length > MAX_TEXT) return { ok: false, error: `The command is longer than ${MAX_TEXT} characters.`, public: false };
  const tokens = normalizeText(raw).split(/\s+/).filter(Boolean);
  // A plain-text mention ("@lineage-bot lineage ...") when the platform did not mark it up.
  if (tokens[0]?.startsWith('@') && tokens.length > 1) tokens.shift();
  let isPublic = false;
  if (tokens.length > 0 && tokens[tokens.length - 1]?.toLowerCase() === '--public') {
    tokens.pop();
    isPublic = true;
  }
  const fail = (error: string): Parsed => ({ ok: false, error, public: isPublic });
  const done = (command: Command): Parsed => ({ ok: true, command, public: isPublic });

  const [first, ...args] = tokens;
  const verb = (first ?? 'help').toLowerCase();
  if (verb === 'help' || verb === '?') return args.length === 0 ? done({ verb: 'help' }) : fail('help takes no arguments.');

  // Optional trailing "in WORKSPACE".
  let workspace: string | undefined;
  const inAt = args.length - 2;
  if (inAt >= 0 && args[inAt]?.toLowerCase() === 'in') {
    workspace = args[inAt + 1];
    args.splice(inAt, 2);
  }
  const ws = workspace ? { workspace } : {};

  switch (verb) {
    case 'lineage':
    case 'impact':
    case 'gate':
    case 'reproduce':
      if (args.length !== 1) return fail(`Usage: ${verb} REF [in WORKSPACE]`);
      return done({ verb, ref: args[0] as string, ...ws });
    case 'diff':
      if (args.length !== 2) return fail('Usage: diff REF REF [in WORKSPACE] (two model versions)');
      return done({ verb, from: args[0] as string, to: args[1] as string, ...ws });
    case 'served':
      if (args.length !== 3 || args[1]?.toLowerCase() !== 'at')
        return fail('Usage: served ENDPOINT at TIME [in WORKSPACE] (TIME: ISO 8601 or now)');
      return done({ verb, endpoint: args[0] as string, at: args[2] as string, ...ws });
    case 'timeline':
    case 'rollback':
      if (args.length !== 1) return fail(`Usage: ${verb} ENDPOINT [in WORKSPACE]`);
      return done({ verb, endpoint: args[0] as string, ...ws });
    case 'request':
      if (workspace) return fail('Usage: request ID (request ids are global; no workspace)');
      if (args.length !== 1) return fail('Usage: request ID');
      return done({ verb, id: args[0] as string });
    default:
      return fail(`Unknown command "${(first ?? '').slice(0, 40)}".`);
  }
}
