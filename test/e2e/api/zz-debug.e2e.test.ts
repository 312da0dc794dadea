import { afterAll, beforeAll, it } from 'vitest';
import { S, seedSample, startApi, type Api } from './harness.js';
let api: Api;
beforeAll(async () => { api = await startApi(); await seedSample(api); });
afterAll(async () => { await api?.stop(); });
it('debug', async () => {
  const snap = async () => (await api.get('/api/lineage', { ref: S.models.v3, direction: 'both', depth: '25' })).body as { nodes: Array<{ id: string; label: string; properties: unknown; history: unknown; provenance: unknown }>; edges: Array<{ id: string; provenance: unknown; history: unknown; properties: unknown }> };
  const a = await snap();
  const r = await api.post('/api/replay', '', { key: 'admin' });
  console.log('REPLAY', r.text);
  const b = await snap();
  for (const n of a.nodes) { const m = b.nodes.find((x) => x.id === n.id); for (const k of ['properties', 'history', 'provenance'] as const) if (JSON.stringify(n[k]) !== JSON.stringify(m?.[k])) console.log('DIFF', n.label, k, JSON.stringify(n[k]).slice(0, 600), '\n=>', JSON.stringify(m?.[k]).slice(0, 600)); }
  for (const e of a.edges) { const m = b.edges.find((x) => x.id === e.id); if (JSON.stringify(e) !== JSON.stringify(m)) console.log('EDIFF', e.id, JSON.stringify(e.provenance).slice(0, 400), '\n=>', JSON.stringify(m?.provenance).slice(0, 400)); }
  console.log('counts', a.nodes.length, b.nodes.length, a.edges.length, b.edges.length);
});
