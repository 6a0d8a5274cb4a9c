import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChunkIndex, Digest, TrustStore, VerifiedManifest } from '@bootpt/protocol';
import { decodeChunkIndex, isDigest, openSignedManifest, sha256Hex } from '@bootpt/protocol';
import { z } from 'zod';

/**
 * The client's persistent cache:
 *
 *   <dir>/state.json                  what the client holds: manifest digest + validation token (hex)
 *   <dir>/manifests/<digest>          signed manifest envelopes, named by manifest digest (the SHA-256
 *                                     of the canonical manifest payload, SPEC §6)
 *   <dir>/indexes/<digest>            encoded chunk indexes, named by their SHA-256
 *   <dir>/images/<manifest>/<name>    the assembled outputs of a release (`initramfs`, `kernel`,
 *                                     `layer-<n>`, see `boot.ts`): verified layer by layer when written
 *   <dir>/chunks/<digest>             loose chunk bytes, named by their SHA-256 (only chunks fetched one
 *                                     by one, until their release's images are assembled)
 *   <dir>/tmp/                        writes in progress (emptied at start)
 *   <dir>/code/                       the single-file client's V8 code cache (`code-cache.ts`; not
 *                                     read by this class)
 *
 * Every write goes to `tmp/` and is renamed into place, so a name never points at a half-written file,
 * and a killed client leaves at most files in `tmp/`. Manifests and the state file are fsynced before
 * the rename; images and chunks are not, so after a power cut an image or chunk may exist with wrong
 * bytes. That is safe because nothing is trusted by name: every use re-verifies the bytes (images and
 * the chunks taken from them against the signed layer digests, chunks against their digest, manifests
 * against their signature), and what fails is deleted or marked and fetched again ("repaired").
 * The cached images double as the chunk store: an update reads the chunks it keeps from the previous
 * release's image, at offsets its chunk indexes give.
 */

const StateSchema = z
  .object({
    manifestDigest: z.string().refine(isDigest),
    validationToken: z.string().regex(/^[0-9a-f]{32}$/),
    updatedAt: z.string(),
  })
  .strict();

export type CacheState = z.infer<typeof StateSchema>;

export interface CachedManifest {
  readonly envelope: Uint8Array;
  readonly verified: VerifiedManifest;
}

export class ClientCache {
  /** Files found corrupt (and removed) since this object was created, by kind. */
  readonly repaired = { state: 0, manifests: 0, indexes: 0, chunks: 0 };

  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    for (const sub of ['manifests', 'indexes', 'chunks', 'images'])
      await mkdir(join(this.dir, sub), { recursive: true });
    await rm(join(this.dir, 'tmp'), { recursive: true, force: true });
    await mkdir(join(this.dir, 'tmp'), { recursive: true });
  }

  async readState(): Promise<CacheState | null> {
    let text: string;
    try {
      text = await readFile(join(this.dir, 'state.json'), 'utf8');
    } catch {
      return null;
    }
    try {
      const parsed = StateSchema.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
    } catch {
      // fall through: unreadable state is treated as no state and rewritten at the next boot
    }
    this.repaired.state++;
    await rm(join(this.dir, 'state.json'), { force: true });
    return null;
  }

  async writeState(state: Omit<CacheState, 'updatedAt'>): Promise<void> {
    const full: CacheState = { ...state, updatedAt: new Date().toISOString() };
    await this.atomicWrite(join(this.dir, 'state.json'), Buffer.from(JSON.stringify(full)), true);
  }

  /** The cached manifest `digest`, verified against `trust`; null (and removed) when missing or bad. */
  async loadManifest(digest: Digest, trust: TrustStore): Promise<CachedManifest | null> {
    const path = join(this.dir, 'manifests', digest);
    const envelope = await readOrNull(path);
    if (!envelope) return null;
    const opened = openSignedManifest(envelope, trust);
    if (opened.ok && opened.value.digest === digest) return { envelope, verified: opened.value };
    this.repaired.manifests++;
    await rm(path, { force: true });
    return null;
  }

  async putManifest(digest: Digest, envelope: Uint8Array): Promise<void> {
    await this.atomicWrite(join(this.dir, 'manifests', digest), envelope, true);
  }

  async loadIndex(digest: Digest): Promise<ChunkIndex | null> {
    const path = join(this.dir, 'indexes', digest);
    const bytes = await readOrNull(path);
    if (!bytes) return null;
    if (sha256Hex(bytes) === digest) {
      const decoded = decodeChunkIndex(bytes);
      if (decoded.ok) return decoded.value;
    }
    this.repaired.indexes++;
    await rm(path, { force: true });
    return null;
  }

  async putIndex(digest: Digest, bytes: Uint8Array): Promise<void> {
    await this.atomicWrite(join(this.dir, 'indexes', digest), bytes, false);
  }

  /** Digests of the chunk files present (not verified: reads verify). One directory read. */
  async chunkDigests(): Promise<Set<Digest>> {
    const names = await readdir(join(this.dir, 'chunks'));
    return new Set(names.filter(isDigest));
  }

  /** A chunk's bytes if present and intact; a corrupt or truncated file is removed and null returned. */
  async readChunk(digest: Digest, length: number): Promise<Buffer | null> {
    return this.readChunkSync(digest, length);
  }

  /**
   * Synchronous `readChunk` for the assembly loop: thousands of small reads without an event-loop hop
   * each (nothing else runs in the client while it assembles).
   */
  readChunkSync(digest: Digest, length: number): Buffer | null {
    const bytes = this.readChunkUnverifiedSync(digest, length);
    if (!bytes || sha256Hex(bytes) === digest) return bytes;
    this.dropChunk(digest);
    return null;
  }

  /**
   * A chunk's bytes with only the length checked (a truncated file is removed and counted). For callers
   * that verify the bytes another way: the assembly hashes whole layers against their signed digests and
   * falls back to `readChunkSync` per chunk when a layer does not verify.
   */
  readChunkUnverifiedSync(digest: Digest, length: number): Buffer | null {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(this.dir, 'chunks', digest));
    } catch {
      return null;
    }
    if (bytes.length === length) return bytes;
    this.dropChunk(digest);
    return null;
  }

  /** Removes a damaged chunk file, counted as repaired. */
  private dropChunk(digest: Digest): void {
    this.repaired.chunks++;
    rmSync(join(this.dir, 'chunks', digest), { force: true });
  }

  async putChunk(digest: Digest, bytes: Uint8Array): Promise<void> {
    await this.atomicWrite(join(this.dir, 'chunks', digest), bytes, false);
  }

  /** Where release `manifest`'s output `name` is kept once assembled. */
  imagePath(manifest: Digest, name: string): string {
    return join(this.dir, 'images', manifest, name);
  }

  /** A fresh temp file name in `tmp/` (same file system as the cache, so renames are atomic). */
  tmpPath(): string {
    return join(this.dir, 'tmp', randomBytes(8).toString('hex'));
  }

  /** Moves a fully written and verified image from `tmp/` into place. */
  async commitImage(tmp: string, manifest: Digest, name: string): Promise<void> {
    await mkdir(join(this.dir, 'images', manifest), { recursive: true });
    await rename(tmp, this.imagePath(manifest, name));
  }

  /**
   * Removes manifests, indexes, images (by manifest) and chunks that `keep` does not name (the previous
   * release's leftovers).
   */
  async prune(keep: {
    manifests: ReadonlySet<string>;
    indexes: ReadonlySet<string>;
    images?: ReadonlySet<string>;
    chunks: ReadonlySet<string>;
  }): Promise<number> {
    let removed = 0;
    for (const [sub, set] of [
      ['manifests', keep.manifests],
      ['indexes', keep.indexes],
      ['images', keep.images ?? new Set<string>()],
      ['chunks', keep.chunks],
    ] as const) {
      for (const name of await readdir(join(this.dir, sub))) {
        if (set.has(name)) continue;
        await rm(join(this.dir, sub, name), { force: true, recursive: true });
        removed++;
      }
    }
    return removed;
  }

  private async atomicWrite(path: string, bytes: Uint8Array, durable: boolean): Promise<void> {
    const tmp = this.tmpPath();
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
    if (durable) await syncDir(join(path, '..'));
  }
}

async function readOrNull(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch {
    return null;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
