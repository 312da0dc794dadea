import type { Css } from 'cytoscape';
import type { NodeKind } from '../../../shared/graph/nodeKinds.js';

/**
 * How each node kind is drawn. Every kind has its own shape as well as its own colour, and its name
 * is written under the label, so colour never carries the meaning alone. Colours are from the
 * Okabe-Ito palette (distinguishable with the common colour-vision deficiencies) plus greys.
 */
export interface KindStyle {
  shape: Css.NodeShape;
  /** The shape in words, for the legend's text. */
  shapeName: string;
  color: string;
  /** What the kind is, for the legend. */
  title: string;
}

export const KIND_STYLES: Record<NodeKind, KindStyle> = {
  job: { shape: 'round-rectangle', shapeName: 'rounded rectangle', color: '#E69F00', title: 'job (run or pipeline step)' },
  model: { shape: 'hexagon', shapeName: 'hexagon', color: '#0072B2', title: 'model version' },
  data: { shape: 'barrel', shapeName: 'barrel', color: '#009E73', title: 'data asset version' },
  dataset: { shape: 'bottom-round-rectangle', shapeName: 'rectangle rounded below', color: '#66C2A5', title: 'dataset (SDK v1)' },
  environment: { shape: 'octagon', shapeName: 'octagon', color: '#CC79A7', title: 'environment version' },
  code: { shape: 'tag', shapeName: 'tag', color: '#56B4E9', title: 'code version' },
  component: { shape: 'cut-rectangle', shapeName: 'cut rectangle', color: '#999999', title: 'component version' },
  commit: { shape: 'diamond', shapeName: 'diamond', color: '#D55E00', title: 'git commit' },
  compute: { shape: 'rectangle', shapeName: 'rectangle', color: '#777777', title: 'compute' },
  datastore: { shape: 'rhomboid', shapeName: 'rhomboid', color: '#8FBC8F', title: 'datastore' },
  endpoint: { shape: 'star', shapeName: 'star', color: '#F0E442', title: 'online endpoint' },
  deployment: { shape: 'pentagon', shapeName: 'pentagon', color: '#B8860B', title: 'deployment' },
  service: { shape: 'round-tag', shapeName: 'rounded tag', color: '#A0522D', title: 'web service (SDK v1)' },
  drift: { shape: 'triangle', shapeName: 'triangle', color: '#C0392B', title: 'drift signal' },
  storage: { shape: 'ellipse', shapeName: 'ellipse', color: '#BBBBBB', title: 'storage location' },
  approval: { shape: 'heptagon', shapeName: 'heptagon', color: '#000000', title: 'approval decision' },
};

const FALLBACK: KindStyle = { shape: 'vee', shapeName: 'vee', color: '#555555', title: 'other' };

export function kindStyle(kind: string): KindStyle {
  return (KIND_STYLES as Record<string, KindStyle | undefined>)[kind] ?? FALLBACK;
}

/** Edges read "FROM is the KIND of TO"; the text equivalent spells that out. */
export const EDGE_READINGS: Record<string, string> = {
  inputOf: 'is an input of',
  produced: 'produced',
  codeOf: 'is the code of',
  environmentOf: 'is the environment of',
  computeOf: 'is the compute of',
  commitOf: 'is the commit of',
  parentOf: 'is the parent of',
  deployedTo: 'is deployed to',
  serves: 'serves',
  driftTargetOf: 'is the drift target of',
  driftBaselineOf: 'is the drift baseline of',
  approvalOf: 'is a decision about',
  copiedTo: 'is copied to',
  componentOf: 'is the component of',
};

/** Kinds the impact route accepts as a root (Q5). */
export const IMPACT_ROOTS = new Set(['data', 'dataset', 'environment', 'code', 'commit', 'model']);
