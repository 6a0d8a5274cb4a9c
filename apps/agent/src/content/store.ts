import { randomBytes } from 'node:crypto';
import { access, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib } from 'node:zlib';
import type { ChunkIndex, Digest, TrustStore } from '@bootpt/protocol';
import {
  decodeChunkIndex,
  decodeSignedManifest,
  isDigest,
  openSignedManifest,
  sha256Hex,
  STATIC_DELTA_PARTS,
} from '@bootpt/protocol';

/**
 * The agent's content-addressed store. Layout (also the layout of a publish directory, so a store can
 * be synced from a directory and served as one):
 *
 *   <dir>/manifests/<digest>      signed manifest envelopes, named by manifest (payload) digest
 *   <dir>/indexes/<digest>        encoded chunk indexes, named by SHA-256 of the encoding
 *   <dir>/chunks/<digest>         chunk bytes, named by SHA-256
 *   <dir>/chunks/<digest>.br      optional brotli copy (only when it is smaller)
 *   <dir>/deltas/<from>-<to>.<part>.br   static deltas between releases, in parts (`deltas.ts`)
 *   <dir>/tmp/                    writes in progress
 *
 * Everything is verified on write: a chunk must digest to its name, an index must digest to its name
 * and decode, a manifest's payload must digest to its name (and verify against trusted keys when the
 * store has them). Writes go to `tmp/` and are renamed into place, so a reader never sees a partial
 * file. Reads are not re-verified here: clients verify every byte they receive anyway.
 */

export const CONTENT_ERROR_CODES = [
  'CONTENT_ERR_BAD_NAME',
  'CONTENT_ERR_DIGEST_MISMATCH',
  'CONTENT_ERR_BAD_INDEX',
  'CONTENT_ERR_BAD_MANIFEST',
  'CONTENT_ERR_UPSTREAM',
] as const;
export type ContentErrorCode = (typeof CONTENT_ERROR_CODES)[number];

export class ContentError extends Error {
  constructor(
    readonly code: ContentErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ContentError';
  }
}

export type ContentKind = 'manifests' | 'indexes' | 'chunks';

const compress = promisify(brotliCompress);
/** Quality 5 compresses binaries about as well as gzip -9 at several times the speed. */
const BROTLI_QUALITY = 5;
/** Keep the compressed copy only when it saves at least this fraction. */
const MIN_SAVING = 0.05;

export interface StoreOptions {
  readonly compress?: boolean;
  readonly trust?: TrustStore;
}

export class ContentStore {
  constructor(
    readonly dir: string,
    private readonly options: StoreOptions = {},
  ) {}

  async open(): Promise<void> {
    for (const sub of ['manifests', 'indexes', 'chunks', 'deltas'])
      await mkdir(join(this.dir, sub), { recursive: true });
    await rm(join(this.dir, 'tmp'), { recursive: true, force: true });
    await mkdir(join(this.dir, 'tmp'), { recursive: true });
  }

  path(kind: ContentKind, digest: Digest): string {
    if (!isDigest(digest)) throw new ContentError('CONTENT_ERR_BAD_NAME', `not a digest: ${String(digest)}`);
    return join(this.dir, kind, digest);
  }

  async has(kind: ContentKind, digest: Digest): Promise<boolean> {
    try {
      await access(this.path(kind, digest));
      return true;
    } catch {
      return false;
    }
  }

  /** Digests of the chunks present, in one directory read. */
  async chunkDigests(): Promise<Set<Digest>> {
    return new Set((await readdir(join(this.dir, 'chunks'))).filter(isDigest));
  }

  async manifestDigests(): Promise<Digest[]> {
    return (await readdir(join(this.dir, 'manifests'))).filter(isDigest);
  }

  async read(kind: ContentKind, digest: Digest): Promise<Buffer | null> {
    try {
      return await readFile(this.path(kind, digest));
    } catch {
      return null;
    }
  }

  async size(kind: ContentKind, digest: Digest): Promise<number | null> {
    try {
      return (await stat(this.path(kind, digest))).size;
    } catch {
      return null;
    }
  }

  async putChunk(digest: Digest, bytes: Uint8Array): Promise<void> {
    const actual = sha256Hex(bytes);
    if (actual !== digest) {
      throw new ContentError(
        'CONTENT_ERR_DIGEST_MISMATCH',
        `chunk ${digest} refused: bytes digest to ${actual}`,
      );
    }
    const path = this.path('chunks', digest);
    if (this.options.compress !== false) {
      const packed = await compress(bytes, {
        params: { [zlib.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.length },
      });
      if (packed.length <= bytes.length * (1 - MIN_SAVING))
        await this.atomicWrite(`${path}.br`, packed, false);
    }
    await this.atomicWrite(path, bytes, false);
  }

  /** Part `part` of the static delta `from` → `to` (`STATIC_DELTA_PARTS` parts, `deltas.ts`). */
  deltaPath(from: Digest, to: Digest, part: number): string {
    if (!isDigest(from) || !isDigest(to)) throw new ContentError('CONTENT_ERR_BAD_NAME', 'not a digest pair');
    if (!Number.isInteger(part) || part < 0 || part >= STATIC_DELTA_PARTS)
      throw new ContentError('CONTENT_ERR_BAD_NAME', `no delta part ${part}`);
    return join(this.dir, 'deltas', `${from}-${to}.${part}.br`);
  }

  /** The delta's stored size (all its parts), or null unless every part is there. */
  async deltaSize(from: Digest, to: Digest): Promise<number | null> {
    let size = 0;
    for (let part = 0; part < STATIC_DELTA_PARTS; part++) {
      try {
        size += (await stat(this.deltaPath(from, to, part))).size;
      } catch {
        return null;
      }
    }
    return size;
  }

  /**
   * Deltas are derived data (rebuilt from verified chunks); the client verifies every chunk in them.
   * Each part is written whole (temp name + rename); a delta missing a part counts as absent.
   */
  async putDelta(from: Digest, to: Digest, parts: readonly Uint8Array[]): Promise<void> {
    if (parts.length !== STATIC_DELTA_PARTS)
      throw new ContentError(
        'CONTENT_ERR_BAD_NAME',
        `a delta has ${STATIC_DELTA_PARTS} parts, not ${parts.length}`,
      );
    for (const [part, packed] of parts.entries())
      await this.atomicWrite(this.deltaPath(from, to, part), packed, false);
  }

  /** A stored chunk index, verified against its name; null when absent or damaged. */
  async loadIndex(digest: Digest): Promise<ChunkIndex | null> {
    const bytes = await this.read('indexes', digest);
    if (!bytes || sha256Hex(bytes) !== digest) return null;
    const decoded = decodeChunkIndex(bytes);
    return decoded.ok ? decoded.value : null;
  }

  async putIndex(digest: Digest, bytes: Uint8Array): Promise<ChunkIndex> {
    if (sha256Hex(bytes) !== digest) {
      throw new ContentError(
        'CONTENT_ERR_DIGEST_MISMATCH',
        `chunk index ${digest} refused: bytes do not match`,
      );
    }
    const decoded = decodeChunkIndex(bytes);
    if (!decoded.ok)
      throw new ContentError('CONTENT_ERR_BAD_INDEX', `chunk index ${digest}: ${decoded.error.message}`);
    await this.atomicWrite(this.path('indexes', digest), bytes, true);
    return decoded.value;
  }

  async putManifest(digest: Digest, envelope: Uint8Array): Promise<void> {
    const decoded = decodeSignedManifest(envelope);
    if (!decoded.ok)
      throw new ContentError('CONTENT_ERR_BAD_MANIFEST', `manifest ${digest}: ${decoded.error.message}`);
    if (sha256Hex(decoded.value.payload) !== digest) {
      throw new ContentError(
        'CONTENT_ERR_DIGEST_MISMATCH',
        `manifest ${digest} refused: payload digest differs`,
      );
    }
    if (this.options.trust) {
      const opened = openSignedManifest(envelope, this.options.trust);
      if (!opened.ok) {
        throw new ContentError(
          'CONTENT_ERR_BAD_MANIFEST',
          `manifest ${digest} refused: ${opened.error.code}`,
        );
      }
    }
    await this.atomicWrite(this.path('manifests', digest), envelope, true);
  }

  /**
   * Re-verifies every chunk (and its brotli copy's presence only) and removes the ones that do not
   * digest to their name: chunks are renamed into place without fsync, so after a power cut one may
   * hold wrong bytes. The next sync fetches them again. Returns how many were removed.
   */
  async scrub(): Promise<number> {
    let removed = 0;
    for (const digest of await this.chunkDigests()) {
      const bytes = await this.read('chunks', digest);
      if (bytes && sha256Hex(bytes) === digest) continue;
      await rm(this.path('chunks', digest), { force: true });
      await rm(`${this.path('chunks', digest)}.br`, { force: true });
      removed++;
    }
    return removed;
  }

  private async atomicWrite(path: string, bytes: Uint8Array, durable: boolean): Promise<void> {
    const tmp = join(this.dir, 'tmp', randomBytes(8).toString('hex'));
    if (durable) {
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } else {
      await writeFile(tmp, bytes);
    }
    await rename(tmp, path);
  }
}
