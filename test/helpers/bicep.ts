import { readFileSync } from 'node:fs';

/**
 * A small reader for the Bicep files in infra/, for tests. No Bicep compiler can be installed
 * where this project is developed, so the tests read the declarations they check from the text.
 * It understands only what the templates here are written with, and says so when a file stops
 * matching that shape (rather than returning less):
 *   - top-level `param`, `var`, `resource`, `module` and `output` declarations, one per line start;
 *   - resource types written `'Namespace/type@api-version'`, child types written `'name'`;
 *   - the function app's `appSettings: [ … ]` list with one `{ name: 'X', value: EXPR }` per line.
 */

export interface BicepFile {
  /** The text with comments removed (strings are kept intact). */
  text: string;
  params: Map<string, { type: string; defaultValue?: string }>;
  /** Single-line `var NAME = EXPR` declarations. */
  vars: Map<string, string>;
  outputs: Set<string>;
  /** Symbolic name → fully qualified type and API version (top-level resources only). */
  resources: Map<string, { type: string; apiVersion: string; existing: boolean }>;
  modules: Map<string, string>;
  /** Every `'Type@version'` literal in the file, nested resources and modules included. */
  apiVersions: Array<{ type: string; apiVersion: string }>;
}

/** Removes `//` and `/* … *\/` comments outside single-quoted strings (Bicep's only string quote). */
export function stripComments(source: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') out += source[++i] ?? '';
      else if (c === "'") inString = false;
      continue;
    }
    if (c === "'") {
      // ''' starts a multi-line string: copy it whole.
      if (source.startsWith("'''", i)) {
        const end = source.indexOf("'''", i + 3);
        out += source.slice(i, end + 3);
        i = end + 2;
        continue;
      }
      inString = true;
      out += c;
    } else if (source.startsWith('//', i)) {
      while (i < source.length && source[i] !== '\n') i++;
      out += '\n';
    } else if (source.startsWith('/*', i)) {
      i = source.indexOf('*/', i + 2) + 1;
    } else out += c;
  }
  return out;
}

export function readBicep(path: string): BicepFile {
  const text = stripComments(readFileSync(path, 'utf8'));
  const params = new Map<string, { type: string; defaultValue?: string }>();
  for (const m of text.matchAll(/^param (\w+) (\w+)(?: = (.+))?$/gm)) {
    params.set(m[1] as string, { type: m[2] as string, ...(m[3] !== undefined ? { defaultValue: m[3] } : {}) });
  }
  const vars = new Map([...text.matchAll(/^var (\w+) = (.+)$/gm)].map((m) => [m[1] as string, (m[2] as string).trim()]));
  const outputs = new Set([...text.matchAll(/^output (\w+) /gm)].map((m) => m[1] as string));
  const resources = new Map<string, { type: string; apiVersion: string; existing: boolean }>();
  for (const m of text.matchAll(/^resource (\w+) '([^'@]+)@([^']+)'( existing)?/gm)) {
    resources.set(m[1] as string, { type: m[2] as string, apiVersion: m[3] as string, existing: m[4] !== undefined });
  }
  const modules = new Map([...text.matchAll(/^module (\w+) '([^']+)'/gm)].map((m) => [m[1] as string, m[2] as string]));
  const apiVersions = [...text.matchAll(/'([A-Za-z]+\.[A-Za-z.]+\/[A-Za-z/]+)@([^']+)'/g)].map((m) => ({
    type: m[1] as string,
    apiVersion: m[2] as string,
  }));
  return { text, params, vars, outputs, resources, modules, apiVersions };
}

/**
 * The body of a top-level resource declaration: from its `resource NAME` line to the closing
 * brace (or, for a loop, bracket) at the start of a line.
 */
export function resourceBody(file: BicepFile, name: string): string {
  const start = file.text.search(new RegExp(`^resource ${name} `, 'm'));
  if (start < 0) throw new Error(`no resource ${name}`);
  const end = file.text.slice(start).search(/\n[}\]]/);
  return file.text.slice(start, start + end + 2);
}

/** `{ name: 'X', value: EXPR }` entries of the function app's appSettings list, in order. */
export function appSettings(file: BicepFile): Array<{ name: string; value: string }> {
  const open = file.text.indexOf('appSettings: [');
  if (open < 0) throw new Error('no appSettings list');
  const close = file.text.indexOf('\n      ]', open);
  const lines = file.text
    .slice(open + 'appSettings: ['.length, close)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.map((line) => {
    const m = /^\{ name: '([^']+)', value: (.+) \}$/.exec(line);
    if (!m) throw new Error(`appSettings entry not in the one-line form the reader expects: ${line}`);
    return { name: m[1] as string, value: m[2] as string };
  });
}

/**
 * A Bicep string literal's value, directly or through a `var` holding one; undefined when the
 * expression is anything else (interpolations, properties, function calls).
 */
export function literal(expr: string, file?: BicepFile): string | undefined {
  const e = expr.trim();
  const m = /^'([^'$]*)'$/.exec(e);
  if (m) return m[1];
  const v = /^\w+$/.test(e) ? file?.vars.get(e) : undefined;
  return v === undefined ? undefined : literal(v, file);
}
