export { CanonicalJsonError, canonicalBytes, canonicalJson } from './canonical.js';
export type { ManifestError, ManifestErrorCode, ManifestResult } from './errors.js';
export { MANIFEST_ERROR_CODES } from './errors.js';
export type { Architecture, Layer, LayerMediaType, Manifest, ManifestInput, Release } from './schema.js';
export {
  ARCHITECTURES,
  DigestSchema,
  LAYER_MEDIA_TYPES,
  LayerSchema,
  MANIFEST_SCHEMA_VERSION,
  ManifestSchema,
  ReleaseSchema,
} from './schema.js';
export { bootFileName, type BootFileName } from './boot-files.js';
export { createManifest, decodeManifest, encodeManifest, manifestDigest } from './manifest.js';
export type { ManifestKeyPair, SigningKey } from './keys.js';
export {
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
  decodeBase64url,
  encodeBase64url,
  exportPrivateKeyPem,
  exportPrivateKeyPkcs8,
  exportPublicKeyRaw,
  generateManifestKeyPair,
  importPrivateKeyPkcs8,
  importPublicKeyRaw,
  keyIdOf,
  signingKeyFromPkcs8,
} from './keys.js';
export type { KeyState, TrustStore, TrustedKey, TrustedKeyInput } from './trust.js';
export { KEY_STATES, TrustedKeySchema, createTrustStore } from './trust.js';
export type { ManifestSignature, SignedManifest, VerifiedManifest, VerifyOptions } from './signed.js';
export {
  MANIFEST_PAYLOAD_TYPE,
  MAX_SIGNATURES,
  SIGNED_MANIFEST_MAX_BYTES,
  addSignature,
  decodeSignedManifest,
  encodeSignedManifest,
  openSignedManifest,
  signManifest,
  verifySignedManifest,
} from './signed.js';
