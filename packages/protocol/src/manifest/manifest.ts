import type { Digest } from '../chunk/digest.js';
import { sha256Hex } from '../chunk/digest.js';
import { bytesEqual } from '../wire.js';
import { canonicalBytes } from './canonical.js';
import type { ManifestResult } from './errors.js';
import { manifestFail, manifestOk } from './errors.js';
import type { Manifest, ManifestInput } from './schema.js';
import { MANIFEST_SCHEMA_VERSION, ManifestSchema } from './schema.js';

/**
 * Validates `input` and returns a manifest holding only the schema's fields (an absent optional field is
 * absent, never `undefined`, so it serializes canonically). Throws a `ZodError` when invalid: building a
 * manifest from bad data is a programming or input error for the caller to report.
 */
export function createManifest(input: ManifestInput): Manifest {
  const parsed = ManifestSchema.parse(input);
  if (parsed.annotations === undefined) {
    const { annotations: _omit, ...rest } = parsed;
    return rest;
  }
  return parsed;
}

/** The canonical bytes of a manifest (see `canonical.ts`): what is signed and digested. */
export function encodeManifest(manifest: Manifest): Uint8Array {
  return canonicalBytes(createManifest(manifest));
}

/**
 * The manifest digest: SHA-256 of its canonical bytes. It names the content, so re-signing a manifest with
 * another key (rotation) does not change it.
 */
export function manifestDigest(manifest: Manifest): Digest {
  return sha256Hex(encodeManifest(manifest));
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function formatIssue(issue: { path: readonly PropertyKey[]; message: string }): string {
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  return `$${path}: ${issue.message}`;
}

/**
 * Parses manifest payload bytes. Never throws. Requires strict UTF-8, valid JSON, a known schema version,
 * a schema-valid manifest, and that the bytes be exactly its canonical form.
 */
export function decodeManifest(bytes: Uint8Array): ManifestResult<Manifest> {
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(bytes));
  } catch (err) {
    return manifestFail('MANIFEST_MALFORMED', `payload is not UTF-8 JSON: ${(err as Error).message}`);
  }
  if (typeof value === 'object' && value !== null && 'schemaVersion' in value) {
    const version = value.schemaVersion;
    if (version !== MANIFEST_SCHEMA_VERSION) {
      return manifestFail('MANIFEST_UNSUPPORTED_SCHEMA', `schemaVersion ${String(version)} is not supported`);
    }
  }
  const parsed = ManifestSchema.safeParse(value);
  if (!parsed.success) {
    return manifestFail('MANIFEST_MALFORMED', parsed.error.issues.slice(0, 5).map(formatIssue).join('; '));
  }
  const manifest = createManifest(parsed.data);
  let canonical: Uint8Array;
  try {
    canonical = canonicalBytes(manifest);
  } catch (err) {
    return manifestFail('MANIFEST_MALFORMED', (err as Error).message);
  }
  if (!bytesEqual(canonical, bytes)) {
    return manifestFail('MANIFEST_NOT_CANONICAL', 'payload bytes are not the canonical serialization');
  }
  return manifestOk(manifest);
}
