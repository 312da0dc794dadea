import { constants, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * A stand-in for the Azure Key Vault keys data plane, as much of it as checkpoint signing and
 * identity sealing use: Get Key (`GET /keys/{name}[/{version}]`), Sign (`POST /keys/{name}/{version}/sign`,
 * ES256 over a base64url digest, answering `{ kid, value }` with r || s) on an EC P-256 key, and Wrap
 * Key / Unwrap Key (`POST …/wrapkey`, `…/unwrapkey`, RSA-OAEP-256, `{ kid, value }`) on an RSA key. Like the service it answers an
 * unauthenticated request with 401 and a Bearer challenge, which the SDK's challenge policy
 * follows. HTTPS on loopback with the embedded Cosmos server's self-signed certificate (the SDK
 * sends tokens over TLS only). Shapes: learn.microsoft.com/rest/api/keyvault/keys/sign/sign and
 * .../keys/get-key/get-key, .../keys/wrap-key/wrap-key, .../keys/unwrap-key/unwrap-key.
 */
export interface KeyVaultStandIn {
  url: string;
  keyName: string;
  version: string;
  /** The key's public half, to compare with what the signer exports. */
  publicKey: KeyObject;
  /** Sign requests answered, and the algorithms asked for. */
  signs: string[];
  /** Wrap and unwrap requests answered, as `wrapkey ALG` / `unwrapkey ALG`. */
  wraps: string[];
  stop(): Promise<void>;
}

export async function startKeyVaultStandIn(keyName = 'checkpoints', kty: 'EC' | 'RSA' = 'EC'): Promise<KeyVaultStandIn> {
  const require = createRequire(import.meta.url);
  const certDir = dirname(require.resolve('@vercel/cosmosdb-server/package.json'));
  const { privateKey, publicKey } =
    kty === 'EC' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const secret =
    kty === 'EC' ? BigInt(`0x${Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url').toString('hex')}`) : 0n;
  const version = randomBytes(16).toString('hex');
  const signs: string[] = [];
  const wraps: string[] = [];
  const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
  let base = '';
  const kid = () => `${base}/keys/${keyName}/${version}`;

  const server = createServer(
    { cert: readFileSync(join(certDir, 'cert.pem')), key: readFileSync(join(certDir, 'key.pem')) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
          res.end(JSON.stringify(body));
        };
        const url = new URL(req.url ?? '/', base);
        if (!url.searchParams.get('api-version')) return send(400, { error: { code: 'BadParameter', message: 'api-version is required' } });
        if (!req.headers.authorization?.startsWith('Bearer ')) {
          return send(
            401,
            { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } },
            {
              'www-authenticate':
                'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"',
            },
          );
        }
        const parts = url.pathname.split('/').filter(Boolean);
        // A versionless operation (`/keys/{name}/wrapkey`, or `//wrapkey`) acts on the current version.
        if (parts.length === 3 && (parts[2] === 'wrapkey' || parts[2] === 'unwrapkey')) parts.splice(2, 0, version);
        if (parts[0] !== 'keys' || parts[1] !== keyName || (parts[2] !== undefined && parts[2] !== version)) {
          return send(404, {
            error: { code: 'KeyNotFound', message: `A key with (name/id) ${parts[1] ?? ''} was not found in this key vault.` },
          });
        }
        if (req.method === 'GET' && parts.length <= 3) {
          return send(200, {
            key:
              kty === 'EC'
                ? { kid: kid(), kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, key_ops: ['sign', 'verify'] }
                : { kid: kid(), kty: 'RSA', n: jwk.n, e: jwk.e, key_ops: ['wrapKey', 'unwrapKey'] },
            attributes: { enabled: true, created: 1_700_000_000, updated: 1_700_000_000, recoveryLevel: 'Recoverable+Purgeable' },
          });
        }
        if (req.method === 'POST' && parts[3] === 'sign') {
          const { alg, value } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alg?: string; value?: string };
          signs.push(alg ?? '');
          const digest = Buffer.from(value ?? '', 'base64url');
          if (alg !== 'ES256' || digest.length !== 32) {
            return send(400, { error: { code: 'BadParameter', message: 'ES256 takes a 32-byte SHA-256 digest' } });
          }
          // The service signs the digest as given; Node's crypto always hashes first, hence the arithmetic below.
          return send(200, { kid: kid(), value: signP256Digest(secret, digest).toString('base64url') });
        }
        if (req.method === 'POST' && kty === 'RSA' && (parts[3] === 'wrapkey' || parts[3] === 'unwrapkey')) {
          const { alg, value } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alg?: string; value?: string };
          wraps.push(`${parts[3]} ${alg ?? ''}`);
          if (alg !== 'RSA-OAEP-256')
            return send(400, { error: { code: 'BadParameter', message: 'the stand-in wraps with RSA-OAEP-256 only' } });
          const input = Buffer.from(value ?? '', 'base64url');
          try {
            const out =
              parts[3] === 'wrapkey'
                ? publicEncrypt({ key: publicKey, ...oaep }, input)
                : privateDecrypt({ key: privateKey, ...oaep }, input);
            return send(200, { kid: kid(), value: out.toString('base64url') });
          } catch {
            return send(400, { error: { code: 'BadParameter', message: 'Unwrap failed: the value was not wrapped by this key.' } });
          }
        }
        return send(405, { error: { code: 'BadRequest', message: 'not supported by the stand-in' } });
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    keyName,
    version,
    publicKey: createPublicKey(privateKey),
    signs,
    wraps,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// NIST P-256 (FIPS 186-4 D.1.2.3), affine coordinates; slow and not constant-time, for tests only.
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
const G: Point = [
  0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
];
type Point = [bigint, bigint] | null;

const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;
function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  return mod(s0, m);
}
function add(p1: Point, p2: Point): Point {
  if (!p1) return p2;
  if (!p2) return p1;
  const [x1, y1] = p1;
  const [x2, y2] = p2;
  if (x1 === x2 && mod(y1 + y2, P) === 0n) return null;
  const l = x1 === x2 ? mod((3n * x1 * x1 + A) * inverse(2n * y1, P), P) : mod((y2 - y1) * inverse(x2 - x1, P), P);
  const x3 = mod(l * l - x1 - x2, P);
  return [x3, mod(l * (x1 - x3) - y1, P)];
}
function multiply(k: bigint, point: Point): Point {
  let result: Point = null;
  for (let addend = point; k > 0n; k >>= 1n, addend = add(addend, addend)) if (k & 1n) result = add(result, addend);
  return result;
}

/** ECDSA signature (r || s, 64 bytes) of a 32-byte digest, as Key Vault's ES256 returns it. */
function signP256Digest(d: bigint, digest: Buffer): Buffer {
  const z = BigInt(`0x${digest.toString('hex')}`);
  for (;;) {
    const k = mod(BigInt(`0x${randomBytes(40).toString('hex')}`), N - 1n) + 1n;
    const r = mod((multiply(k, G) as [bigint, bigint])[0], N);
    const s = mod(inverse(k, N) * (z + r * d), N);
    if (r !== 0n && s !== 0n) return Buffer.from(r.toString(16).padStart(64, '0') + s.toString(16).padStart(64, '0'), 'hex');
  }
}
