import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Envelope encryption of manifest-signing private keys at rest: AES-256-GCM under the control plane's
 * key-encryption key (`BOOTPT_KEY_ENCRYPTION_KEY`, 32 random bytes in base64url or base64).
 *
 * Stored layout: `version (1) = 1 | iv (12) | tag (16) | ciphertext`. The key id is bound as additional
 * authenticated data, so a ciphertext copied onto another key's row does not decrypt.
 */
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;

export class KeyEncryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyEncryptionError';
  }
}

/** Parses the configured key-encryption key; throws a readable error when missing or not 32 bytes. */
export function parseKeyEncryptionKey(text: string | undefined): Buffer {
  if (!text) {
    throw new KeyEncryptionError(
      'BOOTPT_KEY_ENCRYPTION_KEY is not set: signing keys cannot be created or used without it',
    );
  }
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== 32) {
    throw new KeyEncryptionError('BOOTPT_KEY_ENCRYPTION_KEY must be 32 bytes (base64url, base64 or hex)');
  }
  return key;
}

function aad(keyId: string): Buffer {
  return Buffer.from(`bootpt-signing-key-v1:${keyId}`, 'utf8');
}

export function encryptPrivateKey(kek: Buffer, keyId: string, pkcs8: Uint8Array): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(keyId));
  const ciphertext = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), ciphertext]);
}

export function decryptPrivateKey(kek: Buffer, keyId: string, sealed: Uint8Array): Buffer {
  const bytes = Buffer.from(sealed);
  if (bytes.length <= HEADER_BYTES || bytes[0] !== VERSION) {
    throw new KeyEncryptionError(`signing key ${keyId}: unrecognised encrypted key format`);
  }
  const iv = bytes.subarray(1, 1 + IV_BYTES);
  const tag = bytes.subarray(1 + IV_BYTES, HEADER_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad(keyId));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(bytes.subarray(HEADER_BYTES)), decipher.final()]);
  } catch {
    throw new KeyEncryptionError(
      `signing key ${keyId}: cannot decrypt (wrong BOOTPT_KEY_ENCRYPTION_KEY or tampered data)`,
    );
  }
}
