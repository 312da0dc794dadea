import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { complianceRun, type ComplianceRunDeps } from '../compliance/complianceRun.js';
import { CHECKS } from '../compliance/report.js';
import { DomainError, toProblem } from '../errors.js';
import { isFinished, type Operation, type OperationKind, type OperationQueue, type OperationStore } from '../store/operationStore.js';
import type { CaptureDeps } from '../usecases/captureEvent.js';
import { replay } from '../usecases/replay.js';

/**
 * Long operations run off the HTTP request (Azure cuts a request at 230 s): the start route
 * records the operation and queues it, the queue-triggered worker runs it and records the outcome,
 * and GET /api/operations/{id} reports it. A worker recycled mid-run leaves the message on the
 * queue; it is delivered again and the work runs again. Both kinds are safe to run again: replay
 * is idempotent, and an incremental compliance run starts from the marks its checks committed.
 */
export interface OperationDeps {
  operations: OperationStore;
  queue: OperationQueue;
  capture: CaptureDeps;
  compliance: ComplianceRunDeps;
  now: () => Date;
}

const instant = z.iso.datetime({ offset: true });

/** What each kind runs with: validated again by the worker, which trusts no stored shape. */
export const OPERATION_REQUESTS = {
  replay: z.object({ events: z.boolean(), deadLetters: z.boolean() }),
  'compliance-run': z.object({
    checks: z.array(z.enum(CHECKS)).min(1).optional(),
    mode: z.enum(['incremental', 'full', 'window']),
    window: z.object({ since: instant, until: instant }).optional(),
  }),
} satisfies Record<OperationKind, z.ZodType>;

export type OperationRequest<K extends OperationKind> = z.infer<(typeof OPERATION_REQUESTS)[K]>;

/** Records the operation and queues it; a record whose message could not be queued is marked failed. */
export async function startOperation<K extends OperationKind>(
  deps: Pick<OperationDeps, 'operations' | 'queue' | 'now'>,
  kind: K,
  request: OperationRequest<K>,
): Promise<Operation> {
  const now = deps.now().toISOString();
  const op: Operation = { id: randomUUID(), kind, state: 'queued', request, createdAt: now, updatedAt: now, attempts: 0 };
  await deps.operations.put(op, true);
  try {
    await deps.queue.send({ kind: 'operation', id: op.id });
  } catch (error) {
    await deps.operations.put({ ...op, state: 'failed', updatedAt: deps.now().toISOString(), error: toProblem(error) });
    throw error;
  }
  return op;
}

/** The operation once finished, or as it stands when `seconds` have passed. */
export async function waitForOperation(operations: OperationStore, op: Operation, seconds: number, pollMs = 250): Promise<Operation> {
  const deadline = Date.now() + seconds * 1000;
  let current = op;
  while (!isFinished(current) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(0, deadline - Date.now()))));
    current = (await operations.get(op.id)) ?? current;
  }
  return current;
}

export interface Delivery {
  /** 1 on the first delivery of the queue message. */
  dequeueCount: number;
  /** The delivery after which a failure is final. */
  maxAttempts: number;
  log: (line: string) => void;
}

const PROGRESS_EVERY_MS = 1000;

/**
 * Runs a queued operation and records its outcome. A finished operation is left alone (a
 * duplicate delivery). A domain error (bad input, not found) fails it at once; anything else is
 * thrown, so the queue delivers it again, until the last attempt records the failure.
 */
export async function runOperation(deps: OperationDeps, id: string, delivery: Delivery): Promise<void> {
  const found = await deps.operations.get(id);
  if (!found) return delivery.log(`operation ${id}: no record; nothing to run`);
  if (isFinished(found)) return delivery.log(`operation ${id}: already ${found.state}`);
  const now = () => deps.now().toISOString();
  let op: Operation = { ...found, state: 'running', attempts: found.attempts + 1, startedAt: found.startedAt ?? now(), updatedAt: now() };
  if (op.attempts > 1) op.progress = undefined; // the work starts again
  await deps.operations.put(op);

  // Progress is written at most once a second, one write at a time, and never after the outcome.
  let writing: Promise<void> = Promise.resolve();
  let lastWrite = 0;
  let done = false;
  const progress = (count: number, unit: string) => {
    if (done || Date.now() - lastWrite < PROGRESS_EVERY_MS) return;
    lastWrite = Date.now();
    op = { ...op, progress: { done: count, unit }, updatedAt: now() };
    const snapshot = op;
    writing = writing.then(() => (done ? undefined : deps.operations.put(snapshot))).catch(() => undefined);
  };

  try {
    const result = await work(deps, op, progress, delivery.log);
    done = true;
    await writing;
    await deps.operations.put({ ...op, state: 'succeeded', result, finishedAt: now(), updatedAt: now(), lastError: undefined });
  } catch (error) {
    done = true;
    await writing;
    const reason = error instanceof Error ? error.message : String(error);
    if (!(error instanceof DomainError) && delivery.dequeueCount < delivery.maxAttempts) {
      await deps.operations.put({ ...op, lastError: reason, updatedAt: now() });
      throw error;
    }
    await deps.operations.put({ ...op, state: 'failed', error: toProblem(error), lastError: reason, finishedAt: now(), updatedAt: now() });
    delivery.log(`operation ${id} (${op.kind}) failed: ${reason}`);
  }
}

async function work(
  deps: OperationDeps,
  op: Operation,
  progress: (count: number, unit: string) => void,
  log: (line: string) => void,
): Promise<unknown> {
  const invalid = (issues: z.ZodError) => new DomainError('invalid-request', `operation ${op.id}: ${issues.message}`);
  switch (op.kind) {
    case 'replay': {
      const request = OPERATION_REQUESTS.replay.safeParse(op.request);
      if (!request.success) throw invalid(request.error);
      const report = await replay(deps.capture, { ...request.data, onProgress: (n) => progress(n, 'events') });
      log(`replay ${op.id}: ${JSON.stringify(report)}`);
      return report;
    }
    case 'compliance-run': {
      const request = OPERATION_REQUESTS['compliance-run'].safeParse(op.request);
      if (!request.success) throw invalid(request.error);
      return complianceRun(deps.compliance, { ...request.data, trigger: 'http:compliance/run' }, log);
    }
  }
}
