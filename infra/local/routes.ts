/**
 * Azure Functions route templates (`lineage`, `requests/{requestId}`, `items/{id:int?}`,
 * `files/{*path}`) matched against a request path below the route prefix.
 */
export interface CompiledRoute {
  template: string;
  match(path: string): Record<string, string> | undefined;
}

export function compileRoute(template: string): CompiledRoute {
  const names: string[] = [];
  const segments = template.replace(/^\/+|\/+$/g, '').split('/');
  const pattern = segments
    .map((segment) => {
      const param = /^\{(\*)?([A-Za-z_][\w]*)(?::[^}?]+)?(\?)?\}$/.exec(segment);
      if (!param) return `/${escape(segment)}`;
      const [, catchAll, name = '', optional] = param;
      names.push(name);
      if (catchAll) return `(?:/(.*))?`;
      return optional ? `(?:/([^/]+))?` : `/([^/]+)`;
    })
    .join('');
  const re = new RegExp(`^${pattern}/?$`, 'i');
  return {
    template,
    match(path: string) {
      const m = re.exec(path.startsWith('/') ? path : `/${path}`);
      if (!m) return undefined;
      const params: Record<string, string> = {};
      names.forEach((n, i) => {
        const v = m[i + 1];
        if (v !== undefined) params[n] = decodeURIComponent(v);
      });
      return params;
    },
  };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
