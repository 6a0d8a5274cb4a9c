import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createManifest,
  createTrustStore,
  encodeSignedManifest,
  generateManifestKeyPair,
  manifestDigest,
  sha256Hex,
  signManifest,
} from '@bootpt/protocol';
import { ClientCache } from './cache.js';

let dir: string;
let cache: ClientCache;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpt-client-cache-'));
  cache = new ClientCache(dir);
  await cache.init();
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const digestA = 'a'.repeat(64);

function signed() {
  const key = generateManifestKeyPair();
  const manifest = createManifest({
    schemaVersion: 1,
    release: { name: 'r', version: '1', createdAt: '2026-11-23T19:00:00Z', architecture: 'x86_64' },
    kernelCmdline: 'quiet',
    layers: [
      {
        digest: digestA,
        size: 1,
        mediaType: 'application/vnd.bootpt.initramfs.cpio',
        chunkIndexDigest: digestA,
      },
    ],
  });
  return {
    key,
    digest: manifestDigest(manifest),
    envelope: encodeSignedManifest(signManifest(manifest, key)),
  };
}

describe('ClientCache', () => {
  it('returns intact chunks and removes corrupt or truncated ones (counted as repaired)', async () => {
    const bytes = Buffer.from('chunk bytes');
    const digest = sha256Hex(bytes);
    await cache.putChunk(digest, bytes);
    expect(await cache.readChunk(digest, bytes.length)).toEqual(bytes);
    expect(cache.readChunkSync(digest, bytes.length)).toEqual(bytes);
    expect(await cache.chunkDigests()).toEqual(new Set([digest]));

    await writeFile(join(dir, 'chunks', digest), 'chunk bytez');
    expect(await cache.readChunk(digest, bytes.length)).toBeNull();
    expect(await cache.chunkDigests()).toEqual(new Set());
    await cache.putChunk(digest, bytes);
    await writeFile(join(dir, 'chunks', digest), 'chunk');
    expect(cache.readChunkSync(digest, bytes.length)).toBeNull();
    expect(cache.repaired.chunks).toBe(2);
    expect(await cache.readChunk(digest, bytes.length)).toBeNull(); // absent is not "repaired"
    expect(cache.repaired.chunks).toBe(2);
  });

  it('keeps the state file atomically and treats a damaged one as empty', async () => {
    expect(await cache.readState()).toBeNull();
    await cache.writeState({ manifestDigest: digestA, validationToken: 'ab'.repeat(16) });
    expect(await cache.readState()).toMatchObject({
      manifestDigest: digestA,
      validationToken: 'ab'.repeat(16),
    });
    await writeFile(join(dir, 'state.json'), '{"manifestDigest":');
    expect(await cache.readState()).toBeNull();
    expect(cache.repaired.state).toBe(1);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('loads a cached manifest only if its signature verifies and its digest matches the name', async () => {
    const { key, digest, envelope } = signed();
    const trust = createTrustStore([{ publicKey: key.publicKeyRaw, state: 'active' }]);
    await cache.putManifest(digest, envelope);
    expect((await cache.loadManifest(digest, trust))?.verified.digest).toBe(digest);

    const other = createTrustStore([{ publicKey: generateManifestKeyPair().publicKeyRaw, state: 'active' }]);
    expect(await cache.loadManifest(digest, other)).toBeNull();
    expect(cache.repaired.manifests).toBe(1);

    await cache.putManifest(digestA, envelope); // stored under the wrong name
    expect(await cache.loadManifest(digestA, trust)).toBeNull();
  });

  it('loads an index only when its bytes digest to its name', async () => {
    await cache.putIndex(digestA, Buffer.from('not an index'));
    expect(await cache.loadIndex(digestA)).toBeNull();
    expect(cache.repaired.indexes).toBe(1);
  });

  it('prunes everything the current release does not use', async () => {
    const keep = Buffer.from('keep');
    const drop = Buffer.from('drop');
    await cache.putChunk(sha256Hex(keep), keep);
    await cache.putChunk(sha256Hex(drop), drop);
    const removed = await cache.prune({
      manifests: new Set(),
      indexes: new Set(),
      chunks: new Set([sha256Hex(keep)]),
    });
    expect(removed).toBe(1);
    expect(await cache.chunkDigests()).toEqual(new Set([sha256Hex(keep)]));
  });
});
