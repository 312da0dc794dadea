import type { Services } from '../composition.js';
import { parseWorkspaceId } from '../graph/keys.js';
import { DomainError, toProblem } from '../errors.js';
import { lineageAsOf } from '../usecases/asOf.js';
import { driftSignals } from '../compliance/runCompliance.js';
import { diff } from '../usecases/diff.js';
import { endpointTimeline } from '../usecases/endpointTimeline.js';
import { gate } from '../usecases/gate.js';
import { impact } from '../usecases/impact.js';
import { lineage } from '../usecases/lineage.js';
import { predictionRequest } from '../usecases/predictionRequest.js';
import { reproduce } from '../usecases/reproduce.js';
import { explorerLink } from '../util/explorerLinks.js';
import { bounded, type Answer } from './answer.js';
import { USAGE, type Command, type Parsed } from './commands.js';
import { apiLink } from './links.js';
import type { ChatopsSettings } from './settings.js';
import {
  diffSummary,
  gateSummary,
  impactSummary,
  lineageSummary,
  lineageAsOfSummary,
  predictionRequestSummary,
  reproduceSummary,
  rollbackSummary,
  timelineSummary,
} from './summaries.js';

/**
 * Runs a parsed chat command against the same use cases the HTTP routes call, with the chat scope
 * (CHATOPS_WORKSPACES, or every workspace), and turns the result, or the error, into a bounded
 * Answer. Its answers never reject: a chat user gets a sentence, never a stack trace.
 */
export interface ExecDeps {
  services: () => Promise<Services>;
  settings: ChatopsSettings;
  /** Origin for "full JSON" links. */
  linkBase: string;
  /** How users invoke the bot on this platform, shown in usage lines ("/lineage", "@Lineage"). */
  prefix: string;
  log?: (message: string) => void;
  now?: () => Date;
}

/** Upstream hops a chat lineage answer walks: enough to reach the raw data behind a training job. */
const CHAT_LINEAGE_DEPTH = 6;
const CHAT_MAX_NODES = 500;

export function helpAnswer(prefix: string, link: string): Answer {
  return {
    title: 'Lineage bot commands',
    lines: [
      ...USAGE.map((u) => `${prefix} ${u}`.trim()),
      'REF: NAME:VERSION (looked up in every workspace you may see, or in WORKSPACE), an ARM id, azureml://registries/… or a node id.',
      'WORKSPACE: its short name (ws-credit) or its ARM id.',
      'Add --public at the end to answer the whole channel (Slack).',
    ],
    link,
    tone: 'info',
  };
}

function usageAnswer(error: string, prefix: string): Answer {
  return { title: 'Not a command I understand', lines: [error, `Try: ${prefix} help`.trim()], tone: 'warning' };
}

function errorAnswer(error: unknown, prefix: string, log?: (message: string) => void): Answer {
  const p = toProblem(error);
  if (!(error instanceof DomainError)) log?.(`chat-ops command failed: ${error instanceof Error ? error.message : String(error)}`);
  // resolveRef's detail lists every accepted form in one long sentence; chat gets the first sentence.
  const lines = [p.detail.length > 200 ? (p.detail.split(/(?<=\.)\s/)[0] ?? p.detail) : p.detail];
  if (/needs the workspace parameter/.test(p.detail))
    lines.push('Add "in WORKSPACE_ARM_ID" to the command, or set CHATOPS_DEFAULT_WORKSPACE.');
  if (Array.isArray(p.candidates))
    lines.push(
      `Candidates: ${(p.candidates as Array<{ id: string; kind: string; label?: string; workspace?: string | null }>)
        .map((c) => (c.label ? `${c.kind} ${c.label} in ${c.workspace ?? 'a registry'}` : `${c.kind} ${c.id}`))
        .join(', ')}`,
    );
  if (p.code === 'ambiguous-ref') lines.push('Add "in WORKSPACE" (its short name will do) to pick one.');
  if (p.code === 'invalid-ref' || p.code === 'invalid-request') lines.push(`Try: ${prefix} help`.trim());
  return { title: p.title, lines, tone: p.status === 404 ? 'warning' : 'error' };
}

/** A command with its workspace, endpoint and moment resolved, the route that answers it in full, and its explorer view. */
interface Plan {
  command: Command;
  workspace?: string;
  link: string;
  view?: string;
}

export function plan(command: Command, settings: ChatopsSettings, base: string, now: () => Date = () => new Date()): Plan {
  const workspace = ('workspace' in command ? command.workspace : undefined) ?? settings.CHATOPS_DEFAULT_WORKSPACE;
  switch (command.verb) {
    case 'help':
      return { command, link: apiLink(base, 'openapi.json'), view: explorerLink(base, 'search') };
    case 'lineage':
    case 'gate': {
      // A gate failure is explained by the model's upstream: both open the lineage view.
      const upstream = { ref: command.ref, workspace, direction: 'upstream', depth: CHAT_LINEAGE_DEPTH };
      return {
        command,
        workspace,
        link: command.verb === 'gate' ? apiLink(base, 'gate', { ref: command.ref, workspace }) : apiLink(base, 'lineage', upstream),
        view: explorerLink(base, 'lineage', upstream),
      };
    }
    case 'impact':
      return {
        command,
        workspace,
        link: apiLink(base, 'impact', { ref: command.ref, workspace }),
        view: explorerLink(base, 'impact', { ref: command.ref, workspace }),
      };
    case 'diff': {
      const query = { from: command.from, to: command.to, workspace };
      return { command, workspace, link: apiLink(base, 'diff', query), view: explorerLink(base, 'diff', query) };
    }
    case 'served': {
      const at = command.at.toLowerCase() === 'now' ? now().toISOString() : command.at;
      // A bare endpoint name in a workspace given by ARM id is that workspace's online endpoint;
      // otherwise it is looked up by name (in the short-named workspace, or every one the chat may see).
      const endpoint =
        /^[A-Za-z0-9][A-Za-z0-9-]*$/.test(command.endpoint) && workspace && parseWorkspaceId(workspace)
          ? `${workspace.replace(/\/+$/, '')}/onlineEndpoints/${command.endpoint}`
          : command.endpoint;
      const byName = endpoint === command.endpoint ? workspace : undefined;
      return {
        command: { ...command, endpoint, at },
        workspace: byName,
        link: apiLink(base, 'lineage/as-of', { endpoint, workspace: byName, at }),
        view: explorerLink(base, 'endpoint', { endpoint, at }),
      };
    }
    case 'timeline':
    case 'rollback':
      return { command, workspace, link: apiLink(base, 'endpoints/timeline', { endpoint: command.endpoint, workspace }) };
    case 'reproduce':
      return { command, workspace, link: apiLink(base, 'reproduce', { ref: command.ref, workspace }) };
    case 'request':
      return { command, link: apiLink(base, `requests/${encodeURIComponent(command.id)}`) };
  }
}

async function execute({ command, workspace, link }: Plan, deps: ExecDeps): Promise<Answer> {
  if (command.verb === 'help') return helpAnswer(deps.prefix, link);
  const services = await deps.services();
  const { graph, settings } = services;
  const scope = deps.settings.CHATOPS_WORKSPACES;
  const maxNodes = Math.min(settings.LINEAGE_MAX_NODES, CHAT_MAX_NODES);
  switch (command.verb) {
    case 'lineage': {
      // The link asks for CHAT_LINEAGE_DEPTH; a deployment capping depth lower gets its cap (and a 400 behind the link says so).
      const depth = Math.min(CHAT_LINEAGE_DEPTH, settings.LINEAGE_MAX_DEPTH);
      return lineageSummary(
        await lineage(graph, { ref: command.ref, workspace, direction: 'upstream', depth, maxNodes, timeBudgetMs: 10_000, scope }),
        link,
      );
    }
    case 'impact':
      // The impact route's own default depth and node budget, so the link shows the same answer.
      return impactSummary(
        await impact(graph, { ref: command.ref, workspace, depth: 25, maxNodes: settings.LINEAGE_MAX_NODES, scope }),
        link,
      );
    case 'reproduce':
      return reproduceSummary(await reproduce(graph, { ref: command.ref, workspace, scope }), link);
    case 'gate':
      return gateSummary(await gate(graph, { ref: command.ref, workspace, require: settings.GATE_REQUIRE, scope }), link);
    case 'diff':
      return diffSummary(
        await diff(graph, { from: command.from, to: command.to, workspace, scope, metricDirections: settings.METRIC_DIRECTIONS }),
        link,
      );
    case 'served':
      return lineageAsOfSummary(
        await lineageAsOf(graph, { endpoint: command.endpoint, workspace, at: command.at, depth: 1, maxNodes, scope }),
        link,
      );
    case 'timeline':
    case 'rollback': {
      const answer = await endpointTimeline(graph, {
        endpoint: command.endpoint,
        workspace,
        scope,
        rule: {
          minTrafficPercent: settings.ROLLBACK_MIN_TRAFFIC_PERCENT,
          minServiceMinutes: settings.ROLLBACK_MIN_SERVICE_MINUTES,
          gateRequires: settings.GATE_REQUIRE,
        },
        driftSignals: () => driftSignals(services.compliance.blobs),
      });
      return command.verb === 'timeline' ? timelineSummary(answer, link) : rollbackSummary(answer, link);
    }
    case 'request': {
      // Which endpoint and moment a request belongs to is known only from its answer.
      const found = await predictionRequest(graph, services.predictionRequests, command.id, 2, maxNodes, scope);
      return {
        ...predictionRequestSummary(found, link),
        view: explorerLink(deps.linkBase, 'endpoint', { endpoint: found.endpointArmId, at: found.time }),
      };
    }
  }
}

/**
 * Starts a command. `link` is known at once, so a reply that cannot wait for `answer` can still
 * point at the full JSON; `answer` never rejects.
 */
export function startCommand(parsed: Parsed, deps: ExecDeps): { link?: string; view?: string; answer: Promise<Answer> } {
  if (!parsed.ok) return { answer: Promise.resolve(bounded(usageAnswer(parsed.error, deps.prefix))) };
  let planned: Plan;
  try {
    planned = plan(parsed.command, deps.settings, deps.linkBase, deps.now);
  } catch (error) {
    return { answer: Promise.resolve(bounded(errorAnswer(error, deps.prefix, deps.log))) };
  }
  const answer = execute(planned, deps).then(
    (done) => bounded({ view: planned.view, ...done }),
    (error: unknown) => bounded(errorAnswer(error, deps.prefix, deps.log)),
  );
  return { link: planned.link, view: planned.view, answer };
}

/** `work` settled within `ms`, or not (it keeps running; the caller decides what to do with it). */
export async function withinBudget<T>(work: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  try {
    return await Promise.race([work.then((value) => ({ done: true as const, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
