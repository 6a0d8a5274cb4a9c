import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  chunkIndexDigest,
  createManifest,
  encodeChunkIndex,
  encodeSignedManifest,
  generateManifestKeyPair,
  indexLayer,
  manifestDigest,
  signManifest,
  STATIC_DELTA_PARTS,
  staticDeltaChunks,
  staticDeltaParts,
} from '@bootpt/protocol';
import { buildDelta } from './deltas.js';
import { AssembledFiles } from './file-source.js';
import { ContentStore } from './store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpt-files-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const params = { minSize: 64, avgSize: 256, maxSize: 1024 };

async function release(store: ContentStore, layers: { bytes: Buffer; kernel?: boolean }[]) {
  const key = generateManifestKeyPair();
  const entries = [];
  for (const l of layers) {
    const index = indexLayer(l.bytes, params);
    for (const c of index.chunks)
      await store.putChunk(c.digest, l.bytes.subarray(c.offset, c.offset + c.length));
    await store.putIndex(chunkIndexDigest(index), encodeChunkIndex(index));
    entries.push({
      digest: index.layerDigest,
      size: index.layerSize,
      mediaType: l.kernel
        ? ('application/vnd.bootpt.kernel' as const)
        : ('application/vnd.bootpt.initramfs.cpio' as const),
      chunkIndexDigest: chunkIndexDigest(index),
    });
  }
  const manifest = createManifest({
    schemaVersion: 1,
    release: { name: 'r', version: '1', createdAt: '2026-11-23T19:00:00Z', architecture: 'x86_64' },
    kernelCmdline: '',
    layers: entries,
  });
  const digest = manifestDigest(manifest);
  await store.putManifest(digest, encodeSignedManifest(signManifest(manifest, key)));
  return digest;
}

function text(n: number, seed: string): Buffer {
  let s = '';
  for (let i = 0; s.length < n; i++) s += `${seed}:${(i * 7919) % 1000003};`;
  return Buffer.from(s.slice(0, n));
}

describe('AssembledFiles', () => {
  it('assembles kernel and concatenated initramfs layers from verified chunks', async () => {
    const store = new ContentStore(join(dir, 'store'));
    await store.open();
    const kernel = text(5000, 'k');
    const base = text(20_000, 'base');
    const overlay = text(3000, 'overlay');
    const digest = await release(store, [
      { bytes: kernel, kernel: true },
      { bytes: base },
      { bytes: overlay },
    ]);
    const files = new AssembledFiles(store, join(dir, 'export'));
    const initramfs = await files.resolve(`${digest}/initramfs`);
    expect(initramfs?.size).toBe(base.length + overlay.length);
    expect((await readFile(initramfs!.path)).equals(Buffer.concat([base, overlay]))).toBe(true);
    expect((await readFile((await files.resolve(`/${digest}/kernel`))!.path)).equals(kernel)).toBe(true);
    expect(await files.resolve(`${'0'.repeat(64)}/kernel`)).toBeNull();
    expect(await files.resolve(`${digest}/../../etc/passwd`)).toBeNull();
  });
});

describe('static deltas', () => {
  it('builds a delta that is smaller than the new chunks and is idempotent', async () => {
    const store = new ContentStore(join(dir, 'store'));
    await store.open();
    const base = text(40_000, 'base');
    const from = await release(store, [{ bytes: base }]);
    const to = await release(store, [{ bytes: Buffer.concat([base, text(8000, 'added')]) }]);
    const size = await buildDelta(store, from, to);
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThan(8000);
    expect(await buildDelta(store, from, to)).toBe(size);
  });

  it('stores one brotli stream per part, each the run of new chunks staticDeltaParts gives it', async () => {
    const store = new ContentStore(join(dir, 'store'));
    await store.open();
    const base = text(40_000, 'base');
    const added = Buffer.concat([text(9000, 'one'), base.subarray(0, 20_000), text(7000, 'two')]);
    const from = await release(store, [{ bytes: base }]);
    const to = await release(store, [{ bytes: added }]);
    await buildDelta(store, from, to);
    const held = new Set(indexLayer(base, params).chunks.map((c) => c.digest));
    const runs = staticDeltaParts(staticDeltaChunks(held, [indexLayer(added, params)]));
    expect(runs).toHaveLength(STATIC_DELTA_PARTS);
    let size = 0;
    for (const [part, run] of runs.entries()) {
      expect(run.length).toBeGreaterThan(0);
      const packed = await readFile(store.deltaPath(from, to, part));
      size += packed.length;
      const chunks = await Promise.all(run.map(async (c) => (await store.read('chunks', c.digest))!));
      expect(brotliDecompressSync(packed).equals(Buffer.concat(chunks))).toBe(true);
    }
    expect(await store.deltaSize(from, to)).toBe(size);
    // A delta missing a part (a crash between the parts' writes) counts as absent and is built again.
    await rm(store.deltaPath(from, to, 1));
    expect(await store.deltaSize(from, to)).toBeNull();
    expect(await buildDelta(store, from, to)).toBe(size);
    expect(() => store.deltaPath(from, to, STATIC_DELTA_PARTS)).toThrow(/no delta part/);
  });
});
