import { createHash, hash, randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  fstatSync,
  linkSync,
  openSync,
  readSync,
  statSync,
  writeSync,
  writev,
} from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { BootFileName, ChunkRef, Digest, LayerAssembly, Manifest } from '@bootpt/protocol';
import { bootFileName, LayerVerifier } from '@bootpt/protocol';
import type { ClientCache } from './cache.js';
import { COPY_BYTES, copyChunks, type ChunkChecker, type CopyBatch } from './chunk-checker.js';
import { ClientError } from './errors.js';

/**
 * Assembly and hand-off. A release's outputs — the kernel layer as `kernel`, initramfs layers
 * concatenated in manifest order as `initramfs` (the kernel unpacks concatenated cpio archives in order,
 * so overlays need no merging), any other layer as `layer-<n>` — are assembled once into the cache's
 * image store (`images/<manifest>/<name>`, see `cache.ts`), every chunk checked against its digest in
 * the signed chunk index on the way (once: see `placeImage`), and then hard-linked (copied across file systems) into `outputDir` with
 * `boot.json` (command line, manifest digest). Every file is written under a temp name and renamed, so
 * neither the cache nor a reader ever sees a half-written image. The cached images are also the chunk
 * store for the next update: a chunk the new release keeps is read from the old image at its offset.
 * Optionally `kexec -l` loads the result.
 */

/** The read buffer of a warm boot's in-place check of a cached image. */
const VERIFY_BYTES = 8 * 1024 * 1024;

export interface AssemblyOutcome {
  /** Chunks that were missing or failed verification on read (removed from the cache or marked damaged). */
  readonly missing: Digest[];
  readonly files: Record<string, string>;
  readonly bytes: number;
}

/** Where a chunk sits inside a cached image file. */
export interface ChunkLocation {
  readonly path: string;
  readonly offset: number;
}

/** Where assembly finds chunk bytes, in order of preference. */
export interface ChunkSources {
  /** Chunks fetched and verified during this boot, still in memory: not read back or hashed again. */
  readonly fresh: ReadonlyMap<Digest, Uint8Array>;
  /** Chunks inside cached images (the held release's, or this release's own from an earlier boot). */
  readonly located: ReadonlyMap<Digest, ChunkLocation>;
  /** Image locations found damaged this boot: never read again (the chunk is refetched). */
  readonly damaged: Set<Digest>;
  /**
   * Chunks still arriving (a static delta being decoded): a promise of the verified bytes (null when
   * the chunk will not come), or undefined when `digest` is not expected.
   */
  readonly arriving?: (digest: Digest) => Promise<Uint8Array | null> | undefined;
}

/** The output files of a release (SPEC §5.4 boot file names): name → its layers in manifest order. */
export function outputGroups(layers: readonly LayerAssembly[]): Map<BootFileName, LayerAssembly[]> {
  const groups = new Map<BootFileName, LayerAssembly[]>();
  for (const layer of layers) {
    const name = bootFileName(layer.mediaType, layer.layerIndex);
    const list = groups.get(name) ?? [];
    list.push(layer);
    groups.set(name, list);
  }
  return groups;
}

/**
 * Every chunk of `manifest`'s cached images (those present in the cache), by digest: the first place
 * each occurs. Nothing is read or verified here; assembly verifies whatever it takes from an image.
 */
export function locateImageChunks(
  cache: ClientCache,
  manifest: Digest,
  layers: readonly LayerAssembly[],
  into: Map<Digest, ChunkLocation> = new Map(),
): Map<Digest, ChunkLocation> {
  for (const [name, group] of outputGroups(layers)) {
    const path = cache.imagePath(manifest, name);
    if (!isFile(path)) continue;
    let base = 0;
    for (const layer of group) {
      for (const c of layer.chunks) {
        if (!into.has(c.digest)) into.set(c.digest, { path, offset: base + c.offset });
      }
      base += layer.size;
    }
  }
  return into;
}

/** Reads exactly `length` bytes at `offset` (fewer when the file is shorter). */
function readAt(fd: number, into: Buffer, at: number, length: number, offset: number): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, into, at + done, length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Open image files by path for one assembly. */
class Readers {
  private readonly fds = new Map<string, number>();
  fd(path: string): number | null {
    let fd = this.fds.get(path);
    if (fd === undefined) {
      try {
        fd = openSync(path, 'r');
      } catch {
        return null;
      }
      this.fds.set(path, fd);
    }
    return fd;
  }
  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

/** At most this many buffers go into one writev(2) (Linux's IOV_MAX is 1024). */
const MAX_IOV = 512;

/** Writes all of `buffers` at `position` (looping over short writes). */
async function writeAll(fd: number, buffers: readonly Uint8Array[], position: number): Promise<void> {
  let list = buffers;
  while (list.length > 0) {
    const written = await new Promise<number>((resolve, reject) =>
      writev(fd, list as Uint8Array[], position, (err, n) => (err ? reject(err) : resolve(n))),
    );
    position += written;
    let skip = written;
    let k = 0;
    while (k < list.length && skip >= list[k]!.length) skip -= list[k++]!.length;
    list = list.slice(k);
    if (skip > 0) list = [list[0]!.subarray(skip), ...list.slice(1)];
  }
}

/**
 * The chunks of one new image that are in memory (fetched, or decoded from the static delta), written
 * at their offsets as they become available, on the thread pool: pieces placed in the same turn of the
 * event loop are sorted and those back to back go out in one writev(2).
 */
class Placer {
  private queue: { at: number; bytes: Uint8Array }[] = [];
  private scheduled = false;
  private readonly writes: Promise<void>[] = [];

  constructor(private readonly fd: number) {}

  place(at: number, bytes: Uint8Array): void {
    this.queue.push({ at, bytes });
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const pieces = this.queue.sort((a, b) => a.at - b.at);
    this.queue = [];
    let i = 0;
    while (i < pieces.length) {
      let end = pieces[i]!.at + pieces[i]!.bytes.length;
      let j = i + 1;
      while (j < pieces.length && j - i < MAX_IOV && pieces[j]!.at === end) {
        end += pieces[j]!.bytes.length;
        j++;
      }
      const write = writeAll(
        this.fd,
        pieces.slice(i, j).map((p) => p.bytes),
        pieces[i]!.at,
      );
      write.catch(() => undefined); // raised by done()
      this.writes.push(write);
      i = j;
    }
  }

  /** Every write placed so far is done (the first error raised). */
  async done(): Promise<void> {
    if (this.scheduled) this.flush();
    await Promise.all(this.writes);
  }
}

/**
 * Builds the batches of kept chunks for `copyChunks`: per source file, up to `COPY_BYTES` each (a
 * single larger chunk is a batch of its own).
 */
class KeptBatches {
  private batch: {
    src: number;
    from: number[];
    to: number[];
    lengths: number[];
    digests: string[];
    chunks: ChunkRef[];
    bytes: number;
  } | null = null;

  constructor(
    private readonly dst: number,
    private readonly send: (batch: CopyBatch, chunks: readonly ChunkRef[]) => void,
  ) {}

  add(src: number, from: number, to: number, chunk: ChunkRef): void {
    let b = this.batch;
    if (b && (b.src !== src || b.bytes + chunk.length > COPY_BYTES)) {
      this.flush();
      b = null;
    }
    if (!b) {
      b = { src, from: [], to: [], lengths: [], digests: [], chunks: [], bytes: 0 };
      this.batch = b;
    }
    b.from.push(from);
    b.to.push(to);
    b.lengths.push(chunk.length);
    b.digests.push(chunk.digest);
    b.chunks.push(chunk);
    b.bytes += chunk.length;
  }

  flush(): void {
    const b = this.batch;
    if (!b) return;
    this.batch = null;
    this.send(
      { src: b.src, dst: this.dst, from: b.from, to: b.to, lengths: b.lengths, digests: b.digests },
      b.chunks,
    );
  }
}

/**
 * One image's layers placed into `fd`, every chunk at its own offset as soon as its bytes are at hand,
 * in no particular order: chunks in memory at once, chunks still arriving from the delta when they
 * arrive (nothing waits for them but the end), chunks kept from a cached image copied and checked by
 * the checker's workers (or here, when there is none), loose chunk files read and written here. Each
 * chunk is verified exactly once against its digest in the signed chunk index: fresh ones when they
 * arrived (`ChunkSources.fresh`), those read from the cache on their way in. The layer's own digest is
 * not computed again: the index is named by digest in the signed manifest and its chunks' lengths sum
 * to the layer's size (`decodeChunkIndex`, `planDelta`), so verified chunks are the layer the publisher
 * indexed (see the README's "What is verified, and when"). Returns the chunks not available anywhere or
 * found damaged (image locations marked damaged, loose files removed; both counted as repaired).
 */
async function placeImage(
  cache: ClientCache,
  group: readonly LayerAssembly[],
  sources: ChunkSources,
  readers: Readers,
  fd: number,
  checker: ChunkChecker | null,
): Promise<Digest[]> {
  const missing = new Set<Digest>();
  const damaged = (chunk: ChunkRef) => {
    if (!sources.damaged.has(chunk.digest)) cache.repaired.chunks++;
    sources.damaged.add(chunk.digest);
    missing.add(chunk.digest);
  };
  const placer = new Placer(fd);
  const pending: Promise<unknown>[] = [];
  let buffer: Buffer | null = null;
  const kept = new KeptBatches(fd, (batch, chunks) => {
    const bad = checker?.usable
      ? checker.copy(batch)
      : new Promise<number[]>((resolve) =>
          resolve(
            copyChunks(
              { readSync, writeSync, hash, createHash },
              (buffer ??= Buffer.allocUnsafe(COPY_BYTES)),
              batch,
            ),
          ),
        );
    pending.push(bad.then((indexes) => indexes.forEach((k) => damaged(chunks[k]!))));
  });
  let base = 0;
  for (const layer of group) {
    for (const chunk of layer.chunks) {
      const at = base + chunk.offset;
      const fresh = sources.fresh.get(chunk.digest);
      if (fresh) {
        placer.place(at, fresh);
        continue;
      }
      const arriving = sources.arriving?.(chunk.digest);
      if (arriving) {
        pending.push(arriving.then((bytes) => (bytes ? placer.place(at, bytes) : missing.add(chunk.digest))));
        continue;
      }
      const from = sources.damaged.has(chunk.digest) ? undefined : sources.located.get(chunk.digest);
      const src = from ? readers.fd(from.path) : null;
      if (from && src !== null) {
        kept.add(src, from.offset, at, chunk);
        continue;
      }
      const loose = cache.readChunkSync(chunk.digest, chunk.length);
      if (loose) placer.place(at, loose);
      else missing.add(chunk.digest);
    }
    base += layer.size;
  }
  kept.flush();
  try {
    await Promise.all(pending);
  } finally {
    // No write into `fd` may still be running when it closes (after a failure too).
    await Promise.allSettled(pending);
    await placer.done();
  }
  return [...missing];
}

/** Hashes a cached image in place against its layers: true when every layer verifies. */
function verifyInPlace(path: string, group: readonly LayerAssembly[], stage: Buffer): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = group.reduce((n, l) => n + l.size, 0);
    if (fstatSync(fd).size !== size) return false;
    let offset = 0;
    for (const layer of group) {
      const verifier = new LayerVerifier(layer);
      let left = layer.size;
      while (left > 0) {
        const got = readAt(fd, stage, 0, Math.min(left, stage.length), offset);
        if (got === 0) return false;
        verifier.update(stage.subarray(0, got));
        offset += got;
        left -= got;
      }
      if (!verifier.finish().ok) return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * `target` appears at `path`: a hard link, or a copy renamed into place when the output directory is on
 * another file system. A file already at `path` is removed first, not replaced by the rename: on ext4,
 * renaming over an existing file (auto_da_alloc) writes the whole new image to disk inside rename(2),
 * 55-100 ms for a 120 MB file on this project's test machines, against 9-26 ms for a rename to a free name
 * (measured, see the client README's "Cache and crash safety"). That flush buys nothing here: a crash between the two steps leaves
 * no file at `path`, and every boot publishes its outputs again from the verified cache.
 */
async function publish(target: string, path: string): Promise<void> {
  await rm(path, { force: true });
  try {
    linkSync(target, path);
    return;
  } catch {
    // another file system (EXDEV) or no hard links: copied below
  }
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    copyFileSync(target, tmp);
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Makes sure `manifest`'s images are in the cache, verified, and linked into `outputDir`. An image
 * already cached for this release is hashed in place (a warm boot reads it once and writes nothing);
 * otherwise it is assembled from `sources` into a temp file, each layer checked against its signed
 * digest, and renamed into the image store. If chunks are missing or damaged nothing reaches
 * `outputDir`; they are returned in `missing` so the caller can fetch them and try again.
 */
export async function assembleOutputs(
  cache: ClientCache,
  manifest: Digest,
  layers: readonly LayerAssembly[],
  outputDir: string,
  sources: ChunkSources,
  checker: ChunkChecker | null = null,
): Promise<AssemblyOutcome> {
  await mkdir(outputDir, { recursive: true });
  const missing: Digest[] = [];
  const images: [string, string][] = [];
  const readers = new Readers();
  let stage: Buffer | null = null;
  let bytes = 0;
  try {
    for (const [name, group] of outputGroups(layers)) {
      const target = cache.imagePath(manifest, name);
      images.push([name, target]);
      const size = group.reduce((n, l) => n + l.size, 0);
      const untouched = group.every((l) =>
        l.chunks.every((c) => !sources.fresh.has(c.digest) && !sources.arriving?.(c.digest)),
      );
      if (
        untouched &&
        isFile(target) &&
        verifyInPlace(target, group, (stage ??= Buffer.allocUnsafe(VERIFY_BYTES)))
      ) {
        bytes += size;
        continue;
      }
      const tmp = cache.tmpPath();
      const fd = openSync(tmp, 'w');
      let lost: Digest[];
      try {
        lost = await placeImage(cache, group, sources, readers, fd, checker);
      } finally {
        closeSync(fd);
      }
      for (const d of lost) if (!missing.includes(d)) missing.push(d);
      if (lost.length > 0) {
        await rm(tmp, { force: true });
        continue;
      }
      await cache.commitImage(tmp, manifest, name);
      bytes += size;
    }
  } finally {
    readers.close();
  }
  if (missing.length > 0) return { missing, files: {}, bytes: 0 };
  const files: Record<string, string> = {};
  for (const [name, target] of images) {
    const final = join(outputDir, name);
    await publish(target, final);
    files[name] = final;
  }
  return { missing, files, bytes };
}

export type KexecOutcome = 'loaded' | 'not-requested' | 'unavailable' | 'no-kernel';

/** Writes `boot.json` and, when asked and possible, loads the kernel with `kexec -l`. */
export async function handOff(args: {
  outputDir: string;
  manifest: Manifest;
  manifestDigest: Digest;
  files: Record<string, string>;
  kexec: boolean;
}): Promise<KexecOutcome> {
  const { outputDir, manifest, manifestDigest, files } = args;
  const info = {
    manifestDigest,
    release: manifest.release,
    kernelCmdline: manifest.kernelCmdline,
    files,
  };
  const tmp = join(outputDir, `.boot.json.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`);
  await rename(tmp, join(outputDir, 'boot.json'));
  if (!args.kexec) return 'not-requested';
  if (!files.kernel) return 'no-kernel';
  // Loaded only here: child_process costs every start a few ms and is needed only for kexec.
  const { spawnSync } = await import('node:child_process');
  const probe = spawnSync('kexec', ['--version'], { timeout: 5000, stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return 'unavailable';
  const kexecArgs = ['-l', files.kernel, `--command-line=${manifest.kernelCmdline}`];
  if (files.initramfs) kexecArgs.push(`--initrd=${files.initramfs}`);
  const run = spawnSync('kexec', kexecArgs, { timeout: 60_000, encoding: 'utf8' });
  if (run.status !== 0) {
    throw new ClientError(
      'CLIENT_ERR_BOOT',
      `kexec -l failed: ${run.stderr || run.error?.message || run.status}`,
    );
  }
  return 'loaded';
}
