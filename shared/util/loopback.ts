/** True when the URL points at this machine: where local stand-ins run without TLS checks or credentials. */
export function isLoopback(url: string | URL): boolean {
  const host = (typeof url === 'string' ? new URL(url) : url).hostname;
  return host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
}

/** Plain HTTP on loopback: the only place a credential may be left out. */
export function isLoopbackHttp(url: string | URL): boolean {
  const u = typeof url === 'string' ? new URL(url) : url;
  return u.protocol === 'http:' && isLoopback(u);
}
