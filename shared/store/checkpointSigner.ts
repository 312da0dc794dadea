import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import type { CryptographyClient, CryptographyClientOptions, KeyClientOptions } from '@azure/keyvault-keys';
import { ieeeP1363ToDer, type CheckpointSigner } from '../tlog/checkpoint.js';

/**
 * The two checkpoint signers. Both sign ECDSA P-256 over SHA-256 of the note text, so a
 * checkpoint reads the same whichever signed it (signed-note type 0x02, see tlog/checkpoint.ts).
 */

/**
 * A P-256 private key in a PKCS #8 PEM file, created on first use (mode 0600). For the local host
 * and tests: in Azure the key lives in Key Vault and never leaves it.
 */
export class LocalKeyFileSigner implements CheckpointSigner {
  private key?: Promise<KeyObject>;

  constructor(
    readonly keyName: string,
    private readonly path: string,
  ) {}

  private privateKey(): Promise<KeyObject> {
    this.key ??= loadOrCreateKey(this.path);
    return this.key;
  }

  async publicKey(): Promise<Buffer> {
    return createPublicKey(await this.privateKey()).export({ format: 'der', type: 'spki' });
  }

  async sign(message: Buffer): Promise<Buffer> {
    return sign('sha256', message, { key: await this.privateKey(), dsaEncoding: 'der' });
  }
}

async function loadOrCreateKey(path: string): Promise<KeyObject> {
  try {
    return keyFrom(await readFile(path, 'utf8'), path);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await mkdir(dirname(path), { recursive: true });
  try {
    // `wx`: two processes starting at once must not each write a key; the loser reads the winner's.
    await writeFile(path, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
    return privateKey;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
    return keyFrom(await readFile(path, 'utf8'), path);
  }
}

function keyFrom(pem: string, path: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(`${path} must hold an EC P-256 private key (checkpoints are signed with ECDSA P-256)`);
  }
  return key;
}

/**
 * An EC P-256 key in Azure Key Vault, used through its sign operation (ES256 over a SHA-256
 * digest) with the app's managed identity, which needs the `keys/sign` and `keys/get` data
 * actions (the Key Vault Crypto User role). The key never leaves the vault.
 *
 * `keyId` may name a version or not; the version current at first use is pinned for the life of
 * the process, so the public key served always matches the signatures made.
 */
export class KeyVaultSigner implements CheckpointSigner {
  private bound?: Promise<{ client: CryptographyClient; spki: Buffer }>;

  constructor(
    readonly keyName: string,
    private readonly keyId: string,
    /** Loaded on first use: the managed identity is not needed until the first checkpoint. */
    private readonly credential: () => Promise<TokenCredential>,
    private readonly options: CryptographyClientOptions & KeyClientOptions = {},
  ) {}

  private bind(): Promise<{ client: CryptographyClient; spki: Buffer }> {
    this.bound ??= (async () => {
      const { CryptographyClient, KeyClient, parseKeyVaultKeyIdentifier } = await import('@azure/keyvault-keys');
      const { vaultUrl, name, version } = parseKeyVaultKeyIdentifier(this.keyId);
      const credential = await this.credential();
      const key = await new KeyClient(vaultUrl, credential, this.options).getKey(name, version ? { version } : {});
      const jwk = key.key;
      if (!jwk || !jwk.kty?.startsWith('EC') || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) {
        throw new Error(`Key Vault key ${this.keyId} must be an EC key on curve P-256 (checkpoints are signed with ES256)`);
      }
      const spki = createPublicKey({
        key: { kty: 'EC', crv: 'P-256', x: Buffer.from(jwk.x).toString('base64url'), y: Buffer.from(jwk.y).toString('base64url') },
        format: 'jwk',
      }).export({ format: 'der', type: 'spki' });
      return { client: new CryptographyClient(key, credential, this.options), spki };
    })().catch((error: unknown) => {
      this.bound = undefined; // let the next run try again
      throw error;
    });
    return this.bound;
  }

  async publicKey(): Promise<Buffer> {
    return (await this.bind()).spki;
  }

  async sign(message: Buffer): Promise<Buffer> {
    const { client } = await this.bind();
    const digest = createHash('sha256').update(message).digest();
    const { result } = await client.sign('ES256', digest);
    return ieeeP1363ToDer(result);
  }
}
