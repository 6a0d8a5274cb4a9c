import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { isDigest, type Digest } from '@bootpt/protocol';

/**
 * Content-addressed blob storage: layers, chunks and encoded chunk indexes, each named by the SHA-256 of
 * its bytes (64 lower-case hex, the protocol's `Digest`). A blob is either fully present with exactly the
 * bytes its name promises, or absent: writers verify the digest before a blob becomes visible.
 *
 * An S3-compatible implementation satisfies the same contract with objects keyed `sha256/<aa>/<hex>`:
 * `put` streams a multipart upload to a temporary key while hashing, then copies it to its final key only
 * when the digest matches (or uses the provider's `x-amz-checksum-sha256` on a single-part upload);
 * `get` is a ranged GET, `has`/`stat` a HEAD, `delete` a DELETE. `putFile` may upload and then remove
 * the local file.
 */
export interface BlobStore {
  /**
   * Streams `source` into the store. The digest of the bytes is computed while writing; when `expected`
   * names a digest or size that does not match, nothing is stored and a `BlobStoreError` is thrown.
   * Storing a blob that is already present is a no-op (`created: false`).
   */
  put(source: BlobSource, expected?: BlobExpectation): Promise<BlobPutResult>;
  /** Moves a local file into the store (verified like `put`); the file is gone afterwards either way. */
  putFile(path: string, expected?: BlobExpectation): Promise<BlobPutResult>;
  /** A stream of the blob's bytes (`start`/`end` inclusive, like HTTP ranges), or null when absent. */
  get(digest: Digest, range?: { start: number; end?: number }): Promise<Readable | null>;
  /** The whole blob in memory: only for small blobs (chunks, indexes); null when absent. */
  getBytes(digest: Digest): Promise<Buffer | null>;
  has(digest: Digest): Promise<boolean>;
  stat(digest: Digest): Promise<{ size: number } | null>;
  /** True when a blob was removed. */
  delete(digest: Digest): Promise<boolean>;
  /** Relative key of a blob (what `Layer.storageKey` records). */
  keyOf(digest: Digest): string;
  /**
   * Many small blobs (chunks) at once: each is verified on `add`, and none is visible before `commit`
   * has made it durable. Cheaper than `put` per blob (one flush per batch instead of per blob).
   */
  batch(): BlobBatch;
}

export interface BlobBatch {
  /** Verifies `bytes` against `digest` and stages them (a no-op when the blob is already stored). */
  add(digest: Digest, bytes: Uint8Array): Promise<void>;
  /** Makes everything staged durable and visible; returns how many blobs were new. */
  commit(): Promise<number>;
  /** Drops what is staged and not committed. */
  abort(): Promise<void>;
}

export type BlobSource = Uint8Array | Readable | AsyncIterable<Uint8Array>;

export interface BlobExpectation {
  digest?: Digest;
  size?: number;
}

export interface BlobPutResult {
  digest: Digest;
  size: number;
  created: boolean;
}

export type BlobStoreErrorCode = 'BLOB_DIGEST_MISMATCH' | 'BLOB_SIZE_MISMATCH' | 'BLOB_BAD_DIGEST';

export class BlobStoreError extends Error {
  constructor(
    readonly code: BlobStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BlobStoreError';
  }
}

function assertDigest(digest: string): void {
  if (!isDigest(digest)) {
    throw new BlobStoreError('BLOB_BAD_DIGEST', `not a SHA-256 digest: ${String(digest).slice(0, 80)}`);
  }
}

/** Hashes and counts the bytes that pass through. */
class HashingCounter extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  override _transform(
    chunk: Buffer,
    _enc: BufferEncoding,
    done: (err?: Error | null, data?: Buffer) => void,
  ) {
    this.hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }
}

function check(digest: Digest, size: number, expected: BlobExpectation | undefined): void {
  if (expected?.size !== undefined && expected.size !== size) {
    throw new BlobStoreError('BLOB_SIZE_MISMATCH', `expected ${expected.size} bytes, got ${size}`);
  }
  if (expected?.digest !== undefined && expected.digest !== digest) {
    throw new BlobStoreError('BLOB_DIGEST_MISMATCH', `expected sha256 ${expected.digest}, got ${digest}`);
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * The filesystem implementation: `<root>/sha256/<first two hex>/<digest>`, written through
 * `<root>/tmp/` (write, fsync, verify, rename, fsync the directory), so a crash at any point leaves
 * either no blob or a complete one, plus at most a stray temporary file that `sweepTemp` removes.
 */
export class FsBlobStore implements BlobStore {
  private readonly tmpDir: string;

  constructor(readonly root: string) {
    this.tmpDir = join(root, 'tmp');
  }

  keyOf(digest: Digest): string {
    assertDigest(digest);
    return `sha256/${digest.slice(0, 2)}/${digest}`;
  }

  private pathOf(digest: Digest): string {
    return join(this.root, this.keyOf(digest));
  }

  private async tempPath(): Promise<string> {
    await mkdir(this.tmpDir, { recursive: true });
    return join(this.tmpDir, `${randomUUID()}.part`);
  }

  async put(source: BlobSource, expected?: BlobExpectation): Promise<BlobPutResult> {
    if (expected?.digest !== undefined) assertDigest(expected.digest);
    if (expected?.digest !== undefined && (await this.has(expected.digest))) {
      // Still consume and verify: a caller that lies about its bytes must hear about it.
      const { digest, size } = await hashSource(source);
      check(digest, size, expected);
      return { digest, size, created: false };
    }
    const temp = await this.tempPath();
    try {
      const counter = new HashingCounter();
      const input = source instanceof Uint8Array ? [source] : source;
      await pipeline(input, counter, createWriteStream(temp, { flags: 'wx' }));
      await fsyncPath(temp);
      const digest = counter.hash.digest('hex');
      check(digest, counter.size, expected);
      const created = await this.commit(temp, digest);
      return { digest, size: counter.size, created };
    } finally {
      await rm(temp, { force: true });
    }
  }

  async putFile(path: string, expected?: BlobExpectation): Promise<BlobPutResult> {
    try {
      const { digest, size } = await hashSource(createReadStream(path));
      check(digest, size, expected);
      await fsyncPath(path);
      const created = await this.commit(path, digest);
      return { digest, size, created };
    } finally {
      await rm(path, { force: true });
    }
  }

  /** Makes a verified, synced temporary file the blob `digest`; false when it already existed. */
  private async commit(temp: string, digest: Digest): Promise<boolean> {
    const target = this.pathOf(digest);
    await mkdir(dirname(target), { recursive: true });
    try {
      // link() fails when the target exists, so a present blob is never replaced (and never torn).
      await link(temp, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      if (
        (err as NodeJS.ErrnoException).code !== 'EPERM' &&
        (err as NodeJS.ErrnoException).code !== 'ENOTSUP'
      )
        throw err;
      // Filesystems without hard links: rename is still atomic.
      await rename(temp, target);
    }
    await fsyncPath(dirname(target));
    return true;
  }

  batch(): BlobBatch {
    return new FsBlobBatch(this);
  }

  /** Used by batches: a fresh temporary path. */
  async stagingPath(): Promise<string> {
    return this.tempPath();
  }

  /** Used by batches: links a synced temporary file into place without syncing the directory. */
  async linkInto(temp: string, digest: Digest): Promise<boolean> {
    const target = this.pathOf(digest);
    await mkdir(dirname(target), { recursive: true });
    try {
      await link(temp, target);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  dirOf(digest: Digest): string {
    return dirname(this.pathOf(digest));
  }

  async get(digest: Digest, range?: { start: number; end?: number }): Promise<Readable | null> {
    const path = this.pathOf(digest);
    try {
      const handle = await open(path, 'r');
      return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async getBytes(digest: Digest): Promise<Buffer | null> {
    const stream = await this.get(digest);
    if (!stream) return null;
    const parts: Buffer[] = [];
    for await (const part of stream) parts.push(part as Buffer);
    return Buffer.concat(parts);
  }

  async has(digest: Digest): Promise<boolean> {
    return (await this.stat(digest)) !== null;
  }

  async stat(digest: Digest): Promise<{ size: number } | null> {
    try {
      const s = await stat(this.pathOf(digest));
      return { size: s.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(digest: Digest): Promise<boolean> {
    try {
      await unlink(this.pathOf(digest));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /** Removes temporary files older than `olderThanMs` (left by a crash mid-write). */
  async sweepTemp(olderThanMs = 60 * 60_000): Promise<number> {
    let removed = 0;
    let names: string[];
    try {
      names = await readdir(this.tmpDir);
    } catch {
      return 0;
    }
    const cutoff = Date.now() - olderThanMs;
    for (const name of names) {
      const path = join(this.tmpDir, name);
      const s = await stat(path).catch(() => null);
      if (s && s.mtimeMs < cutoff) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }
}

/** Staged blobs are written without syncing; `commit` syncs them in parallel before linking them in. */
class FsBlobBatch implements BlobBatch {
  private staged: { temp: string; digest: Digest }[] = [];
  private readonly seen = new Set<Digest>();
  static readonly AUTO_COMMIT = 1024;
  static readonly PARALLEL_SYNCS = 16;

  constructor(private readonly store: FsBlobStore) {}

  async add(digest: Digest, bytes: Uint8Array): Promise<void> {
    assertDigest(digest);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== digest)
      throw new BlobStoreError('BLOB_DIGEST_MISMATCH', `expected sha256 ${digest}, got ${actual}`);
    if (this.seen.has(digest) || (await this.store.has(digest))) return;
    this.seen.add(digest);
    const temp = await this.store.stagingPath();
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
    } finally {
      await handle.close();
    }
    this.staged.push({ temp, digest });
    if (this.staged.length >= FsBlobBatch.AUTO_COMMIT) await this.commit();
  }

  async commit(): Promise<number> {
    const staged = this.staged;
    this.staged = [];
    let next = 0;
    const syncer = async () => {
      while (next < staged.length) await fsyncPath(staged[next++]!.temp);
    };
    try {
      await Promise.all(Array.from({ length: Math.min(FsBlobBatch.PARALLEL_SYNCS, staged.length) }, syncer));
      let created = 0;
      const dirs = new Set<string>();
      for (const { temp, digest } of staged) {
        if (await this.store.linkInto(temp, digest)) {
          created++;
          dirs.add(this.store.dirOf(digest));
        }
      }
      await Promise.all([...dirs].map((d) => fsyncPath(d)));
      return created;
    } finally {
      await Promise.all(staged.map((s) => rm(s.temp, { force: true })));
    }
  }

  async abort(): Promise<void> {
    const staged = this.staged;
    this.staged = [];
    await Promise.all(staged.map((s) => rm(s.temp, { force: true })));
  }
}

async function hashSource(source: BlobSource): Promise<{ digest: Digest; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const input: AsyncIterable<Uint8Array> | Uint8Array[] = source instanceof Uint8Array ? [source] : source;
  for await (const part of input) {
    hash.update(part);
    size += part.length;
  }
  return { digest: hash.digest('hex'), size };
}

/** SHA-256 and size of a local file, streamed. */
export function hashFile(path: string): Promise<{ digest: Digest; size: number }> {
  return hashSource(createReadStream(path));
}
