import { createHash, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { HttpRequest } from '@azure/functions';
import { DomainError } from '../errors.js';

/**
 * The request side of POST /api/v1/lineage: where the key may be, and the body. A Spark event with
 * its schema facets runs to hundreds of KB; an event is logged as one Cosmos document (2 MB at
 * most), so a request stays well under that.
 */
export const MAX_OPENLINEAGE_BODY = 1024 * 1024;

/** The key from `Authorization: Bearer` (the transport's api_key auth), `x-functions-key`, or `code=`. */
export function apiKeyFrom(request: HttpRequest): string | undefined {
  const bearer = /^bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  return bearer ?? request.headers.get('x-functions-key') ?? new URL(request.url).searchParams.get('code') ?? undefined;
}

/** Compared in constant time, over digests so lengths do not leak either. */
export function keyMatches(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

const gunzipAsync = promisify(gunzip);
const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * The JSON body, gzip-compressed or not: the HTTP transport's `compression: gzip` sends
 * `Content-Encoding: gzip`. A body declared gzip but not starting with gzip's magic bytes is read
 * as it is, in case something in front already decompressed it. The limit holds after decompression.
 */
export async function readJsonBody(request: HttpRequest): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_OPENLINEAGE_BODY) throw tooLarge();
  let bytes: Buffer = Buffer.from(await request.arrayBuffer());
  if (bytes.length > MAX_OPENLINEAGE_BODY) throw tooLarge();
  const encoding = (request.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding === 'gzip' && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) bytes = await decompressed(bytes);
  else if (encoding !== 'gzip' && encoding !== 'identity')
    throw new DomainError('invalid-request', `Content-Encoding ${encoding} is not supported; send gzip or no encoding`, {
      errors: [{ parameter: 'content-encoding', message: 'gzip or identity' }],
    });
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new DomainError('invalid-request', 'the body must be JSON: an OpenLineage event or an array of them', {
      errors: [{ parameter: 'body', message: 'not JSON' }],
    });
  }
  if (Array.isArray(body) && body.length === 0)
    throw new DomainError('invalid-request', 'the array holds no event', { errors: [{ parameter: 'body', message: 'empty array' }] });
  return body;
}

async function decompressed(bytes: Buffer): Promise<Buffer> {
  try {
    return await gunzipAsync(bytes, { maxOutputLength: MAX_OPENLINEAGE_BODY });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    throw new DomainError('invalid-request', 'the body is declared gzip but does not decompress', {
      errors: [{ parameter: 'body', message: 'not gzip' }],
    });
  }
}

function tooLarge(): DomainError {
  return new DomainError(
    'payload-too-large',
    `the body is larger than ${MAX_OPENLINEAGE_BODY} bytes (decompressed); send fewer events per request`,
  );
}
