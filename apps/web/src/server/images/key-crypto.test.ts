import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { exportPrivateKeyPkcs8, generateManifestKeyPair, signingKeyFromPkcs8 } from '@bootpt/protocol';
import {
  decryptPrivateKey,
  encryptPrivateKey,
  KeyEncryptionError,
  parseKeyEncryptionKey,
} from './key-crypto';

describe('signing key encryption', () => {
  const kek = randomBytes(32);
  const pair = generateManifestKeyPair();
  const pkcs8 = exportPrivateKeyPkcs8(pair.privateKey);

  it('round-trips a PKCS#8 key and the result signs as the same key', () => {
    const sealed = encryptPrivateKey(kek, pair.keyId, pkcs8);
    const opened = decryptPrivateKey(kek, pair.keyId, sealed);
    expect(Buffer.compare(opened, Buffer.from(pkcs8))).toBe(0);
    expect(signingKeyFromPkcs8(opened)?.keyId).toBe(pair.keyId);
  });

  it('never stores the plaintext and uses a fresh IV each time', () => {
    const a = encryptPrivateKey(kek, pair.keyId, pkcs8);
    const b = encryptPrivateKey(kek, pair.keyId, pkcs8);
    expect(a.equals(b)).toBe(false);
    // The 32-byte seed sits at the end of an Ed25519 PKCS#8 encoding.
    expect(a.includes(Buffer.from(pkcs8.subarray(pkcs8.length - 32)))).toBe(false);
  });

  it('refuses the wrong key-encryption key, another key id and tampered bytes', () => {
    const sealed = encryptPrivateKey(kek, pair.keyId, pkcs8);
    expect(() => decryptPrivateKey(randomBytes(32), pair.keyId, sealed)).toThrow(KeyEncryptionError);
    expect(() => decryptPrivateKey(kek, '0000000000000000', sealed)).toThrow(KeyEncryptionError);
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1]! ^= 1;
    expect(() => decryptPrivateKey(kek, pair.keyId, flipped)).toThrow(KeyEncryptionError);
    expect(() => decryptPrivateKey(kek, pair.keyId, sealed.subarray(0, 20))).toThrow(KeyEncryptionError);
  });

  it('parses base64url, base64 and hex key-encryption keys of exactly 32 bytes', () => {
    const raw = randomBytes(32);
    expect(parseKeyEncryptionKey(raw.toString('base64url')).equals(raw)).toBe(true);
    expect(parseKeyEncryptionKey(raw.toString('base64')).equals(raw)).toBe(true);
    expect(parseKeyEncryptionKey(raw.toString('hex')).equals(raw)).toBe(true);
    expect(() => parseKeyEncryptionKey(undefined)).toThrow(/not set/);
    expect(() => parseKeyEncryptionKey(randomBytes(16).toString('base64url'))).toThrow(/32 bytes/);
  });
});
