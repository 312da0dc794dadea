import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { forgetKey, onKeyChange, storedKey } from './api.js';
import { KeyDialog } from './KeyDialog.js';
import { interceptLinks, useRoute, viewHref, type View } from './router.js';
import { ComplianceView } from './views/ComplianceView.js';
import { DiffView } from './views/DiffView.js';
import { EndpointView } from './views/EndpointView.js';
import { ImpactView } from './views/ImpactView.js';
import { LineageView } from './views/LineageView.js';
import { SearchView } from './views/SearchView.js';

/** The explorer's shell: navigation, the key dialog, and the view the URL names. */
const NAV: Array<[View, string]> = [
  ['search', 'Search'],
  ['lineage', 'Lineage'],
  ['endpoint', 'Endpoint'],
  ['diff', 'Compare'],
  ['impact', 'Impact'],
  ['compliance', 'Compliance'],
];

function KeyStatus() {
  const [key, setKey] = useState(storedKey);
  useEffect(() => onKeyChange(() => setKey(storedKey())), []);
  if (!key) return null;
  return (
    <span class="key-status">
      Function key set for this tab.{' '}
      <button type="button" onClick={forgetKey}>
        Forget it
      </button>
    </span>
  );
}

function App() {
  const { view, params } = useRoute();
  useEffect(() => {
    const title = NAV.find(([v]) => v === view)?.[1] ?? 'Search';
    document.title = `${title} · Lineage explorer`;
  }, [view]);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Lineage explorer</span>
        <nav aria-label="Views">
          {NAV.map(([v, label]) => (
            <a key={v} href={viewHref(v)} aria-current={v === view ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <KeyStatus />
      </header>
      <main id="main" key={view}>
        {view === 'search' && <SearchView params={params} />}
        {view === 'lineage' && <LineageView params={params} />}
        {view === 'endpoint' && <EndpointView params={params} />}
        {view === 'diff' && <DiffView params={params} />}
        {view === 'impact' && <ImpactView params={params} />}
        {view === 'compliance' && <ComplianceView />}
      </main>
      <KeyDialog />
    </>
  );
}

const root = document.getElementById('app') as HTMLElement;
root.replaceChildren();
interceptLinks(document.body);
render(<App />, root);
