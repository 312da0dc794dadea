import {
  app,
  type EventGridFunctionOptions,
  type EventHubFunctionOptions,
  type StorageQueueFunctionOptions,
  type TimerFunctionOptions,
} from '@azure/functions';
import { hostAuthLevel, type HttpRoute } from './route.js';

/**
 * Every function of the app is a value: a route from `route()`/`rawRoute()`, or a trigger from the
 * helpers below. Declaring one registers nothing; functions/index.ts lists them all and passes
 * the list to `registerFunctions`, the only place that calls `app.*`.
 */
export type TriggerFunction =
  | { kind: 'eventGrid'; name: string; options: EventGridFunctionOptions<unknown> }
  | { kind: 'eventHub'; name: string; options: EventHubFunctionOptions }
  | { kind: 'storageQueue'; name: string; options: StorageQueueFunctionOptions }
  | { kind: 'timer'; name: string; options: TimerFunctionOptions };

export type AppFunction = HttpRoute | TriggerFunction;

export const eventGridFunction = (name: string, options: EventGridFunctionOptions<unknown>): TriggerFunction => ({
  kind: 'eventGrid',
  name,
  options,
});
export const eventHubFunction = (name: string, options: EventHubFunctionOptions): TriggerFunction => ({ kind: 'eventHub', name, options });
export const storageQueueFunction = (name: string, options: StorageQueueFunctionOptions): TriggerFunction => ({
  kind: 'storageQueue',
  name,
  options,
});
export const timerFunction = (name: string, options: TimerFunctionOptions): TriggerFunction => ({ kind: 'timer', name, options });

const KINDS = new Set<unknown>(['http', 'eventGrid', 'eventHub', 'storageQueue', 'timer']);

/** True for a declaration made with the helpers above or `route()`/`rawRoute()`. */
export function isAppFunction(value: unknown): value is AppFunction {
  return typeof value === 'object' && value !== null && KINDS.has((value as { kind?: unknown }).kind);
}

let registered: readonly HttpRoute[] = [];

/** The routes `registerFunctions` registered: what the OpenAPI document describes. */
export function registeredRoutes(): readonly HttpRoute[] {
  return registered;
}

export function registerFunctions(functions: readonly AppFunction[]): void {
  const names = new Set<string>();
  for (const f of functions) {
    if (names.has(f.name)) throw new Error(`function ${f.name} is listed twice`);
    names.add(f.name);
  }
  registered = functions.filter((f) => f.kind === 'http');
  for (const f of functions) {
    switch (f.kind) {
      case 'http':
        app.http(f.name, { route: f.spec.route, methods: [f.spec.method], authLevel: hostAuthLevel(f.spec), handler: f.handler });
        break;
      case 'eventGrid':
        app.eventGrid(f.name, f.options);
        break;
      case 'eventHub':
        app.eventHub(f.name, f.options);
        break;
      case 'storageQueue':
        app.storageQueue(f.name, f.options);
        break;
      case 'timer':
        app.timer(f.name, f.options);
        break;
    }
  }
}
