import { createHash } from 'node:crypto';
import { link, mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { indexLayer, seededRandom, type Digest, type LayerAssembly } from '@bootpt/protocol';
import { assembleOutputs, locateImageChunks, type ChunkSources } from './boot.js';
import { ClientCache } from './cache.js';
import { ChunkChecker } from './chunk-checker.js';

const SMALL = { minSize: 256, avgSize: 1024, maxSize: 4096 };
const OLD: Digest = 'a'.repeat(64);
const NEW: Digest = 'b'.repeat(64);

function bytes(n: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
}

function layerOf(data: Uint8Array): LayerAssembly {
  const index = indexLayer(data, SMALL);
  return {
    layerIndex: 0,
    digest: index.layerDigest,
    size: index.layerSize,
    mediaType: 'application/vnd.bootpt.initramfs.cpio',
    chunks: index.chunks,
  };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Assembly of an update from a held image plus fresh chunks, on a real cache directory: each chunk is
 * checked once, those read from the held image as they are copied (damage is found and located without
 * a whole-layer hash), fresh ones not again.
 */
describe.each([
  ['read and hashed on the main thread', false],
  ['read and hashed by the chunk checker worker', true],
])('assembleOutputs (update from a held image), kept chunks %s', (_, withChecker) => {
  let dir: string;
  let cache: ClientCache;
  let checker: ChunkChecker | null = null;
  // The held release: 48 KiB; the new one keeps its first 32 KiB and adds 16 new.
  const old = bytes(48 * 1024, 7);
  const next = new Uint8Array([...old.subarray(0, 32 * 1024), ...bytes(16 * 1024, 8)]);
  const oldLayer = layerOf(old);
  const newLayer = layerOf(next);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bpt-boot-'));
    cache = new ClientCache(join(dir, 'cache'));
    await cache.init();
    const tmp = cache.tmpPath();
    await writeFile(tmp, old);
    await cache.commitImage(tmp, OLD, 'initramfs');
    // Copy buffers of 8 KiB: a run of kept chunks is moved in several reads and writes.
    checker = withChecker ? new ChunkChecker(8 * 1024) : null;
  });
  afterEach(async () => {
    await checker?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Sources as the client builds them: the held image located, the chunks it lacks fresh in memory. */
  function sources(): ChunkSources & { fresh: Map<Digest, Uint8Array> } {
    const located = locateImageChunks(cache, OLD, [oldLayer]);
    const fresh = new Map<Digest, Uint8Array>();
    for (const c of newLayer.chunks) {
      if (!located.has(c.digest)) fresh.set(c.digest, next.subarray(c.offset, c.offset + c.length));
    }
    return { fresh, located, damaged: new Set() };
  }

  it('writes the new image from kept and fresh chunks', async () => {
    const s = sources();
    expect(s.located.size).toBeGreaterThan(5);
    expect(s.fresh.size).toBeGreaterThan(3);
    const out = await assembleOutputs(cache, NEW, [newLayer], join(dir, 'out'), s, checker);
    expect(out.missing).toEqual([]);
    expect(sha(await readFile(join(dir, 'out', 'initramfs')))).toBe(newLayer.digest);
    expect(cache.repaired.chunks).toBe(0);
  });

  it("replaces the previous boot's outputs, leaving the held image it linked to intact", async () => {
    // As a previous boot left it: out/initramfs is a hard link to the held image in the cache.
    const outDir = join(dir, 'out');
    await mkdir(outDir);
    await link(cache.imagePath(OLD, 'initramfs'), join(outDir, 'initramfs'));
    const out = await assembleOutputs(cache, NEW, [newLayer], outDir, sources(), checker);
    expect(out.files).toEqual({ initramfs: join(outDir, 'initramfs') });
    expect(sha(await readFile(join(outDir, 'initramfs')))).toBe(newLayer.digest);
    expect((await stat(join(outDir, 'initramfs'))).ino).toBe(
      (await stat(cache.imagePath(NEW, 'initramfs'))).ino,
    );
    expect(sha(await readFile(cache.imagePath(OLD, 'initramfs')))).toBe(oldLayer.digest);
    expect(await readdir(outDir)).toEqual(['initramfs']);
  });

  it('finds a damaged chunk in the held image (one flipped bit), marks it and hands nothing off', async () => {
    const s = sources();
    const victim = newLayer.chunks.find((c) => s.located.has(c.digest) && c.offset > 0)!;
    const at = s.located.get(victim.digest)!;
    const fh = await open(at.path, 'r+');
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at.offset + 100);
    b[0]! ^= 0x10;
    await fh.write(b, 0, 1, at.offset + 100);
    await fh.close();
    const out = await assembleOutputs(cache, NEW, [newLayer], join(dir, 'out'), s, checker);
    expect(out.missing).toEqual([victim.digest]);
    expect(out.files).toEqual({});
    expect(s.damaged.has(victim.digest)).toBe(true);
    expect(cache.repaired.chunks).toBe(1);
    // The caller refetches it (here: the right bytes, fresh) and the image is then complete and right.
    s.fresh.set(victim.digest, next.subarray(victim.offset, victim.offset + victim.length));
    const again = await assembleOutputs(cache, NEW, [newLayer], join(dir, 'out'), s, checker);
    expect(again.missing).toEqual([]);
    expect(sha(await readFile(join(dir, 'out', 'initramfs')))).toBe(newLayer.digest);
  });

  it('treats every chunk past the end of a truncated held image as missing', async () => {
    const s = sources();
    const path = s.located.values().next().value!.path;
    await writeFile(path, old.subarray(0, 20 * 1024));
    const out = await assembleOutputs(cache, NEW, [newLayer], join(dir, 'out'), s, checker);
    const lost = newLayer.chunks.filter((c) => s.located.has(c.digest) && c.offset + c.length > 20 * 1024);
    expect(lost.length).toBeGreaterThan(0);
    expect(new Set(out.missing)).toEqual(new Set(lost.map((c) => c.digest)));
    expect(out.files).toEqual({});
  });

  it('refuses a damaged loose chunk file (removed and counted, never written into the image)', async () => {
    const s = sources();
    // One fresh chunk is instead a loose file in the cache, with one byte changed.
    const [digest, good] = [...s.fresh.entries()][0]!;
    s.fresh.delete(digest);
    const bad = Uint8Array.from(good);
    bad[0]! ^= 0xff;
    await cache.putChunk(digest, bad);
    const out = await assembleOutputs(cache, NEW, [newLayer], join(dir, 'out'), s, checker);
    expect(out.missing).toEqual([digest]);
    expect((await cache.chunkDigests()).has(digest)).toBe(false);
    expect(cache.repaired.chunks).toBe(1);
  });
});
