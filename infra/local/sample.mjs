// `npm run sample`: sends a small, coherent set of Azure ML events for one workspace to the
// running local host (as Event Grid would) and prints the lineage answers built from them.
import { readFile } from 'node:fs/promises';

const base = process.env.LINEAGE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 7071}`;
const events = JSON.parse(await readFile(new URL('./sample-events.json', import.meta.url), 'utf8'));
const workspace = events[0].topic;

const delivery = await fetch(`${base}/runtime/webhooks/eventgrid?functionName=captureEventGrid`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
  body: JSON.stringify(events),
}).catch((error) => {
  console.error(`Cannot reach the local host at ${base} (${error.cause?.code ?? error.message}). Start it with "npm start" first.`);
  process.exit(1);
});
console.log(`Delivered ${events.length} events: HTTP ${delivery.status}`);

for (const [title, params] of [
  ['Model credit-default:3, upstream and downstream', { ref: 'azureml:credit-default:3', workspace, direction: 'both' }],
  ['Training job credit-train-20240501, upstream', { ref: `${workspace}/jobs/credit-train-20240501`, direction: 'upstream' }],
]) {
  const res = await fetch(`${base}/api/lineage?${new URLSearchParams(params)}`);
  const answer = await res.json();
  console.log(`\n${title} (HTTP ${res.status}):`);
  if (!res.ok) {
    console.log(JSON.stringify(answer, null, 2));
    continue;
  }
  const label = Object.fromEntries(answer.nodes.map((n) => [n.id, `${n.kind} ${n.label}${n.placeholder ? ' (referenced, not yet seen)' : ''}`]));
  for (const n of answer.nodes) console.log(`  node  ${label[n.id]}`);
  for (const e of answer.edges) console.log(`  edge  ${label[e.from]} --${e.kind}--> ${label[e.to]}`);
}
console.log(`\nFull JSON: curl '${base}/api/lineage?${new URLSearchParams({ ref: 'azureml:credit-default:3', workspace, direction: 'both' })}'`);
