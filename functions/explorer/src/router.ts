import { useEffect, useState } from 'preact/hooks';
import { EXPLORER_VIEWS as VIEWS, explorerLink, type ExplorerView as View } from '../../../shared/util/explorerLinks.js';
import { API_BASE } from './api.js';

/**
 * One URL per view, so chat answers, reports and gate failures link straight to what they mean.
 * The paths and their query parameters are a contract: `/api/explorer/lineage?ref=…&workspace=…&
 * direction=…&depth=…`, `/endpoint?endpoint=…&at=…`, `/diff?from=…&to=…&workspace=…`,
 * `/impact?ref=…&workspace=…`, `/compliance`; `/api/explorer` opens on search.
 */
export type { View };

export const EXPLORER_BASE = `${API_BASE}explorer`;
/** Where the app's routes start on this page's origin: empty, or a gateway's path prefix. */
const APP_PREFIX = API_BASE.replace(/\/api\/$/, '');

export interface Route {
  view: View;
  params: URLSearchParams;
}

export function currentRoute(): Route {
  const rest = location.pathname.startsWith(EXPLORER_BASE) ? location.pathname.slice(EXPLORER_BASE.length) : '';
  const name = rest.replace(/^\/+|\/+$/g, '');
  const view = (VIEWS as readonly string[]).includes(name) ? (name as View) : 'search';
  return { view, params: new URLSearchParams(location.search) };
}

export function viewHref(view: View, params: Record<string, string | number | undefined | null> = {}): string {
  return explorerLink(APP_PREFIX, view, params);
}

const NAVIGATED = 'explorer:navigated';

export function navigate(href: string, replace = false): void {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  window.dispatchEvent(new Event(NAVIGATED));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATED, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATED, update);
    };
  }, []);
  return route;
}

/** Plain links stay links (open in a new tab, copy); a plain click on one of ours navigates in place. */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.target as Element | null)?.closest('a');
    if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
    const url = new URL(anchor.href, location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith(`${EXPLORER_BASE}/`)) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}
