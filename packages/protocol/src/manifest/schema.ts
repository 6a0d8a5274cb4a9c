import { z } from 'zod';
import { isDigest } from '../chunk/digest.js';

/**
 * The manifest of an image release (schema version 1): an ordered list of layers (a base, then
 * overlays, e.g. concatenated initramfs cpio archives), the kernel command line and release metadata.
 * Objects are strict (unknown keys are rejected): everything a manifest says is signed, so a field this
 * code would ignore is a schema change and gets a new `schemaVersion`.
 */
export const MANIFEST_SCHEMA_VERSION = 1;

export const LAYER_MEDIA_TYPES = [
  'application/vnd.bootpt.kernel',
  'application/vnd.bootpt.initramfs.cpio',
  'application/vnd.bootpt.initramfs.cpio+gzip',
  'application/vnd.bootpt.initramfs.cpio+zstd',
  'application/vnd.bootpt.rootfs',
] as const;

export type LayerMediaType = (typeof LAYER_MEDIA_TYPES)[number];

export const ARCHITECTURES = [
  'x86_64',
  'i686',
  'aarch64',
  'armv7',
  'riscv64',
  'ppc64le',
  's390x',
  'loongarch64',
] as const;

export type Architecture = (typeof ARCHITECTURES)[number];

export const DigestSchema = z
  .string()
  .refine(isDigest, 'must be a SHA-256 digest: 64 lower-case hex characters');

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Text without control characters (U+0000-U+001F, U+007F). */
const printable = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !hasControlCharacter(s), 'must not contain control characters');

export const LayerSchema = z.strictObject({
  /** SHA-256 of the layer bytes. */
  digest: DigestSchema,
  /** Layer length in bytes. */
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  mediaType: z.enum(LAYER_MEDIA_TYPES),
  /** SHA-256 of the layer's encoded chunk index (see `chunk/chunk-index.ts`). */
  chunkIndexDigest: DigestSchema,
});

export const ReleaseSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, ".", "_" and "-", at most 128'),
  version: printable(128).min(1),
  /** ISO 8601 in UTC with `Z`, e.g. `2026-11-23T19:00:00Z` (fractional seconds allowed). */
  createdAt: z.iso.datetime(),
  architecture: z.enum(ARCHITECTURES),
});

export const ManifestSchema = z.strictObject({
  schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
  release: ReleaseSchema,
  /** Linux allows up to 2048 (x86) or 4096 bytes. */
  kernelCmdline: printable(4096),
  layers: z.array(LayerSchema).min(1).max(256),
  /** Free-form string labels (build id, source commit...), signed with the rest. */
  annotations: z.record(printable(256), printable(1024)).optional(),
});

export type Layer = z.infer<typeof LayerSchema>;
export type Release = z.infer<typeof ReleaseSchema>;
export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestInput = z.input<typeof ManifestSchema>;
