import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import type { CryptographyClient, CryptographyClientOptions } from '@azure/keyvault-keys';
import type { KeyWrapper } from '../privacy/envelope.js';

/**
 * The two keepers of the key that wraps identity data keys: a Key Vault key (wrapKey/unwrapKey,
 * RSA-OAEP-256, with the app's managed identity) in Azure, a local key file otherwise.
 */

/** A 256-bit key in a file (base64, mode 0600), created on first use; wraps with AES-256-GCM. For the local host and tests. */
export class LocalKeyFileWrapper implements KeyWrapper {
  private key?: Promise<{ key: Buffer; id: string }>;

  constructor(private readonly path: string) {}

  private load(): Promise<{ key: Buffer; id: string }> {
    this.key ??= loadOrCreate(this.path).then((key) => ({
      key,
      id: `local:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`,
    }));
    return this.key;
  }

  async wrap(dataKey: Buffer): Promise<{ wrapped: Buffer; alg: string; keyId: string }> {
    const { key, id } = await this.load();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return { wrapped: Buffer.concat([iv, cipher.getAuthTag(), body]), alg: 'A256GCM-LOCAL', keyId: id };
  }

  async unwrap(wrapped: Buffer, alg: string, keyId: string): Promise<Buffer> {
    const { key, id } = await this.load();
    if (alg !== 'A256GCM-LOCAL' || keyId !== id)
      throw new Error(`the data key was wrapped by ${keyId} (${alg}), not by the local key file ${id}`);
    const decipher = createDecipheriv('aes-256-gcm', key, wrapped.subarray(0, 12));
    decipher.setAuthTag(wrapped.subarray(12, 28));
    return Buffer.concat([decipher.update(wrapped.subarray(28)), decipher.final()]);
  }
}

async function loadOrCreate(path: string): Promise<Buffer> {
  try {
    return keyFrom(await readFile(path, 'utf8'), path);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32);
  await mkdir(dirname(path), { recursive: true });
  try {
    // `wx`: two processes starting at once must not each write a key; the loser reads the winner's.
    await writeFile(path, key.toString('base64'), { mode: 0o600, flag: 'wx' });
    return key;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
    return keyFrom(await readFile(path, 'utf8'), path);
  }
}

function keyFrom(text: string, path: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error(`${path} must hold a base64 256-bit key`);
  return key;
}

/**
 * An RSA key in Azure Key Vault; data keys are wrapped with its `wrapKey` operation (RSA-OAEP-256)
 * and unwrapped with `unwrapKey` by the key version that wrapped them (recorded as `kek`). The
 * managed identity needs the Key Vault Crypto User role on the key.
 */
export class KeyVaultWrapper implements KeyWrapper {
  private readonly clients = new Map<string, Promise<CryptographyClient>>();

  constructor(
    private readonly keyId: string,
    private readonly credential: () => Promise<TokenCredential>,
    private readonly options: CryptographyClientOptions = {},
  ) {}

  private client(keyId: string): Promise<CryptographyClient> {
    let client = this.clients.get(keyId);
    if (!client) {
      client = (async () => {
        const { CryptographyClient } = await import('@azure/keyvault-keys');
        return new CryptographyClient(keyId, await this.credential(), this.options);
      })();
      this.clients.set(keyId, client);
      client.catch(() => this.clients.delete(keyId));
    }
    return client;
  }

  async wrap(dataKey: Buffer): Promise<{ wrapped: Buffer; alg: string; keyId: string }> {
    const result = await (await this.client(this.keyId)).wrapKey('RSA-OAEP-256', dataKey);
    // The answer names the key version that wrapped it: unwrapping must use that one.
    return { wrapped: Buffer.from(result.result), alg: 'RSA-OAEP-256', keyId: result.keyID ?? this.keyId };
  }

  async unwrap(wrapped: Buffer, alg: string, keyId: string): Promise<Buffer> {
    if (alg !== 'RSA-OAEP-256') throw new Error(`a Key Vault key does not unwrap ${alg}`);
    const result = await (await this.client(keyId)).unwrapKey('RSA-OAEP-256', wrapped);
    return Buffer.from(result.result);
  }
}
