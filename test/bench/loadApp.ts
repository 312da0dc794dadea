import { pathToFileURL } from 'node:url';
import { FunctionsCore } from '../../infra/local/functionsCore.js';

/**
 * Child process of the module-load bench: provides the worker contract as the Functions worker
 * does, imports the app entry given as argument, and prints the milliseconds the import took (wall
 * clock, and CPU of this process, which a busy machine inflates less), and how many functions
 * registered, as JSON on one line.
 */
const entry = process.argv[2];
if (!entry) throw new Error('usage: loadApp.js ENTRY');
const core = new FunctionsCore(() => undefined);
core.install();
const cpu = process.cpuUsage();
const started = performance.now();
await import(pathToFileURL(entry).href);
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000, functions: core.functions.size }));
