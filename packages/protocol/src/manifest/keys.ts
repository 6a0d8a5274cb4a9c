import type { KeyObject } from 'node:crypto';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';

/**
 * Ed25519 keys for manifest signing (node:crypto).
 *
 * - Public keys travel as the raw 32-byte key in base64url without padding (43 characters), the `x` of
 *   an OKP JWK.
 * - Private keys are stored as PKCS#8 (DER bytes, or PEM text).
 * - A key id is the first 8 bytes of SHA-256 over the raw public key, as 16 lower-case hex characters.
 *   It only selects the key to try; the signature check is what authenticates.
 */
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

export interface SigningKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
}

export interface ManifestKeyPair extends SigningKey {
  readonly publicKey: KeyObject;
  /** Raw public key, base64url. */
  readonly publicKeyRaw: string;
}

const BASE64URL_RE = /^[A-Za-z0-9_-]*$/;

/** Decodes base64url without padding; null unless `text` is the canonical encoding of `bytes` bytes. */
export function decodeBase64url(text: string, bytes?: number): Uint8Array | null {
  if (!BASE64URL_RE.test(text)) return null;
  const out = new Uint8Array(Buffer.from(text, 'base64url'));
  if (bytes !== undefined && out.length !== bytes) return null;
  if (encodeBase64url(out) !== text) return null;
  return out;
}

export function encodeBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function isEd25519(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ed25519';
}

/** The raw 32-byte public key (base64url) of an Ed25519 public or private key. */
export function exportPublicKeyRaw(key: KeyObject): string {
  if (!isEd25519(key)) throw new TypeError('not an Ed25519 key');
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const { x } = publicKey.export({ format: 'jwk' });
  if (typeof x !== 'string') throw new TypeError('Ed25519 key without a public part');
  return x;
}

/** Imports a raw 32-byte Ed25519 public key given in base64url; null when malformed. */
export function importPublicKeyRaw(raw: string): KeyObject | null {
  if (!decodeBase64url(raw, PUBLIC_KEY_BYTES)) return null;
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw }, format: 'jwk' });
  } catch {
    return null;
  }
}

export function exportPrivateKeyPkcs8(key: KeyObject): Uint8Array {
  if (key.type !== 'private' || !isEd25519(key)) throw new TypeError('not an Ed25519 private key');
  return new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }));
}

export function exportPrivateKeyPem(key: KeyObject): string {
  if (key.type !== 'private' || !isEd25519(key)) throw new TypeError('not an Ed25519 private key');
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** Imports a PKCS#8 Ed25519 private key, DER bytes or PEM text; null when malformed or not Ed25519. */
export function importPrivateKeyPkcs8(pkcs8: Uint8Array | string): KeyObject | null {
  try {
    const key =
      typeof pkcs8 === 'string'
        ? createPrivateKey({ key: pkcs8, format: 'pem' })
        : createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
    return isEd25519(key) ? key : null;
  } catch {
    return null;
  }
}

/** Key id of a raw public key (base64url) or a key object; see the module comment. */
export function keyIdOf(publicKey: KeyObject | string): string {
  const raw = typeof publicKey === 'string' ? publicKey : exportPublicKeyRaw(publicKey);
  const bytes = decodeBase64url(raw, PUBLIC_KEY_BYTES);
  if (!bytes) throw new TypeError('not a raw Ed25519 public key');
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

export function generateManifestKeyPair(): ManifestKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicKeyRaw = exportPublicKeyRaw(publicKey);
  return { keyId: keyIdOf(publicKeyRaw), publicKey, privateKey, publicKeyRaw };
}

/** A signing key from a stored PKCS#8 private key; null when malformed. */
export function signingKeyFromPkcs8(pkcs8: Uint8Array | string): SigningKey | null {
  const privateKey = importPrivateKeyPkcs8(pkcs8);
  return privateKey ? { keyId: keyIdOf(exportPublicKeyRaw(privateKey)), privateKey } : null;
}
