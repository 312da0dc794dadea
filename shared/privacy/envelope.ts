import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * Envelope encryption of identities: each value is sealed with AES-256-GCM under a data key; the
 * data key is stored beside it wrapped by a key-encryption key that never leaves its keeper (a
 * Key Vault key in Azure, a local key file locally). One data key per process, wrapped once;
 * records name the wrapping key, so keys can rotate without re-encrypting.
 */
export interface KeyWrapper {
  wrap(dataKey: Buffer): Promise<{ wrapped: Buffer; alg: string; keyId: string }>;
  unwrap(wrapped: Buffer, alg: string, keyId: string): Promise<Buffer>;
}

export const sealedSchema = z.object({
  v: z.literal(1),
  alg: z.literal('A256GCM'),
  iv: z.string(),
  tag: z.string(),
  ciphertext: z.string(),
  /** The data key, wrapped. */
  wrappedKey: z.string(),
  wrapAlg: z.string(),
  /** The key-encryption key: a Key Vault key id (with version) or `local:` and the key file's fingerprint. */
  kek: z.string(),
});
export type Sealed = z.infer<typeof sealedSchema>;

export class EnvelopeCipher {
  private dataKey?: Promise<{ key: Buffer; wrapped: Buffer; alg: string; keyId: string }>;
  private readonly unwrapped = new Map<string, Promise<Buffer>>();

  constructor(private readonly wrapper: KeyWrapper) {}

  private current(): Promise<{ key: Buffer; wrapped: Buffer; alg: string; keyId: string }> {
    this.dataKey ??= (async () => {
      const key = randomBytes(32);
      const { wrapped, alg, keyId } = await this.wrapper.wrap(key);
      return { key, wrapped, alg, keyId };
    })().catch((error: unknown) => {
      this.dataKey = undefined;
      throw error;
    });
    return this.dataKey;
  }

  async seal(plaintext: string, aad: string): Promise<Sealed> {
    const { key, wrapped, alg, keyId } = await this.current();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      v: 1,
      alg: 'A256GCM',
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
      wrappedKey: wrapped.toString('base64'),
      wrapAlg: alg,
      kek: keyId,
    };
  }

  /** `aad` binds a record to what it is filed under (its hash): a record moved under another hash does not open. */
  async open(sealed: Sealed, aad: string): Promise<string> {
    const cacheKey = `${sealed.kek}|${sealed.wrappedKey}`;
    let key = this.unwrapped.get(cacheKey);
    if (!key) {
      key = this.wrapper.unwrap(Buffer.from(sealed.wrappedKey, 'base64'), sealed.wrapAlg, sealed.kek);
      this.unwrapped.set(cacheKey, key);
      key.catch(() => this.unwrapped.delete(cacheKey));
    }
    const decipher = createDecipheriv('aes-256-gcm', await key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]).toString('utf8');
  }
}
