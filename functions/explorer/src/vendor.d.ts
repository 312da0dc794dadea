// cytoscape-svg ships no types: a Cytoscape.js extension that adds `cy.svg(options)`.
declare module 'cytoscape-svg' {
  import type { Ext } from 'cytoscape';
  const extension: Ext;
  export default extension;
}
