import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest, Layer } from '@bootpt/protocol';
import {
  LayerVerifier,
  bootFileName,
  decodeManifest,
  decodeSignedManifest,
  isDigest,
} from '@bootpt/protocol';
import { ContentError, type ContentStore } from './store.js';

/**
 * Assembled boot files for services that serve whole files (TFTP, and anything else that wants a path):
 * `<manifest digest>/kernel`, `<manifest digest>/initramfs` (initramfs layers concatenated in manifest
 * order) and `<manifest digest>/layer-<n>` for other layers. Files are assembled from verified chunks on
 * first use into `dir` (temp + rename) and reused afterwards; the layer digests are checked as they are
 * written. The TFTP service can point its root at `dir` or take a `FileSource`.
 */
export interface FileSource {
  /** A readable regular file for `name`, or null when no such boot file exists. */
  resolve(name: string): Promise<{ readonly path: string; readonly size: number } | null>;
}

/** `<manifest digest>/kernel|initramfs|layer-<n>` (a leading slash tolerated): the names a FileSource serves. */
export const BOOT_FILE_NAME = /^\/?([0-9a-f]{64})\/(kernel|initramfs|layer-\d{1,3})$/;

export class AssembledFiles implements FileSource {
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly store: ContentStore,
    readonly dir: string,
  ) {}

  async resolve(name: string): Promise<{ path: string; size: number } | null> {
    const m = BOOT_FILE_NAME.exec(name);
    const digest = m?.[1];
    if (!m || digest === undefined || !isDigest(digest)) return null;
    const path = join(this.dir, digest, m[2]!);
    const existing = await stat(path).catch(() => null);
    if (existing?.isFile()) return { path, size: existing.size };
    if (!(await this.store.has('manifests', digest))) return null;
    await this.assemble(digest);
    const built = await stat(path).catch(() => null);
    return built?.isFile() ? { path, size: built.size } : null;
  }

  /** Assembles every file of a manifest (once, even with concurrent callers); returns their names. */
  async assemble(digest: Digest): Promise<void> {
    let job = this.pending.get(digest);
    if (!job) {
      job = this.build(digest).finally(() => this.pending.delete(digest));
      this.pending.set(digest, job);
    }
    await job;
  }

  private async build(digest: Digest): Promise<void> {
    const envelope = await this.store.read('manifests', digest);
    const signed = envelope ? decodeSignedManifest(envelope) : null;
    const manifest = signed?.ok ? decodeManifest(signed.value.payload) : null;
    if (!manifest?.ok)
      throw new ContentError('CONTENT_ERR_BAD_MANIFEST', `manifest ${digest} is not in the store`);
    const outDir = join(this.dir, digest);
    await mkdir(outDir, { recursive: true });
    const groups = new Map<string, Layer[]>();
    manifest.value.layers.forEach((layer, i) => {
      const name = bootFileName(layer.mediaType, i);
      groups.set(name, [...(groups.get(name) ?? []), layer]);
    });
    for (const [name, layers] of groups) {
      const tmp = join(outDir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
      const fh = await open(tmp, 'w');
      try {
        for (const layer of layers) {
          const index = await this.store.loadIndex(layer.chunkIndexDigest);
          if (!index)
            throw new ContentError('CONTENT_ERR_BAD_INDEX', `chunk index ${layer.chunkIndexDigest} missing`);
          const verifier = new LayerVerifier(layer);
          for (const chunk of index.chunks) {
            const bytes = await this.store.read('chunks', chunk.digest);
            if (!bytes) throw new ContentError('CONTENT_ERR_UPSTREAM', `chunk ${chunk.digest} missing`);
            verifier.update(bytes);
            await fh.write(bytes);
          }
          const ok = verifier.finish();
          if (!ok.ok)
            throw new ContentError(
              'CONTENT_ERR_DIGEST_MISMATCH',
              `layer ${layer.digest}: ${ok.error.message}`,
            );
        }
        await fh.close();
        await rename(tmp, join(outDir, name));
      } catch (err) {
        await fh.close().catch(() => undefined);
        await rm(tmp, { force: true });
        throw err;
      }
    }
  }
}
