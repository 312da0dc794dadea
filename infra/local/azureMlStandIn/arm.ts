import { toInstant } from '../../../shared/util/time.js';

/**
 * ARM envelope helpers shared by the sample workspace, the state and the server: resource ids,
 * `type` strings, timestamps in the service's format and the JSON the service writes.
 */
export const API_VERSION = '2025-12-01';
export const PROVIDER = 'Microsoft.MachineLearningServices';

export interface SystemData {
  createdAt: string;
  createdBy?: string;
  createdByType?: string;
  lastModifiedAt?: string;
  lastModifiedBy?: string;
  lastModifiedByType?: string;
}

/** A GET body: `{id, name, type, properties, systemData}`, plus location/tags/kind/identity/sku on tracked resources. */
export interface ArmResource {
  id: string;
  name: string;
  type: string;
  properties: Record<string, unknown>;
  systemData: SystemData;
  [extra: string]: unknown;
}

/**
 * `Microsoft.MachineLearningServices/workspaces/models/versions` from
 * `.../providers/Microsoft.MachineLearningServices/workspaces/ws/models/m/versions/3`: the
 * collection segments after the provider, i.e. every other segment.
 */
export function armTypeOf(id: string): string {
  const segments = id.split('/').filter((s) => s.length > 0);
  const at = segments.findIndex((s) => s.toLowerCase() === 'providers');
  const provider = segments[at + 1];
  if (at < 0 || provider === undefined) throw new Error(`not a provider resource id: ${id}`);
  const collections = segments.slice(at + 2).filter((_, i) => i % 2 === 0);
  return [provider, ...collections].join('/');
}

/** Lookup key of a path or id: ARM compares ids case-insensitively, so the store does too. */
export function resourceKey(path: string): string {
  return path.replace(/\/+$/, '').toLowerCase();
}

export function parentKey(key: string): string {
  return key.slice(0, key.lastIndexOf('/'));
}

/**
 * The service writes 7 fractional digits and an explicit offset (`2024-05-01T09:02:44.4671910+00:00`);
 * JavaScript dates keep milliseconds, so the last four digits are zeros.
 */
export function armTime(date: Date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$10000+00:00');
}

/** `at` arguments of the mutation helpers: any ISO instant, kept as written so tests can pin exact text. */
export function resolveTime(at?: string | Date): string {
  if (at === undefined) return armTime();
  if (at instanceof Date) return armTime(at);
  if (toInstant(at) === undefined) throw new Error(`not an ISO 8601 instant: "${at}"`);
  return at;
}

/** Builds an envelope whose `name` is the last id segment (the version, for versions) and `type` follows the id. */
export function armResource(
  id: string,
  properties: Record<string, unknown>,
  systemData: SystemData,
  extra: Record<string, unknown> = {},
): ArmResource {
  const name = id.slice(id.lastIndexOf('/') + 1);
  return { id, name, type: armTypeOf(id), properties, systemData, ...extra };
}

/**
 * JSON as the service serialises it (System.Text.Json): `+` inside strings is escaped as
 * `\u002B` (recorded `"...5337218\u002B00:00"`). Parsers see the same value; raw-text matchers do not.
 */
export function armJson(value: unknown): string {
  return JSON.stringify(value).replace(/"(?:[^"\\]|\\.)*"/g, (s) => s.replaceAll('+', '\\u002B'));
}

export interface ArmError {
  error: { code: string; message: string; details: unknown[]; additionalInfo: unknown[] };
}

export function armError(code: string, message: string): ArmError {
  return { error: { code, message, details: [], additionalInfo: [] } };
}
