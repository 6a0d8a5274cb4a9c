import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { importPublicKeyRaw, keyIdOf } from './keys.js';

/**
 * The set of public keys a verifier trusts, each with a state:
 *
 * - `active`: signs new manifests and verifies.
 * - `retired`: no longer signs, still verifies manifests signed before rotation. With `retiredAt`, only
 *   manifests whose `release.createdAt` is at or before that instant; without it, any manifest.
 * - `revoked`: never verifies, whatever the manifest (a compromised key).
 *
 * Rotation: add the new key as `active` and co-sign (or re-sign) current manifests, then mark the old key
 * `retired`. Revocation: mark it `revoked`; manifests signed only by it stop verifying at once.
 */
export const KEY_STATES = ['active', 'retired', 'revoked'] as const;
export type KeyState = (typeof KEY_STATES)[number];

export const TrustedKeySchema = z.strictObject({
  /** Raw Ed25519 public key, base64url (43 characters). */
  publicKey: z
    .string()
    .refine((s) => importPublicKeyRaw(s) !== null, 'must be a raw Ed25519 public key in base64url'),
  /** Optional; when given it must equal the id derived from `publicKey`. */
  keyId: z
    .string()
    .regex(/^[0-9a-f]{16}$/)
    .optional(),
  state: z.enum(KEY_STATES),
  retiredAt: z.iso.datetime().optional(),
  /** Free text for people (who holds it, why it was revoked). */
  note: z.string().max(256).optional(),
});

export type TrustedKeyInput = z.input<typeof TrustedKeySchema>;

export interface TrustedKey {
  readonly keyId: string;
  readonly publicKeyRaw: string;
  readonly publicKey: KeyObject;
  readonly state: KeyState;
  readonly retiredAt: string | undefined;
}

export interface TrustStore {
  get(keyId: string): TrustedKey | undefined;
  readonly keys: readonly TrustedKey[];
}

/**
 * Builds a trust store. Throws on invalid configuration (a malformed key, a key id that does not match
 * its key, the same key listed twice): the caller validates configuration at startup.
 */
export function createTrustStore(keys: readonly TrustedKeyInput[]): TrustStore {
  const byId = new Map<string, TrustedKey>();
  keys.forEach((input, i) => {
    const parsed = TrustedKeySchema.safeParse(input);
    if (!parsed.success)
      throw new TypeError(`trusted key ${i}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const { publicKey: raw, state, retiredAt } = parsed.data;
    const keyId = keyIdOf(raw);
    if (parsed.data.keyId !== undefined && parsed.data.keyId !== keyId) {
      throw new TypeError(
        `trusted key ${i}: keyId ${parsed.data.keyId} does not match its public key (${keyId})`,
      );
    }
    if (byId.has(keyId)) throw new TypeError(`trusted key ${i}: key ${keyId} listed twice`);
    byId.set(
      keyId,
      Object.freeze({ keyId, publicKeyRaw: raw, publicKey: importPublicKeyRaw(raw)!, state, retiredAt }),
    );
  });
  const list = Object.freeze([...byId.values()]);
  return Object.freeze({ get: (keyId: string) => byId.get(keyId), keys: list });
}
