/** The kinds of node in the graph. A module without imports, so the explorer's bundle can use it. */
export const NODE_KINDS = [
  'job',
  'model',
  'data',
  'dataset',
  'environment',
  'code',
  'component',
  'commit',
  'compute',
  'datastore',
  'endpoint',
  'deployment',
  'service',
  'drift',
  'storage', // a location in storage (datastore path or URL): how unregistered job outputs feed later jobs
  'approval', // a decision about a model version: who, when, under which ticket, from which source
] as const;
export type NodeKind = (typeof NODE_KINDS)[number];
