import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
});
