import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Provenance } from '../../shared/graph/model.js';
import { normalize } from '../../shared/ingest/normalize.js';
import { documentsFor } from '../../shared/usecases/applyDelta.js';
import { prepareEvent } from '../../shared/usecases/captureEvent.js';
import { canonicalJson, jsonDepth, sha256Hex } from '../../shared/util/canonicalJson.js';
import { eventStream } from '../bench/stream.js';
import { nested } from '../helpers/hostile.js';

/**
 * The evidence log's hashes are what auditors recompute: the same received event must give the
 * same redacted body, the same content hash, the same identities to seal and the same graph
 * documents, whatever is done to make capture cheaper. The pinned file was written by the code
 * before the normalization CPU work (issue 17 item 5); any change to it must be a deliberate one.
 */
const KEY = 'evidence-hash-pin-key-0123456789';
const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;
const LEARNED_AT = '2024-06-01T00:00:00.000Z';

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? jsonFiles(join(dir, e.name)) : e.name.endsWith('.json') ? [join(dir, e.name)] : []))
    .sort();
}

/** Every object's keys in stored order, depth first: the body as written, less what the canonical hash covers. */
function keyOrder(value: unknown): string {
  let out = '';
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    const children = Object.values(v);
    if (!Array.isArray(v)) out += `${JSON.stringify(Object.keys(v))};`;
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return out;
}

/** Everything capture derives from one received event before its first write, as a short digest each. */
function pin(received: unknown, channel = 'eventgrid'): Record<string, unknown> {
  const { raw, hash, found } = prepareEvent(received, { redactionKey: KEY });
  const normalized = normalize(channel, raw, hash);
  let documents: unknown;
  if (normalized.status === 'project') {
    const prov: Provenance = {
      source: 'eventgrid',
      eventId: normalized.eventId,
      eventType: normalized.eventType,
      eventTime: normalized.time,
      instant: normalized.time,
      hash,
      learnedAt: LEARNED_AT,
    };
    documents = { ...documentsFor(normalized.delta, prov), enrich: normalized.enrich };
  } else documents = normalized;
  return {
    hash,
    // The stored body as written (key order included), which the canonical hash does not see.
    keyOrder: sha256Hex(keyOrder(raw)).slice(0, 24),
    depth: jsonDepth(raw),
    found: [...found].sort(([a], [b]) => (a < b ? -1 : 1)),
    status: normalized.status,
    normalized: sha256Hex(canonicalJson(documents)).slice(0, 24),
  };
}

/** Hostile and awkward shapes: depth, special keys, secrets across escapes, people in every kind of field. */
const HOSTILE: Record<string, unknown> = {
  'deep object 150': nested(150, { callerIpAddress: '203.0.113.70', note: 'owner jane.doe@contoso.com' }),
  'deep array 5000': nested(5000, ['AccountKey=abc123', 'x@contoso.com'], 'array'),
  'special keys': JSON.parse(
    '{"__proto__":{"createdBy":"Jane Doe"},"constructor":{"prototype":1},"toString":"x","hasOwnProperty":[1],"valueOf":{"__proto__":null}}',
  ) as unknown,
  'secrets in JSON text': {
    body: JSON.stringify({
      conn: 'AccountKey=abc"; rest',
      other: 'AccountKey=k\\n',
      sas: 'https://a.blob.core.windows.net/c?sv=2022-11-02&se=2024&sr=b&sp=r&sig=abcdefghijklmnop1234',
    }),
    conn: 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=shortKey1;EndpointSuffix=core.windows.net',
    password: 'hunter2',
    Pwd: ['p1', { nested: 'p2' }],
  },
  'people everywhere': {
    systemData: { createdBy: 'Jane.Doe@Contoso.com', lastModifiedBy: '7f1b2c3d-0000-4000-a000-000000000001', createdByType: 'User' },
    tags: [
      { key: 'owner', value: 'bob@contoso.com' },
      { key: 'mlflow.user', value: 'alice' },
      { key: 'x', value: 1 },
    ],
    identity: { type: 'SystemAssigned', principalId: 'p' },
    claims: { upn: 'carol@contoso.com', ipaddr: '10.0.0.1' },
    'jane.doe@contoso.com': 'a key that names a person',
    note: 'call +44 20 7946 0958 or card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, ssn 123-45-6789',
    ip6: 'fe80:0000:0000:0000:0202:b3ff:fe1e:8329',
    token: 'Bearer abcdefghijklmnopqrstuvwxyz0123456789',
    key: '-----BEGIN PRIVATE KEY-----\nMIIabc\n-----END PRIVATE KEY-----',
    version: '10.1.2.3',
    already: ['identity:0123456789abcdef01234567', 'redacted:0123456789abcdef01234567', 'pii:email:0123456789abcdef01234567'],
  },
  'numbers and unicode': {
    n: [-0, 1e21, 1.5e-7, 0.1, 123456789012345680000, -1],
    '\u00e9': 1,
    e: 2,
    '\ud83d\ude00': 3,
    '\uff41': 4,
    '': 5,
  },
  scalars: ['text', 12, true, null],
  'empty containers': { a: {}, b: [], c: [[], [{}]] },
};

describe('evidence hashes do not change (issue 17 item 5: normalization CPU)', () => {
  it('fixture events, the bench stream and hostile shapes keep their hashes, identities and graph documents', async () => {
    const pins: Record<string, unknown> = {};
    for (const file of jsonFiles(FIXTURES)) {
      const name = file.slice(FIXTURES.length);
      const content = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      pins[name] = pin(content);
      // Event Grid deliveries are arrays of events: each one is captured alone.
      if (name.startsWith('azureml-eventgrid/') && Array.isArray(content)) content.forEach((e, i) => (pins[`${name}[${i}]`] = pin(e)));
    }
    eventStream(300).forEach((e, i) => (pins[`stream[${i}] ${e.schema} ${e.type}`] = pin(e.raw)));
    for (const [name, value] of Object.entries(HOSTILE)) pins[`hostile: ${name}`] = pin(value);
    await expect(`${JSON.stringify(pins, null, 1)}\n`).toMatchFileSnapshot('./__pins__/evidenceHashes.json');
  });
});
