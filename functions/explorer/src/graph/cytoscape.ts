import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';

/**
 * Cytoscape.js, set up once for the page: the dagre layout registered, and its container rule
 * (`position: relative`) taken from styles.css. Cytoscape would otherwise add a <style> element to
 * the page, which the Content-Security-Policy (`style-src 'self'`) refuses; it skips that when an
 * element with its stylesheet id exists.
 */
cytoscape.use(dagre);

const STYLESHEET_ID = '__________cytoscape_stylesheet';
if (!document.getElementById(STYLESHEET_ID)) {
  const marker = document.createElement('meta');
  marker.id = STYLESHEET_ID;
  marker.name = 'cytoscape-container-style';
  marker.content = 'in styles.css';
  document.head.append(marker);
}

export default cytoscape;
