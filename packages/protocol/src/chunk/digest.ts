import { createHash } from 'node:crypto';

/**
 * SHA-256 digests as they appear in manifests, chunk indexes and planner output: 64 lower-case hex
 * characters, no algorithm prefix. Wire formats that carry digests (the Turbo extension, chunk indexes)
 * use the raw 32 bytes; `digestToBytes` / `digestFromBytes` convert.
 */
export type Digest = string;

export const DIGEST_BYTES = 32;

const DIGEST_RE = /^[0-9a-f]{64}$/;

export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && DIGEST_RE.test(value);
}

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

export function sha256Hex(data: Uint8Array): Digest {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Lower-case hex of 32 bytes starting at `offset`. The caller has checked bounds. A Buffer is read in
 * place; pass one when converting many digests from the same bytes (a chunk index): wrapping each digest
 * in a Buffer of its own cost twice the time, most of all in a process that has just started.
 */
export function digestFromBytes(bytes: Uint8Array, offset = 0): Digest {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.toString('hex', offset, offset + DIGEST_BYTES);
}

/** The raw 32 bytes of a digest; null when `digest` is not 64 lower-case hex characters. */
export function digestToBytes(digest: string): Uint8Array | null {
  if (!DIGEST_RE.test(digest)) return null;
  return new Uint8Array(Buffer.from(digest, 'hex'));
}
