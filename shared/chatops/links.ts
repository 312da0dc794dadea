/**
 * "Full JSON" links: the HTTP route that answers the same question. The link carries no function
 * key (a chat channel is no place for one); opening it needs the key or an Entra sign-in. Answers
 * also link to the explorer's view of the same thing (util/explorerLinks.ts).
 */
export function apiLink(base: string, route: string, params: Record<string, string | number | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') query.set(k, String(v));
  const qs = query.toString();
  return `${base.replace(/\/+$/, '')}/api/${route}${qs ? `?${qs}` : ''}`;
}

/** PUBLIC_BASE_URL when set (the app sits behind a gateway or custom domain), else the request's own origin. */
export function linkBase(publicBaseUrl: string | undefined, requestUrl: string): string {
  if (publicBaseUrl) return publicBaseUrl;
  try {
    return new URL(requestUrl).origin;
  } catch {
    return '';
  }
}
