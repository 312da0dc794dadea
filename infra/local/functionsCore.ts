import { randomUUID } from 'node:crypto';
import Module from 'node:module';
import { asError } from '../../shared/errors.js';

/**
 * The worker contract `@azure/functions` expects from the Azure Functions Node.js worker
 * (`require("@azure/functions-core")`). Providing it lets the local host receive every
 * `app.*` registration with its full binding metadata and invoke handlers through the library's
 * own programming model, so arguments are converted exactly as in Azure. Only what the library
 * calls is implemented: registerFunction, setProgrammingModel/getProgrammingModel,
 * registerHook and log.
 */
export interface RpcTypedData {
  string?: string;
  json?: string;
  bytes?: Uint8Array;
  http?: Record<string, unknown>;
  int?: number;
  double?: number;
  collectionString?: { string: string[] };
}

export interface BindingInfo {
  type: string;
  direction: 'in' | 'out';
  [option: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  bindings: Record<string, BindingInfo>;
  retryOptions?: unknown;
}

type Callback = (...args: unknown[]) => unknown;
type HookName = 'appStart' | 'appTerminate' | 'preInvocation' | 'postInvocation' | 'log';

interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], handler: Callback): Promise<unknown>;
  getResponse(
    context: unknown,
    result: unknown,
  ): Promise<{ returnValue?: RpcTypedData | null; outputData?: Array<{ name: string; data: RpcTypedData }> }>;
}
interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreContext: unknown): InvocationModel;
}

export interface RegisteredFunction {
  metadata: FunctionMetadata;
  callback: Callback;
  trigger: BindingInfo & { name: string };
}

class Disposable {
  #dispose?: () => void;
  constructor(dispose: () => void) {
    this.#dispose = dispose;
  }
  dispose(): void {
    this.#dispose?.();
    this.#dispose = undefined;
  }
  static from(...items: Array<{ dispose(): void }>): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
}

export type LogSink = (level: string, category: string, message: string, functionName?: string) => void;

export class FunctionsCore {
  readonly functions = new Map<string, RegisteredFunction>();
  private programmingModel?: ProgrammingModel;
  private readonly hooks: Record<HookName, Callback[]> = { appStart: [], appTerminate: [], preInvocation: [], postInvocation: [], log: [] };

  constructor(private readonly logSink: LogSink) {}

  /** The object `require("@azure/functions-core")` returns. */
  readonly api = {
    Disposable,
    registerFunction: (metadata: FunctionMetadata, callback: Callback) => {
      const trigger = Object.entries(metadata.bindings).find(([, b]) => /trigger$/i.test(b.type));
      if (!trigger) throw new Error(`function ${metadata.name} has no trigger binding`);
      if (this.functions.has(metadata.name)) throw new Error(`function ${metadata.name} is registered twice`);
      this.functions.set(metadata.name, { metadata, callback, trigger: { ...trigger[1], name: trigger[0] } });
      return new Disposable(() => this.functions.delete(metadata.name));
    },
    setProgrammingModel: (model: ProgrammingModel) => {
      this.programmingModel = model;
    },
    getProgrammingModel: () => this.programmingModel,
    registerHook: (name: HookName, callback: Callback) => {
      const list = this.hooks[name];
      if (!list) throw new Error(`unknown hook ${name}`);
      list.push(callback);
      return new Disposable(() => list.splice(list.indexOf(callback), 1));
    },
    log: (level: string, category: string, message: string) => this.logSink(level, category, message),
  };

  /** Makes `require("@azure/functions-core")` resolve to this instance, as the worker does. */
  install(): void {
    const moduleId = '@azure/functions-core';
    const fakePath = `\0local-host:${moduleId}`;
    const M = Module as unknown as {
      _resolveFilename: (request: string, ...rest: unknown[]) => string;
      _cache: Record<string, unknown>;
    };
    const original = M._resolveFilename;
    M._resolveFilename = function (request: string, ...rest: unknown[]) {
      return request === moduleId ? fakePath : original.call(this, request, ...rest);
    };
    M._cache[fakePath] = { id: fakePath, filename: fakePath, loaded: true, exports: this.api, children: [], paths: [] };
  }

  async runAppHooks(name: 'appStart' | 'appTerminate', functionAppDirectory: string): Promise<void> {
    for (const hook of this.hooks[name]) await hook({ hookData: {}, appHookData: {}, functionAppDirectory });
  }

  /**
   * Invokes a function the way the worker does: the programming model converts the host's typed
   * data into handler arguments, runs the handler and converts the result back.
   */
  async invoke(
    name: string,
    inputData: Array<{ name: string; data: RpcTypedData }>,
    triggerMetadata: Record<string, RpcTypedData> = {},
    retryContext?: { retryCount: number; maxRetryCount: number },
  ) {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`no function named ${name}`);
    if (!this.programmingModel) throw new Error('the app did not set a programming model');
    const invocationId = randomUUID();
    const coreContext = {
      invocationId,
      request: { invocationId, functionId: name, inputData, triggerMetadata, retryContext },
      metadata: { name, bindings: fn.metadata.bindings },
      state: undefined as string | undefined,
      log: (level: string, category: string, message: string) => this.logSink(level, category, message, name),
    };
    const model = this.programmingModel.getInvocationModel(coreContext);
    const { context, inputs } = await model.getArguments();
    const hookData = {};
    const pre = { hookData, appHookData: {}, invocationContext: context, inputs, functionCallback: fn.callback };
    coreContext.state = 'preInvocationHooks';
    for (const hook of this.hooks.preInvocation) await hook(pre);
    coreContext.state = 'invocation';
    let result: unknown;
    let error: unknown;
    try {
      result = await model.invokeFunction(context, pre.inputs, pre.functionCallback);
    } catch (e) {
      error = e;
    }
    const post = { hookData, appHookData: {}, invocationContext: context, inputs: pre.inputs, result, error };
    coreContext.state = 'postInvocationHooks';
    for (const hook of this.hooks.postInvocation) await hook(post);
    if (post.error) throw asError(post.error);
    return model.getResponse(context, post.result);
  }
}
