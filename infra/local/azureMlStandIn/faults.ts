import { z } from 'zod';

/**
 * Injected failures, so retry, throttling and timeout handling can be tested against the
 * stand-in: a rule matches requests by path regex (and optionally method) and fires for its next
 * `times` matches. The first live matching rule, in the order added, wins.
 *
 * - `{status: 429, retryAfterSeconds: N}`: ARM throttling with `Retry-After: N` (leave
 *   `retryAfterSeconds` out to test a client's own backoff when the header is missing).
 * - `{status: 500 | 503}`: transient server errors (`retryAfterSeconds` also allowed on 503).
 * - `{status: 404}`: the resource "disappears" for N reads.
 * - `{delayMs: N}`: the answer is held back N ms (then served normally, or with `status`),
 *   to make a client time out.
 */
export const FAULT_STATUSES = [404, 429, 500, 503] as const;
export type FaultStatus = (typeof FAULT_STATUSES)[number];

export interface FaultRule {
  /** Tested against the request path as received (percent-encoded, no query). Strings compile case-insensitively, as ARM matches paths. */
  path: string | RegExp;
  /** HTTP method to match; any when absent. */
  method?: string;
  status?: FaultStatus;
  retryAfterSeconds?: number;
  delayMs?: number;
  /** How many matching requests it fires for: default 1; `'forever'` until cleared. */
  times?: number | 'forever';
}

export interface ActiveFault {
  id: number;
  path: RegExp;
  method?: string;
  status?: FaultStatus;
  retryAfterSeconds?: number;
  delayMs?: number;
  /** Matches left; Infinity for `'forever'`. */
  remaining: number;
  /** Requests it has fired for so far. */
  hits: number;
}

/** The JSON form accepted by `POST /_standin/faults` (a rule or an array of rules). */
export const faultRuleSchema = z
  .object({
    path: z.string().min(1),
    flags: z
      .string()
      .regex(/^[imsu]*$/)
      .optional(),
    method: z.string().min(1).optional(),
    status: z.literal(FAULT_STATUSES).optional(),
    retryAfterSeconds: z.number().int().min(0).optional(),
    delayMs: z.number().int().min(0).max(600_000).optional(),
    times: z.union([z.number().int().min(1), z.literal('forever')]).optional(),
  })
  .strict();

export class FaultControl {
  private rules: ActiveFault[] = [];
  private nextId = 1;

  add(rule: FaultRule): ActiveFault {
    if (rule.status === undefined && rule.delayMs === undefined) throw new Error('a fault needs a status, a delayMs, or both');
    if (rule.retryAfterSeconds !== undefined && rule.status !== 429 && rule.status !== 503)
      throw new Error('retryAfterSeconds goes with status 429 or 503');
    const times = rule.times ?? 1;
    if (times !== 'forever' && (!Number.isInteger(times) || times < 1))
      throw new Error(`times must be a positive integer or 'forever', got ${times}`);
    const fault: ActiveFault = {
      id: this.nextId++,
      path: typeof rule.path === 'string' ? new RegExp(rule.path, 'i') : rule.path,
      remaining: times === 'forever' ? Infinity : times,
      hits: 0,
      ...(rule.method !== undefined ? { method: rule.method.toUpperCase() } : {}),
      ...(rule.status !== undefined ? { status: rule.status } : {}),
      ...(rule.retryAfterSeconds !== undefined ? { retryAfterSeconds: rule.retryAfterSeconds } : {}),
      ...(rule.delayMs !== undefined ? { delayMs: rule.delayMs } : {}),
    };
    this.rules.push(fault);
    return { ...fault };
  }

  /** From the HTTP control route's JSON. */
  addJson(value: z.infer<typeof faultRuleSchema>): ActiveFault {
    const { path, flags, ...rest } = value;
    return this.add({ ...rest, path: new RegExp(path, flags ?? 'i') });
  }

  clear(): void {
    this.rules = [];
  }

  /** Every rule added since the last clear, spent ones included (remaining 0), for hit counts. */
  list(): ActiveFault[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** The rule that fires for this request, if any; counts the hit. */
  take(method: string, path: string): ActiveFault | undefined {
    const rule = this.rules.find(
      (r) => r.remaining > 0 && (r.method === undefined || r.method === method.toUpperCase()) && matches(r.path, path),
    );
    if (!rule) return undefined;
    rule.remaining -= 1;
    rule.hits += 1;
    return { ...rule };
  }
}

function matches(re: RegExp, path: string): boolean {
  re.lastIndex = 0; // a caller's /g or /y regex keeps state between test() calls
  return re.test(path);
}

/** Wire form of a rule, for `GET /_standin/faults` (RegExp and Infinity do not survive JSON). */
export function faultJson(f: ActiveFault): Record<string, unknown> {
  return { ...f, path: f.path.source, flags: f.path.flags, remaining: f.remaining === Infinity ? 'forever' : f.remaining };
}
