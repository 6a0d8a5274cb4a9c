import { sign, verify } from 'node:crypto';
import { z } from 'zod';
import type { Digest } from '../chunk/digest.js';
import { sha256Hex } from '../chunk/digest.js';
import { concatBytes, utf8Encode } from '../wire.js';
import { canonicalBytes } from './canonical.js';
import type { ManifestErrorCode, ManifestResult } from './errors.js';
import { manifestFail, manifestOk } from './errors.js';
import type { SigningKey } from './keys.js';
import { SIGNATURE_BYTES, decodeBase64url, encodeBase64url } from './keys.js';
import { decodeManifest, encodeManifest } from './manifest.js';
import type { Manifest } from './schema.js';
import type { TrustStore } from './trust.js';

/**
 * A signed manifest: the manifest's canonical bytes and one or more detached Ed25519 signatures.
 *
 * Each signature is over a domain-separated message, `"bootpt-manifest-v1\n" || payload`, so a manifest
 * signing key can never be tricked into producing a signature valid for another purpose (or vice versa).
 *
 * As bytes (`encodeSignedManifest`), the envelope is canonical JSON:
 * `{"payload":"<base64url payload>","payloadType":"application/vnd.bootpt.manifest.v1+json",
 *   "signatures":[{"alg":"ed25519","keyId":"<16 hex>","sig":"<base64url, 64 bytes>"}]}`
 */
export interface SignedManifest {
  readonly payload: Uint8Array;
  readonly signatures: readonly ManifestSignature[];
}

export interface ManifestSignature {
  readonly keyId: string;
  /** Only `ed25519` is produced or verified; a decoded envelope may carry others, which never verify. */
  readonly alg: 'ed25519' | (string & {});
  /** base64url of the 64-byte Ed25519 signature. */
  readonly sig: string;
}

export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.bootpt.manifest.v1+json';
export const SIGNED_MANIFEST_MAX_BYTES = 1024 * 1024;
export const MAX_SIGNATURES = 16;

const SIGNING_CONTEXT = utf8Encode('bootpt-manifest-v1\n');

function signedMessage(payload: Uint8Array): Uint8Array {
  return concatBytes([SIGNING_CONTEXT, payload]);
}

function signPayload(payload: Uint8Array, key: SigningKey): ManifestSignature {
  const sig = sign(null, signedMessage(payload), key.privateKey);
  return { keyId: key.keyId, alg: 'ed25519', sig: encodeBase64url(new Uint8Array(sig)) };
}

/** Serializes `manifest` canonically and signs it with each key (rotation: old and new key together). */
export function signManifest(manifest: Manifest, keys: SigningKey | readonly SigningKey[]): SignedManifest {
  const list = Array.isArray(keys) ? (keys as readonly SigningKey[]) : [keys as SigningKey];
  if (list.length === 0) throw new RangeError('signManifest needs at least one key');
  const payload = encodeManifest(manifest);
  return { payload, signatures: list.map((k) => signPayload(payload, k)) };
}

/** Adds (or replaces) the signature of `key`, leaving the payload and other signatures untouched. */
export function addSignature(signed: SignedManifest, key: SigningKey): SignedManifest {
  const others = signed.signatures.filter((s) => s.keyId !== key.keyId);
  return { payload: signed.payload, signatures: [...others, signPayload(signed.payload, key)] };
}

export interface VerifyOptions {
  /** Distinct trusted keys whose signatures must verify (default 1). */
  readonly minSignatures?: number;
}

export interface VerifiedManifest {
  readonly manifest: Manifest;
  /** SHA-256 of the payload (the manifest digest). */
  readonly digest: Digest;
  /** Key ids whose signatures verified and counted. */
  readonly keyIds: readonly string[];
}

type SignatureOutcome = 'valid' | 'bad' | 'unknown' | 'revoked' | 'alg';

function checkSignature(payload: Uint8Array, s: ManifestSignature, trust: TrustStore): SignatureOutcome {
  if (s.alg !== 'ed25519') return 'alg';
  const key = trust.get(s.keyId);
  if (!key) return 'unknown';
  if (key.state === 'revoked') return 'revoked';
  const sig = decodeBase64url(s.sig, SIGNATURE_BYTES);
  if (!sig) return 'bad';
  try {
    return verify(null, signedMessage(payload), key.publicKey, sig) ? 'valid' : 'bad';
  } catch {
    return 'bad';
  }
}

/** The code for "nothing verified", most alarming first. */
function failureCode(outcomes: readonly SignatureOutcome[]): ManifestErrorCode {
  if (outcomes.includes('bad')) return 'MANIFEST_BAD_SIGNATURE';
  if (outcomes.includes('revoked')) return 'MANIFEST_KEY_REVOKED';
  if (outcomes.includes('unknown')) return 'MANIFEST_UNKNOWN_KEY';
  return 'MANIFEST_UNSUPPORTED_ALG';
}

/**
 * Verifies the signatures against the trusted keys, then parses the payload. Never throws.
 * Signatures by unknown, revoked or (for manifests created after `retiredAt`) retired keys do not count;
 * a bad signature by a trusted key does not invalidate others, but if nothing counts it is the reported
 * reason. The payload is parsed only after a signature verified.
 */
export function verifySignedManifest(
  signed: SignedManifest,
  trust: TrustStore,
  options: VerifyOptions = {},
): ManifestResult<VerifiedManifest> {
  const minSignatures = options.minSignatures ?? 1;
  if (signed.signatures.length === 0) return manifestFail('MANIFEST_NO_SIGNATURES', 'no signatures');
  const outcomes = signed.signatures.map((s) => checkSignature(signed.payload, s, trust));
  const validIds = new Set(signed.signatures.filter((_, i) => outcomes[i] === 'valid').map((s) => s.keyId));
  if (validIds.size === 0) {
    const code = failureCode(outcomes);
    return manifestFail(code, `no valid signature by a trusted key (${outcomes.join(', ')})`);
  }
  const decoded = decodeManifest(signed.payload);
  if (!decoded.ok) return decoded;
  const manifest = decoded.value;
  const createdAt = Date.parse(manifest.release.createdAt);
  const counted = [...validIds].filter((id) => {
    const retiredAt = trust.get(id)?.retiredAt;
    return retiredAt === undefined || createdAt <= Date.parse(retiredAt);
  });
  if (counted.length === 0) {
    return manifestFail(
      'MANIFEST_KEY_RETIRED',
      'signed only by keys retired before the manifest was created',
    );
  }
  if (counted.length < minSignatures) {
    return manifestFail(
      'MANIFEST_INSUFFICIENT_SIGNATURES',
      `${counted.length} valid signature(s), ${minSignatures} required`,
    );
  }
  return manifestOk({ manifest, digest: sha256Hex(signed.payload), keyIds: counted });
}

const EnvelopeSchema = z.strictObject({
  payloadType: z.literal(MANIFEST_PAYLOAD_TYPE),
  payload: z.string().min(1),
  signatures: z
    .array(
      z.strictObject({
        keyId: z.string().max(64),
        alg: z.string().max(32),
        sig: z.string().max(256),
      }),
    )
    .max(MAX_SIGNATURES),
});

/** The envelope as canonical JSON bytes. */
export function encodeSignedManifest(signed: SignedManifest): Uint8Array {
  return canonicalBytes({
    payloadType: MANIFEST_PAYLOAD_TYPE,
    payload: encodeBase64url(signed.payload),
    signatures: signed.signatures.map(({ keyId, alg, sig }) => ({ keyId, alg, sig })),
  });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses envelope bytes. Never throws. Checks structure only (a signature with an unknown `alg` is kept
 * so the verifier can report it); use `openSignedManifest` to decode and verify in one step.
 */
export function decodeSignedManifest(
  bytes: Uint8Array,
  maxBytes = SIGNED_MANIFEST_MAX_BYTES,
): ManifestResult<SignedManifest> {
  if (bytes.length > maxBytes)
    return manifestFail('MANIFEST_TOO_LARGE', `${bytes.length} bytes, limit ${maxBytes}`);
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(bytes));
  } catch (err) {
    return manifestFail('MANIFEST_MALFORMED', `envelope is not UTF-8 JSON: ${(err as Error).message}`);
  }
  const parsed = EnvelopeSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return manifestFail(
      'MANIFEST_MALFORMED',
      `envelope ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`,
    );
  }
  const payload = decodeBase64url(parsed.data.payload);
  if (!payload) return manifestFail('MANIFEST_MALFORMED', 'payload is not canonical base64url');
  return manifestOk({ payload, signatures: parsed.data.signatures });
}

/** Decodes envelope bytes and verifies them: what a client or agent does with a manifest it fetched. */
export function openSignedManifest(
  bytes: Uint8Array,
  trust: TrustStore,
  options: VerifyOptions & { readonly maxBytes?: number } = {},
): ManifestResult<VerifiedManifest> {
  const decoded = decodeSignedManifest(bytes, options.maxBytes);
  return decoded.ok ? verifySignedManifest(decoded.value, trust, options) : decoded;
}
