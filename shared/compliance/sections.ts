/**
 * The report's sections, in the order every view lists them, and their titles. A module of its own
 * (no zod) so the explorer's bundle can name them without taking the report's schemas along.
 */
export const SECTIONS = [
  'lineageCompleteness',
  'deploymentTraceability',
  'driftAttribution',
  'retention',
  'pii',
  'integrity',
  'freshness',
  'servingMatchesTraining',
  'schemaDrift',
] as const;
export type SectionName = (typeof SECTIONS)[number];

export const SECTION_TITLES: Record<SectionName, string> = {
  lineageCompleteness: 'Lineage completeness',
  deploymentTraceability: 'Deployment traceability',
  driftAttribution: 'Drift attribution',
  retention: 'Retention compliance',
  pii: 'PII-free metadata',
  integrity: 'Evidence integrity',
  freshness: 'Freshness of what serves',
  servingMatchesTraining: 'Serving matches training',
  schemaDrift: 'Schema drift',
};
