import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createManifest } from '../manifest/manifest.js';
import type { LayerMediaType, Manifest } from '../manifest/schema.js';
import { bytesEqual, concatBytes } from '../wire.js';
import type { ChunkIndex } from './chunk-index.js';
import { CHUNK_INDEX_ERROR_CODES, chunkIndexDigest } from './chunk-index.js';
import type { Digest } from './digest.js';
import { sha256Hex } from './digest.js';
import { indexLayer } from './indexer.js';
import type { ChunkingParams } from './params.js';
import type { DeltaPlan } from './planner.js';
import {
  DELTA_ERROR_CODES,
  LayerVerifier,
  assembleLayer,
  planDelta,
  verifyChunk,
  verifyLayer,
} from './planner.js';

function randomBytes(length: number, seed: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, length);
}

const KiB = 1024;
const MiB = 1024 * KiB;
const SMALL: Partial<ChunkingParams> = { minSize: 256, avgSize: 1024, maxSize: 4096 };

interface Release {
  manifest: Manifest;
  indexes: Map<Digest, ChunkIndex>;
  layers: Uint8Array[];
}

function release(layers: Uint8Array[], params: Partial<ChunkingParams> = {}): Release {
  const indexes = new Map<Digest, ChunkIndex>();
  const media: LayerMediaType[] = ['application/vnd.bootpt.kernel', 'application/vnd.bootpt.initramfs.cpio'];
  const manifest = createManifest({
    schemaVersion: 1,
    release: { name: 'edge', version: '1', createdAt: '2026-11-23T19:00:00Z', architecture: 'x86_64' },
    kernelCmdline: 'console=ttyS0',
    layers: layers.map((bytes, i) => {
      const index = indexLayer(bytes, params);
      const chunkIndexDigestValue = chunkIndexDigest(index);
      indexes.set(chunkIndexDigestValue, index);
      return {
        digest: index.layerDigest,
        size: bytes.length,
        mediaType: media[Math.min(i, 1)]!,
        chunkIndexDigest: chunkIndexDigestValue,
      };
    }),
  });
  return { manifest, indexes, layers };
}

function chunkStore(rel: Release): Map<Digest, Uint8Array> {
  const store = new Map<Digest, Uint8Array>();
  rel.layers.forEach((bytes, li) => {
    const index = rel.indexes.get(rel.manifest.layers[li]!.chunkIndexDigest)!;
    for (const c of index.chunks) store.set(c.digest, bytes.subarray(c.offset, c.offset + c.length));
  });
  return store;
}

function expectExactPlan(plan: DeltaPlan, target: Release, held: ReadonlySet<Digest>): void {
  const targetChunks = new Map<Digest, number>();
  for (const layer of plan.layers) for (const c of layer.chunks) targetChunks.set(c.digest, c.length);
  const expected = [...targetChunks.keys()].filter((digest) => !held.has(digest));
  const fetched = plan.fetch.map((c) => c.digest);
  expect(new Set(fetched).size).toBe(fetched.length);
  expect([...fetched].sort()).toEqual(expected.sort());
  expect(plan.fetchBytes).toBe(plan.fetch.reduce((sum, c) => sum + c.length, 0));
  expect(plan.fetch.every((c) => targetChunks.get(c.digest) === c.length)).toBe(true);
  const reused = [...targetChunks].filter(([digest]) => held.has(digest));
  expect(plan.reusedChunks).toBe(reused.length);
  expect(plan.reusedBytes).toBe(reused.reduce((sum, [, length]) => sum + length, 0));
  expect(plan.totalBytes).toBe(target.layers.reduce((sum, l) => sum + l.length, 0));
}

/** vitest's deep equality is far too slow for MiB-sized typed arrays. */
function expectSameLayers(actual: readonly Uint8Array[], expected: readonly Uint8Array[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((bytes, i) => expect(bytesEqual(bytes, expected[i]!), `layer ${i}`).toBe(true));
}

function assembleAll(plan: DeltaPlan, have: ReadonlyMap<Digest, Uint8Array>): Uint8Array[] {
  return plan.layers.map((layer) => {
    const result = assembleLayer(layer, (digest) => have.get(digest));
    if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
    return result.value;
  });
}

describe('delta planner', () => {
  const base = randomBytes(3 * MiB, 21);
  const overlay = randomBytes(512 * KiB, 22);
  const oldRelease = release([base, overlay]);

  // v2: 100 bytes patched in the middle of the base, a new overlay appended
  const patchedBase = base.slice();
  patchedBase.set(randomBytes(100, 23), 1_500_000);
  const newOverlay = randomBytes(256 * KiB, 24);
  const newRelease = release([patchedBase, overlay, newOverlay]);

  it('fetches nothing for a warm cache and everything for a cold one', () => {
    const warm = planDelta(oldRelease.manifest, oldRelease.indexes, new Set(chunkStore(oldRelease).keys()));
    expect(warm.ok && warm.value.fetch).toEqual([]);
    const cold = planDelta(oldRelease.manifest, oldRelease.indexes, new Set());
    expect(cold.ok).toBe(true);
    if (!cold.ok) return;
    expect(cold.value.fetchBytes).toBe(base.length + overlay.length);
    expect(cold.value.reusedBytes).toBe(0);
    expectSameLayers(assembleAll(cold.value, chunkStore(oldRelease)), [base, overlay]);
  });

  it('fetches only the changed chunks of an update and reassembles it byte for byte', () => {
    const oldStore = chunkStore(oldRelease);
    const held = new Set(oldStore.keys());
    const result = planDelta(newRelease.manifest, newRelease.indexes, held);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const plan = result.value;
    expectExactPlan(plan, newRelease, held);
    // a 100-byte patch costs one or two chunks; the new overlay is fetched whole
    expect(plan.fetchBytes).toBeLessThan(newOverlay.length + 2 * 256 * KiB);
    expect(plan.fetchBytes).toBeGreaterThan(newOverlay.length);
    expect(plan.reusedBytes + plan.fetchBytes).toBeGreaterThanOrEqual(plan.totalBytes - 256 * KiB);
    const newStore = chunkStore(newRelease);
    const have = new Map(oldStore);
    for (const c of plan.fetch) have.set(c.digest, newStore.get(c.digest)!);
    const assembled = assembleAll(plan, have);
    expectSameLayers(assembled, newRelease.layers);
    assembled.forEach((bytes, i) =>
      expect(verifyLayer(newRelease.manifest.layers[i]!, bytes)).toEqual({ ok: true, value: true }),
    );
  });

  it('deduplicates chunks repeated within and across layers', () => {
    const segment = randomBytes(200 * KiB, 31);
    const layer = concatBytes([segment, segment, segment]);
    const rel = release([layer, segment], SMALL);
    const result = planDelta(rel.manifest, rel.indexes, new Set());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expectExactPlan(result.value, rel, new Set());
    // three copies plus a fourth layer, yet little more than one copy is fetched
    expect(result.value.fetchBytes).toBeLessThan(segment.length + 16 * KiB);
    expectSameLayers(assembleAll(result.value, chunkStore(rel)), [layer, segment]);
  });

  it('is exact for random layers and random held sets (seeded property)', () => {
    const pool = Array.from({ length: 6 }, (_, i) => randomBytes(12 * KiB + i * 999, 100 + i));
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: pool.length - 1 }), { minLength: 0, maxLength: 6 }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.array(fc.integer({ min: 0, max: 2 ** 31 }), { maxLength: 8 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (layerRecipes, mutationSeeds, heldRatio) => {
          const layers = layerRecipes.map((recipe, li) => {
            const bytes = concatBytes(recipe.map((p) => pool[p]!));
            const seed = mutationSeeds[li];
            if (seed !== undefined && bytes.length > 0)
              bytes[seed % bytes.length] = ~bytes[seed % bytes.length]! & 0xff;
            return bytes;
          });
          const rel = release(layers, SMALL);
          const all = [...chunkStore(rel).keys()];
          const held = new Set(all.filter((_, i) => ((i * 2654435761) % 1000) / 1000 < heldRatio));
          for (let i = 0; i < 5; i++) held.add(sha256Hex(Uint8Array.of(i))); // held chunks the target never uses
          const result = planDelta(rel.manifest, rel.indexes, held);
          expect(result.ok).toBe(true);
          if (!result.ok) return;
          expectExactPlan(result.value, rel, held);
          expectSameLayers(assembleAll(result.value, chunkStore(rel)), layers);
        },
      ),
      { seed: 42, numRuns: 60 },
    );
  });

  it('accepts any has() implementation', () => {
    const held = new Set(chunkStore(oldRelease).keys());
    const result = planDelta(newRelease.manifest, newRelease.indexes, { has: (d) => held.has(d) });
    const viaSet = planDelta(newRelease.manifest, newRelease.indexes, held);
    expect(result).toEqual(viaSet);
  });
});

describe('delta planner errors', () => {
  const rel = release([randomBytes(20 * KiB, 41), randomBytes(9 * KiB, 42)], SMALL);
  const code = (r: { ok: boolean; error?: { code: string; offset: number } }) =>
    r.ok ? 'ok' : `${r.error!.code}@${r.error!.offset}`;
  /** Layer 0's index with its first chunk renamed, filed under the key the manifest names. */
  const swappedFirst = () => {
    const key = rel.manifest.layers[0]!.chunkIndexDigest;
    const index = rel.indexes.get(key)!;
    const swapped = {
      ...index,
      chunks: index.chunks.map((c, i) => (i === 0 ? { ...c, digest: 'f'.repeat(64) } : c)),
    };
    return { key, index, indexes: new Map(rel.indexes).set(key, swapped) };
  };

  it('refuses a missing index', () => {
    const indexes = new Map(rel.indexes);
    indexes.delete(rel.manifest.layers[1]!.chunkIndexDigest);
    expect(code(planDelta(rel.manifest, indexes, new Set()))).toBe('DELTA_INDEX_MISSING@1');
  });

  it('refuses an index of another layer', () => {
    const indexes = new Map(rel.indexes);
    const other = rel.indexes.get(rel.manifest.layers[0]!.chunkIndexDigest)!;
    indexes.set(rel.manifest.layers[1]!.chunkIndexDigest, other);
    expect(code(planDelta(rel.manifest, indexes, new Set()))).toBe('DELTA_INDEX_LAYER_MISMATCH@1');
  });

  it('refuses an index that is not the one the manifest names', () => {
    const { key, index, indexes } = swappedFirst();
    expect(code(planDelta(rel.manifest, indexes, new Set()))).toBe('DELTA_INDEX_DIGEST_MISMATCH@0');
    const broken = { ...index, chunks: [] };
    expect(code(planDelta(rel.manifest, new Map(rel.indexes).set(key, broken), new Set()))).toBe(
      'DELTA_INDEX_DIGEST_MISMATCH@0',
    );
  });

  it('with indexesChecked plans the same without re-encoding: the caller vouches for each key', () => {
    const held = new Set([rel.indexes.get(rel.manifest.layers[0]!.chunkIndexDigest)!.chunks[0]!.digest]);
    const checked = planDelta(rel.manifest, rel.indexes, held, { indexesChecked: true });
    expect(checked).toEqual(planDelta(rel.manifest, rel.indexes, held));
    expect(checked.ok).toBe(true);
    // The re-encoding is what is skipped: an index swapped under a key passes (the client only builds
    // the map from bytes that hash to the key); the layer check and the missing-index check remain.
    const { index, indexes } = swappedFirst();
    expect(code(planDelta(rel.manifest, indexes, new Set(), { indexesChecked: true }))).toBe('ok');
    const other = new Map(rel.indexes).set(rel.manifest.layers[1]!.chunkIndexDigest, index);
    expect(code(planDelta(rel.manifest, other, new Set(), { indexesChecked: true }))).toBe(
      'DELTA_INDEX_LAYER_MISMATCH@1',
    );
  });

  it('refuses one digest listed with two lengths', () => {
    const params = { minSize: 256, avgSize: 1024, maxSize: 4096, normalization: 2 };
    const same = 'e'.repeat(64);
    const a: ChunkIndex = {
      layerDigest: 'a'.repeat(64),
      layerSize: 300,
      params,
      chunks: [{ digest: same, offset: 0, length: 300 }],
    };
    const b: ChunkIndex = {
      layerDigest: 'b'.repeat(64),
      layerSize: 400,
      params,
      chunks: [{ digest: same, offset: 0, length: 400 }],
    };
    const manifest = createManifest({
      ...rel.manifest,
      layers: [a, b].map((ix) => ({
        digest: ix.layerDigest,
        size: ix.layerSize,
        mediaType: 'application/vnd.bootpt.rootfs' as const,
        chunkIndexDigest: chunkIndexDigest(ix),
      })),
    });
    const indexes = new Map([a, b].map((ix) => [chunkIndexDigest(ix), ix] as const));
    expect(code(planDelta(manifest, indexes, new Set()))).toBe('DELTA_CHUNK_CONFLICT@1');
  });

  it('assembly refuses missing and corrupted chunks, verification refuses wrong layers', () => {
    const plan = planDelta(rel.manifest, rel.indexes, new Set());
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    const layer = plan.value.layers[0]!;
    const store = chunkStore(rel);
    const second = layer.chunks[1]!;
    const partial = new Map(store);
    partial.delete(second.digest);
    expect(code(assembleLayer(layer, (d) => partial.get(d)))).toBe(`DELTA_CHUNK_MISSING@${second.offset}`);
    const corrupted = new Map(store);
    const bad = store.get(second.digest)!.slice();
    bad[0] = bad[0]! ^ 1;
    corrupted.set(second.digest, bad);
    expect(code(assembleLayer(layer, (d) => corrupted.get(d)))).toBe(
      `DELTA_CHUNK_DIGEST_MISMATCH@${second.offset}`,
    );
    expect(verifyChunk(second.digest, bad)).toBe(false);
    expect(verifyChunk(second.digest, store.get(second.digest)!)).toBe(true);

    const bytes = rel.layers[0]!;
    expect(code(verifyLayer(layer, bytes))).toBe('ok');
    expect(code(verifyLayer(layer, bytes.subarray(1)))).toBe(`DELTA_LAYER_SIZE_MISMATCH@${bytes.length - 1}`);
    const flipped = bytes.slice();
    flipped[5] = flipped[5]! ^ 0x80;
    expect(code(verifyLayer(layer, flipped))).toBe('DELTA_LAYER_DIGEST_MISMATCH@0');
    const streaming = new LayerVerifier(layer);
    for (let at = 0; at < bytes.length; at += 1000) streaming.update(bytes.subarray(at, at + 1000));
    expect(streaming.finish()).toEqual({ ok: true, value: true });
  });

  it('uses codes distinct from the chunk index codec', () => {
    expect(DELTA_ERROR_CODES.every((c) => !(CHUNK_INDEX_ERROR_CODES as readonly string[]).includes(c))).toBe(
      true,
    );
  });
});
