import { startAzureMlStandIn } from './server.js';

/**
 * `node dist/infra/local/azureMlStandIn/cli.js [--port N]` (or LOCAL_AZUREML_PORT): runs the
 * stand-in as its own process, for the quick start or a test driving it over `/_standin/...`.
 * Prints the setting to use; Ctrl-C stops it.
 */
function portArg(): number {
  const i = process.argv.indexOf('--port');
  const raw = i >= 0 ? process.argv[i + 1] : process.env.LOCAL_AZUREML_PORT;
  if (raw === undefined || raw === '') return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`port must be 0-65535 (0 picks a free one), got "${raw}"`);
  return n;
}

const standIn = await startAzureMlStandIn({ port: portArg() });
console.log(
  `Azure ML management stand-in listening.\n  AZUREML_MANAGEMENT_ENDPOINT=${standIn.url}\n  Control routes: ${standIn.url}/_standin\nPress Ctrl-C to stop.`,
);
const stop = () => void standIn.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
