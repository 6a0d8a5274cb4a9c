import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  chunkIndexDigest,
  createManifest,
  createTrustStore,
  encodeChunkIndex,
  encodeSignedManifest,
  generateManifestKeyPair,
  indexLayer,
  manifestDigest,
  sha256Hex,
  signManifest,
} from '@bootpt/protocol';
import { ContentError, ContentStore } from './store.js';
import { syncManifest } from './sync.js';
import { DirectoryUpstream } from './upstream.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpt-content-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

function code(err: unknown): string | undefined {
  return err instanceof ContentError ? err.code : undefined;
}

/** A one-layer release written into a publish directory (the layout `DirectoryUpstream` reads). */
async function publish(root: string, layer: Buffer, key = generateManifestKeyPair()) {
  const store = new ContentStore(root, { compress: false });
  await store.open();
  const index = indexLayer(layer, { minSize: 1024, avgSize: 4096, maxSize: 16384 });
  for (const c of index.chunks) await store.putChunk(c.digest, layer.subarray(c.offset, c.offset + c.length));
  await store.putIndex(chunkIndexDigest(index), encodeChunkIndex(index));
  const manifest = createManifest({
    schemaVersion: 1,
    release: { name: 'r', version: '1', createdAt: '2026-11-23T19:00:00Z', architecture: 'x86_64' },
    kernelCmdline: '',
    layers: [
      {
        digest: index.layerDigest,
        size: index.layerSize,
        mediaType: 'application/vnd.bootpt.initramfs.cpio',
        chunkIndexDigest: chunkIndexDigest(index),
      },
    ],
  });
  const digest = manifestDigest(manifest);
  await store.putManifest(digest, encodeSignedManifest(signManifest(manifest, key)));
  return { digest, key, index };
}

function pseudoRandom(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('ContentStore', () => {
  it('verifies every object on write', async () => {
    const store = new ContentStore(dir);
    await store.open();
    const bytes = Buffer.from('hello chunk');
    await store.putChunk(sha256Hex(bytes), bytes);
    expect(await store.read('chunks', sha256Hex(bytes))).toEqual(bytes);
    await expect(store.putChunk('0'.repeat(64), bytes)).rejects.toSatisfy(
      (e) => code(e) === 'CONTENT_ERR_DIGEST_MISMATCH',
    );
    await expect(store.putIndex(sha256Hex(bytes), bytes)).rejects.toSatisfy(
      (e) => code(e) === 'CONTENT_ERR_BAD_INDEX',
    );
    await expect(store.putManifest('0'.repeat(64), bytes)).rejects.toSatisfy(
      (e) => code(e) === 'CONTENT_ERR_BAD_MANIFEST',
    );
    expect(() => store.path('chunks', '../etc/passwd')).toThrow(ContentError);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('keeps a brotli copy only when it is smaller', async () => {
    const store = new ContentStore(dir);
    await store.open();
    const text = Buffer.from('compressible '.repeat(1000));
    const noise = pseudoRandom(4096, 1);
    await store.putChunk(sha256Hex(text), text);
    await store.putChunk(sha256Hex(noise), noise);
    const names = await readdir(join(dir, 'chunks'));
    expect(names).toContain(`${sha256Hex(text)}.br`);
    expect(names).not.toContain(`${sha256Hex(noise)}.br`);
  });

  it('refuses manifests that do not verify against its trusted keys', async () => {
    const src = join(dir, 'src');
    const { digest } = await publish(src, pseudoRandom(10_000, 2));
    const stranger = generateManifestKeyPair();
    const store = new ContentStore(join(dir, 'dst'), {
      trust: createTrustStore([{ publicKey: stranger.publicKeyRaw, state: 'active' }]),
    });
    await store.open();
    const envelope = (await new ContentStore(src).read('manifests', digest))!;
    await expect(store.putManifest(digest, envelope)).rejects.toSatisfy(
      (e) => code(e) === 'CONTENT_ERR_BAD_MANIFEST',
    );
  });

  it('scrub removes chunks whose bytes no longer match their name', async () => {
    const store = new ContentStore(dir);
    await store.open();
    const good = Buffer.from('good');
    const bad = Buffer.from('bad');
    await store.putChunk(sha256Hex(good), good);
    await store.putChunk(sha256Hex(bad), bad);
    await writeFile(store.path('chunks', sha256Hex(bad)), 'bad!');
    expect(await store.scrub()).toBe(1);
    expect(await store.chunkDigests()).toEqual(new Set([sha256Hex(good)]));
  });
});

describe('syncManifest', () => {
  it('pulls a release from a publish directory, then only the chunks a second release adds', async () => {
    const src = join(dir, 'publish');
    const key = generateManifestKeyPair();
    const base = pseudoRandom(200_000, 3);
    const first = await publish(src, base, key);
    const changed = Buffer.concat([
      base.subarray(0, 100_000),
      Buffer.from('inserted bytes'),
      base.subarray(100_000),
    ]);
    const second = await publish(src, changed, key);

    const store = new ContentStore(join(dir, 'agent'), {
      trust: createTrustStore([{ publicKey: key.publicKeyRaw, state: 'active' }]),
    });
    await store.open();
    const upstream = new DirectoryUpstream(src);
    const a = await syncManifest({ store, upstream, digest: first.digest, concurrency: 4 });
    expect(a.chunksFetched).toBe(first.index.chunks.length);
    expect(
      (await syncManifest({ store, upstream, digest: first.digest, concurrency: 4 })).chunksFetched,
    ).toBe(0);
    const b = await syncManifest({ store, upstream, digest: second.digest, concurrency: 4 });
    expect(b.chunksFetched).toBeGreaterThan(0);
    expect(b.chunksFetched).toBeLessThanOrEqual(3);
    expect(b.chunksPresent).toBe(second.index.chunks.length - b.chunksFetched);

    await expect(syncManifest({ store, upstream, digest: 'f'.repeat(64), concurrency: 1 })).rejects.toSatisfy(
      (e) => code(e) === 'CONTENT_ERR_UPSTREAM',
    );
  });
});
