/**
 * Stable codes for everything that can go wrong reading or verifying a signed manifest. Decoders and
 * verifiers return them in a result; they never throw on bad input.
 */
export const MANIFEST_ERROR_CODES = [
  /** Not UTF-8, not JSON, or not the shape of an envelope or a manifest (the message names the field). */
  'MANIFEST_MALFORMED',
  /** Input larger than the decoder's limit. */
  'MANIFEST_TOO_LARGE',
  /** The payload is a manifest of a schema version this code does not know. */
  'MANIFEST_UNSUPPORTED_SCHEMA',
  /** The payload parses but is not in canonical form, so its digest would not be stable. */
  'MANIFEST_NOT_CANONICAL',
  /** The envelope carries no signatures. */
  'MANIFEST_NO_SIGNATURES',
  /** No signature by a known key verified, and the only signatures are of an algorithm other than ed25519. */
  'MANIFEST_UNSUPPORTED_ALG',
  /** No signature is by a key in the trusted set. */
  'MANIFEST_UNKNOWN_KEY',
  /** The only signatures by trusted keys are by revoked keys. */
  'MANIFEST_KEY_REVOKED',
  /** The only valid signatures are by keys retired before the manifest was created. */
  'MANIFEST_KEY_RETIRED',
  /** A signature by a trusted key does not verify: the payload, the signature or its key id was altered. */
  'MANIFEST_BAD_SIGNATURE',
  /** Some signatures verify, but fewer distinct keys than the verifier requires. */
  'MANIFEST_INSUFFICIENT_SIGNATURES',
] as const;

export type ManifestErrorCode = (typeof MANIFEST_ERROR_CODES)[number];

export interface ManifestError {
  readonly code: ManifestErrorCode;
  readonly message: string;
}

export type ManifestResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ManifestError };

export function manifestOk<T>(value: T): ManifestResult<T> {
  return { ok: true, value };
}

export function manifestFail<T = never>(code: ManifestErrorCode, message: string): ManifestResult<T> {
  return { ok: false, error: { code, message } };
}
