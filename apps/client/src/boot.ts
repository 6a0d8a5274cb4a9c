import { createHash, hash, randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, fstatSync, linkSync, openSync, readSync, statSync, write } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { BootFileName, ChunkRef, Digest, LayerAssembly, Manifest } from '@bootpt/protocol';
import { bootFileName, LayerVerifier } from '@bootpt/protocol';
import type { ClientCache } from './cache.js';
import type { ChunkChecker } from './chunk-checker.js';
import { ClientError } from './errors.js';

/**
 * Assembly and hand-off. A release's outputs — the kernel layer as `kernel`, initramfs layers
 * concatenated in manifest order as `initramfs` (the kernel unpacks concatenated cpio archives in order,
 * so overlays need no merging), any other layer as `layer-<n>` — are assembled once into the cache's
 * image store (`images/<manifest>/<name>`, see `cache.ts`), every chunk checked against its digest in
 * the signed chunk index on the way (once: see `streamLayer`), and then hard-linked (copied across file systems) into `outputDir` with
 * `boot.json` (command line, manifest digest). Every file is written under a temp name and renamed, so
 * neither the cache nor a reader ever sees a half-written image. The cached images are also the chunk
 * store for the next update: a chunk the new release keeps is read from the old image at its offset.
 * Optionally `kexec -l` loads the result.
 */

/** Assembly staging buffers (two): reads from old images land here; each is written in one call. */
export const STAGE_BYTES = 8 * 1024 * 1024;

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

/**
 * Writes an image sequentially through two staging buffers: while one is being written (on the thread
 * pool), the other fills and is hashed, so writing overlaps reading, hashing and the arrival of chunks.
 */
class ImageWriter {
  private readonly stages: readonly Buffer[];
  private readonly writing: (Promise<void> | null)[] = [null, null];
  /** Runs being read and checked by the checker into each buffer: done before the buffer is written. */
  private readonly checking: Promise<unknown>[][] = [[], []];
  private current = 0;
  private pos = 0;
  private offset = 0;

  constructor(
    private readonly fd: number,
    private readonly checker: ChunkChecker | null = null,
  ) {
    this.stages = checker
      ? checker.stages
      : [Buffer.allocUnsafe(STAGE_BYTES), Buffer.allocUnsafe(STAGE_BYTES)];
  }

  private get stage(): Buffer {
    return this.stages[this.current]!;
  }

  /** Hands the filled part of the current buffer to the thread pool and switches buffers. */
  private async rotate(): Promise<void> {
    if (this.pos === 0) return;
    const checks = this.checking[this.current]!;
    if (checks.length > 0) {
      await Promise.all(checks);
      checks.length = 0;
    }
    const buf = this.stage;
    const length = this.pos;
    const at = this.offset;
    this.writing[this.current] = new Promise<void>((resolve, reject) => {
      write(this.fd, buf, 0, length, at, (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
    this.offset += length;
    this.pos = 0;
    this.current ^= 1;
    await this.writing[this.current];
    this.writing[this.current] = null;
  }

  /** Copies `bytes` in (already verified: not hashed again). */
  async put(bytes: Uint8Array): Promise<void> {
    let from = 0;
    while (from < bytes.length) {
      if (this.pos === this.stage.length) await this.rotate();
      const n = Math.min(bytes.length - from, this.stage.length - this.pos);
      this.stage.set(bytes.subarray(from, from + n), this.pos);
      this.pos += n;
      from += n;
    }
  }

  /**
   * Places `chunks` (back to back in `fd` from `offset`) in the image, each checked against its digest.
   * Chunks go in runs of as many whole chunks as fit the buffer (chunks are KiB, buffers MiB): with a
   * checker, each run is read and hashed by its workers while this goes on (`bad` settles when they
   * are); without one, read in one call and hashed here (crypto.hash: about 5 µs less per chunk than a
   * Hash object, measured). `bad` lists the chunks that do not verify (all from a short read on).
   */
  async copyChecked(
    fd: number,
    offset: number,
    chunks: readonly ChunkRef[],
  ): Promise<{ bad: Promise<ChunkRef[]> }> {
    const checker = this.checker?.usable ? this.checker : null;
    const bad: ChunkRef[] = [];
    const later: Promise<ChunkRef[]>[] = [];
    let i = 0;
    while (i < chunks.length) {
      const first = chunks[i]!;
      if (first.length > this.stage.length) {
        if (!(await this.copyLarge(fd, offset, first))) bad.push(first);
        offset += first.length;
        i++;
        continue;
      }
      if (this.stage.length - this.pos < first.length) await this.rotate();
      let end = i;
      let length = 0;
      while (end < chunks.length && length + chunks[end]!.length <= this.stage.length - this.pos) {
        length += chunks[end]!.length;
        end++;
      }
      const run = chunks.slice(i, end);
      if (checker) {
        const checked = checker
          .check(
            fd,
            offset,
            this.current,
            this.pos,
            run.map((c) => c.length),
            run.map((c) => c.digest),
          )
          .then((indexes) => indexes.map((k) => run[k]!));
        this.checking[this.current]!.push(checked);
        later.push(checked);
      } else {
        const got = readAt(fd, this.stage, this.pos, length, offset);
        let at = this.pos;
        for (const chunk of run) {
          const stop = at + chunk.length;
          if (stop > this.pos + got || hash('sha256', this.stage.subarray(at, stop), 'hex') !== chunk.digest)
            bad.push(chunk);
          at = stop;
        }
      }
      // After a short read the run's tail does not verify and the image is discarded, so the buffer's
      // place and the file offset simply move on by the run.
      this.pos += length;
      offset += length;
      i = end;
    }
    return { bad: Promise.all(later).then((lists) => bad.concat(...lists)) };
  }

  /** Waits for every read and check still out (before the files they read are closed). */
  async settle(): Promise<void> {
    for (const checks of this.checking) await Promise.all(checks);
  }

  /**
   * A chunk larger than a buffer (maxSize allows up to 1 GiB), read and hashed here piece by piece:
   * true when all of it was read and it matches its digest.
   */
  private async copyLarge(fd: number, offset: number, chunk: ChunkRef): Promise<boolean> {
    const h = createHash('sha256');
    let left = chunk.length;
    while (left > 0) {
      if (this.pos === this.stage.length) await this.rotate();
      const want = Math.min(left, this.stage.length - this.pos);
      const got = readAt(fd, this.stage, this.pos, want, offset);
      h.update(this.stage.subarray(this.pos, this.pos + got));
      this.pos += got;
      offset += got;
      left -= got;
      if (got < want) return false;
    }
    return h.digest('hex') === chunk.digest;
  }

  async finish(): Promise<void> {
    await this.rotate();
    for (const w of this.writing) if (w) await w;
  }
}

/**
 * One layer streamed into `out`: fresh chunks copied from memory (waiting for those still arriving),
 * runs of chunks that sit back to back in a cached image read in large blocks, loose chunk files read
 * whole. Each chunk is verified exactly once against its digest in the signed chunk index: fresh ones
 * when they arrived (`ChunkSources.fresh`), those read from the cache here. The layer's own digest is
 * not computed again: the index is named by digest in the signed manifest and its chunks' lengths sum
 * to the layer's size (`decodeChunkIndex`, `planDelta`), so verified chunks are the layer the publisher
 * indexed (see the README's "What is verified, and when"). Returns the chunks not available anywhere or
 * found damaged (image locations marked damaged, loose files removed; both counted as repaired).
 */
async function streamLayer(
  cache: ClientCache,
  layer: LayerAssembly,
  sources: ChunkSources,
  readers: Readers,
  out: ImageWriter,
): Promise<Digest[]> {
  const missing: Digest[] = [];
  const lose = (digest: Digest) => {
    if (!missing.includes(digest)) missing.push(digest);
  };
  // A run of chunks contiguous in one image file, read when the run breaks; its verdict may come later
  // (checked off this thread), and every verdict is in before the layer is done.
  let run: { fd: number; offset: number; end: number; chunks: ChunkRef[] } | null = null;
  const verdicts: Promise<ChunkRef[]>[] = [];
  const readRun = async () => {
    if (!run) return;
    const { fd, offset, chunks } = run;
    run = null;
    verdicts.push((await out.copyChecked(fd, offset, chunks)).bad);
  };
  for (const chunk of layer.chunks) {
    let fresh = sources.fresh.get(chunk.digest);
    if (!fresh) {
      const arriving = sources.arriving?.(chunk.digest);
      if (arriving) {
        await readRun();
        fresh = (await arriving) ?? undefined;
        if (!fresh) {
          lose(chunk.digest);
          continue;
        }
      }
    }
    if (fresh) {
      await readRun();
      await out.put(fresh);
      continue;
    }
    const at = sources.damaged.has(chunk.digest) ? undefined : sources.located.get(chunk.digest);
    const fd = at ? readers.fd(at.path) : null;
    if (at && fd !== null) {
      if (run && run.fd === fd && run.end === at.offset) {
        run.chunks.push(chunk);
        run.end += chunk.length;
      } else {
        await readRun();
        run = { fd, offset: at.offset, end: at.offset + chunk.length, chunks: [chunk] };
      }
      continue;
    }
    await readRun();
    const loose = cache.readChunkSync(chunk.digest, chunk.length);
    if (loose) await out.put(loose);
    else lose(chunk.digest);
  }
  await readRun();
  for (const bad of await Promise.all(verdicts)) {
    for (const chunk of bad) {
      if (!sources.damaged.has(chunk.digest)) cache.repaired.chunks++;
      sources.damaged.add(chunk.digest);
      lose(chunk.digest);
    }
  }
  return missing;
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
 * 60-90 ms for a 124 MB image on this project's test machines, against ~10 ms for a rename to a free name
 * (measured, see the client README). That flush buys nothing here: a crash between the two steps leaves
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
  const stage = Buffer.allocUnsafe(STAGE_BYTES);
  let bytes = 0;
  try {
    for (const [name, group] of outputGroups(layers)) {
      const target = cache.imagePath(manifest, name);
      images.push([name, target]);
      const size = group.reduce((n, l) => n + l.size, 0);
      const untouched = group.every((l) =>
        l.chunks.every((c) => !sources.fresh.has(c.digest) && !sources.arriving?.(c.digest)),
      );
      if (untouched && isFile(target) && verifyInPlace(target, group, stage)) {
        bytes += size;
        continue;
      }
      const tmp = cache.tmpPath();
      const fd = openSync(tmp, 'w');
      let complete = true;
      const out = new ImageWriter(fd, checker);
      try {
        for (const layer of group) {
          const lost = await streamLayer(cache, layer, sources, readers, out);
          for (const d of lost) if (!missing.includes(d)) missing.push(d);
          if (lost.length > 0) complete = false;
        }
        await out.finish();
      } finally {
        // No read into `out` may still be running when the files close (after a failure too).
        await out.settle();
        closeSync(fd);
      }
      if (!complete) {
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
