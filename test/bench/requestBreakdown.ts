import type { GraphWrite, WriteResult } from '../../shared/store/graphWrites.js';
import type { StoreMeter } from '../../shared/store/storeMeter.js';
import type { CaptureDeps } from '../../shared/usecases/captureEvent.js';

/**
 * Where an enrichment run's Cosmos requests go: each call the capture and enrichment use cases
 * make on the event log and the graph store is metered on its own (calls run one at a time, so the
 * meter's delta during a call is that call's), and its requests are filed under the store, the
 * method and the SDK operation (`graph.write read 404`, `eventLog.append create 409`).
 *
 * It also records the size of every `GraphStore.write` call, so the bench can say what a writer
 * that reads an event's documents in one request and writes them in one more would cost.
 */
export class RequestBreakdown {
  /** Requests by `store.method operation`, then by phase (`capture`, or the kind of enrichment message). */
  readonly requests = new Map<string, Map<string, number>>();
  /** Every `write()` call by phase: documents named, and whether any was created or updated. */
  readonly writeCalls = new Map<string, Array<{ docs: number; changed: boolean }>>();
  phase = 'capture';

  constructor(private readonly meter: StoreMeter) {}

  /** `deps` with its event log and graph store metered call by call. */
  instrument<D extends CaptureDeps>(deps: D): D {
    return { ...deps, eventLog: this.wrap('eventLog', deps.eventLog), graph: this.wrap('graph', deps.graph) };
  }

  private wrap<T extends object>(store: string, target: T): T {
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value: unknown = Reflect.get(object, property, receiver);
        if (typeof value !== 'function' || typeof property !== 'string') return value;
        return (...args: unknown[]) => {
          const before = new Map(this.meter.byOperation);
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(object, args);
          // Synchronous methods (`reader()`) make no request.
          if (!(result instanceof Promise)) return result;
          return result
            .then((answer: unknown) => {
              if (store === 'graph' && property === 'write') this.recordWrite(args[0] as GraphWrite[], answer as WriteResult[]);
              return answer;
            })
            .finally(() => {
              for (const [operation, n] of this.meter.byOperation) {
                const delta = n - (before.get(operation) ?? 0);
                if (delta > 0) this.add(`${store}.${property} ${operation}`, delta);
              }
            });
        };
      },
    });
  }

  private add(label: string, n: number): void {
    const byPhase = this.requests.get(label) ?? new Map<string, number>();
    byPhase.set(this.phase, (byPhase.get(this.phase) ?? 0) + n);
    this.requests.set(label, byPhase);
  }

  private recordWrite(writes: readonly GraphWrite[], results: readonly WriteResult[]): void {
    const calls = this.writeCalls.get(this.phase) ?? [];
    calls.push({ docs: writes.length, changed: results.some((r) => r !== 'unchanged') });
    this.writeCalls.set(this.phase, calls);
  }

  /** Requests of the phases `phase` matches (of every label, or of those `label` matches). */
  total(phase: (p: string) => boolean, label: (l: string) => boolean = () => true): number {
    let n = 0;
    for (const [l, byPhase] of this.requests) if (label(l)) for (const [p, k] of byPhase) if (phase(p)) n += k;
    return n;
  }

  /** `write()` calls of the phases `phase` matches. */
  writes(phase: (p: string) => boolean): Array<{ docs: number; changed: boolean }> {
    return [...this.writeCalls].filter(([p]) => phase(p)).flatMap(([, calls]) => calls);
  }

  /**
   * What the phases `phase` matches would cost if every `write()` call took one request to read its
   * documents and one more to write them when any changed, all other requests as they are.
   */
  withOneReadOneWrite(phase: (p: string) => boolean): number {
    const calls = this.writes(phase);
    return this.total(phase, (l) => !l.startsWith('graph.write ')) + calls.length + calls.filter((c) => c.changed).length;
  }
}
