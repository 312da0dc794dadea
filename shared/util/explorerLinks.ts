/**
 * Links to the lineage explorer's views (`functions/explorer.ts`): chat answers, compliance reports
 * and gate failures point people at the picture of what they talk about. The view paths and their
 * query parameters are a public contract (the same parameters as the matching API routes). No
 * imports: the explorer's own bundle uses this module too.
 */
export const EXPLORER_VIEWS = ['search', 'lineage', 'endpoint', 'diff', 'impact', 'compliance'] as const;
export type ExplorerView = (typeof EXPLORER_VIEWS)[number];

/** `origin` is where the app's routes start (`https://host`, or `https://host/prefix` behind a gateway). */
export function explorerLink(origin: string, view: ExplorerView, params: Record<string, string | number | null | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') query.set(k, String(v));
  const qs = query.toString();
  return `${origin.replace(/\/+$/, '')}/api/explorer/${view}${qs ? `?${qs}` : ''}`;
}

/**
 * The app's public origin where no request gives it (a timer writing a report): PUBLIC_BASE_URL when
 * set (a gateway or custom domain), else the host name the platform gives the app (WEBSITE_HOSTNAME,
 * https; a loopback host name, as the local host and Core Tools set it, is http). Null when neither.
 * Both come validated from the settings (config.ts).
 */
export function appOrigin(settings: { PUBLIC_BASE_URL?: string; WEBSITE_HOSTNAME?: string }): string | null {
  if (settings.PUBLIC_BASE_URL) return settings.PUBLIC_BASE_URL.replace(/\/+$/, '');
  const host = settings.WEBSITE_HOSTNAME;
  if (!host) return null;
  return `${/^(?:localhost|127\.0\.0\.1)(?::\d+)?$/i.test(host) ? 'http' : 'https'}://${host}`;
}
