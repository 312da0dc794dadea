import { captureEvent, type CaptureDeps } from './captureEvent.js';

export interface ReplayReport {
  events: { replayed: number; projected: number; ignored: number; deadLettered: number };
  deadLetters: { retried: number; resolved: number; stillFailing: number };
}

/**
 * Rebuilds the graph from the raw event log, then re-processes pending dead letters (typically
 * after a fix shipped). Safe to run any number of times: projection is idempotent and order-free.
 */
export async function replay(deps: CaptureDeps, options: { events?: boolean; deadLetters?: boolean; onProgress?: (n: number) => void } = {}): Promise<ReplayReport> {
  const report: ReplayReport = {
    events: { replayed: 0, projected: 0, ignored: 0, deadLettered: 0 },
    deadLetters: { retried: 0, resolved: 0, stillFailing: 0 },
  };
  if (options.events !== false) {
    for await (const raw of deps.eventLog.scan()) {
      const outcome = await captureEvent(deps, raw.body, { channel: raw.channel, delivery: raw.delivery, receivedAt: raw.receivedAt });
      report.events.replayed++;
      if (outcome.status === 'projected') report.events.projected++;
      else if (outcome.status === 'ignored') report.events.ignored++;
      else report.events.deadLettered++;
      options.onProgress?.(report.events.replayed);
    }
  }
  if (options.deadLetters !== false) {
    const pending = [];
    for await (const item of deps.deadLetters.pending()) pending.push(item);
    for (const { name, letter } of pending) {
      report.deadLetters.retried++;
      const outcome = await captureEvent(deps, letter.body, { channel: letter.channel, delivery: letter.delivery, receivedAt: letter.receivedAt });
      if (outcome.status === 'dead-lettered') {
        report.deadLetters.stillFailing++;
      } else {
        await deps.deadLetters.resolve(name, deps.now().toISOString());
        report.deadLetters.resolved++;
      }
    }
  }
  return report;
}
