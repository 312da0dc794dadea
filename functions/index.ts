/**
 * The function app's entry point (package.json "main"). Importing a module registers its
 * function; Azure and the local host both load this one list.
 */
import './captureEventGrid.js';
import './health.js';
import './lineage.js';
import './replay.js';
