import { describe, expect, it } from 'vitest';
import {
  chunkIndexDigest,
  encodeTurbo,
  createManifest,
  indexLayer,
  planDelta,
  type ChunkIndex,
  type DeltaPlan,
  type Digest,
  type LayerMediaType,
  type TurboEndpoint,
} from '@bootpt/protocol';
import {
  acceptedEndpointTypes,
  bootFilesOf,
  pickGroupEndpoint,
  selectGroupFetch,
  splitVerified,
  type GroupPolicy,
} from './group-fetch.js';
import { pseudoRandom as body } from '../../agent/src/tftp/testing.js';

const params = { minSize: 1024, avgSize: 4096, maxSize: 16384 };
const KERNEL: LayerMediaType = 'application/vnd.bootpt.kernel';
const INITRAMFS: LayerMediaType = 'application/vnd.bootpt.initramfs.cpio';

/** A release of a small kernel and two initramfs layers (one file), planned against `held`. */
function release(held: (index: ChunkIndex, layer: number) => Digest[] = () => []) {
  const layers = [
    { bytes: body(200_000, 1), mediaType: KERNEL },
    { bytes: body(1_500_000, 2), mediaType: INITRAMFS },
    { bytes: body(900_000, 3), mediaType: INITRAMFS },
  ];
  const indexes = new Map<Digest, ChunkIndex>();
  const have = new Set<Digest>();
  const entries = layers.map((l, i) => {
    const index = indexLayer(l.bytes, params);
    indexes.set(chunkIndexDigest(index), index);
    for (const d of held(index, i)) have.add(d);
    return {
      digest: index.layerDigest,
      size: index.layerSize,
      mediaType: l.mediaType,
      chunkIndexDigest: chunkIndexDigest(index),
    };
  });
  const manifest = createManifest({
    schemaVersion: 1,
    release: { name: 'r', version: '1', createdAt: '2026-11-23T19:00:00Z', architecture: 'x86_64' },
    kernelCmdline: '',
    layers: entries,
  });
  const plan = planDelta(manifest, indexes, have);
  if (!plan.ok) throw new Error(plan.error.message);
  return { plan: plan.value, layers };
}

const http2: TurboEndpoint = { type: 1, address: '10.0.0.1', port: 8443, id: 1 };
const broadcast: TurboEndpoint = { type: 3, address: '10.0.0.1', port: 69, id: 3 };
const multicast: TurboEndpoint = { type: 4, address: '10.0.0.1', port: 69, id: 4 };
const policy: GroupPolicy = {
  group: 'auto',
  groupMinMissing: 0.5,
  groupMinBytes: 1024 * 1024,
  groupBlksize: 1468,
};

function fileNames(plan: DeltaPlan, endpoints: TurboEndpoint[], over: Partial<GroupPolicy> = {}) {
  const s = selectGroupFetch(plan, endpoints, { ...policy, ...over });
  return s ? { kind: s.kind, files: s.files.map((f) => f.name) } : null;
}

describe('group delivery policy', () => {
  it('accepts the group endpoint types the config allows, http2 always', () => {
    expect(acceptedEndpointTypes('auto')).toEqual([1, 3, 4]);
    // Every form encodes as an ACCEPT list (ascending, unique).
    for (const group of ['auto', 'multicast', 'broadcast', 'off'] as const) {
      const accept = acceptedEndpointTypes(group);
      expect(() => encodeTurbo({ kind: 'discover', accept })).not.toThrow();
    }
    expect(acceptedEndpointTypes('multicast')).toEqual([1, 4]);
    expect(acceptedEndpointTypes('broadcast')).toEqual([1, 3]);
    expect(acceptedEndpointTypes('off')).toEqual([1]);
    expect(pickGroupEndpoint([http2, broadcast, multicast], 'auto')).toBe(broadcast);
    expect(pickGroupEndpoint([http2, broadcast, multicast], 'multicast')).toBe(multicast);
    expect(pickGroupEndpoint([http2, multicast], 'broadcast')).toBeNull();
  });

  it('groups layers into boot files and counts what each lacks', () => {
    const { plan } = release();
    const files = bootFilesOf(plan);
    expect(files.map((f) => [f.name, f.size, f.layers.length])).toEqual([
      ['kernel', 200_000, 1],
      ['initramfs', 2_400_000, 2],
    ]);
    // Cold: everything is missing (distinct chunks).
    expect(files[1]!.missingBytes).toBe(2_400_000);
  });

  it('cold cache: the large boot file goes by the offered group stream, small files stay on HTTP/2', () => {
    const { plan } = release();
    expect(fileNames(plan, [http2, multicast])).toEqual({ kind: 'multicast', files: ['initramfs'] });
    expect(fileNames(plan, [http2, broadcast])).toEqual({ kind: 'sbroadcast', files: ['initramfs'] });
    expect(fileNames(plan, [http2, multicast], { groupMinBytes: 100_000 })?.files).toEqual([
      'kernel',
      'initramfs',
    ]);
    const s = selectGroupFetch(plan, [http2, multicast], policy)!;
    const initramfsChunks = plan.layers.slice(1).flatMap((l) => l.chunks.map((c) => c.digest));
    expect([...s.covers].sort()).toEqual([...new Set(initramfsChunks)].sort());
  });

  it('stays on HTTP/2 without a group endpoint, when off, for a small delta, or for a file too big for the block counter', () => {
    const cold = release().plan;
    expect(fileNames(cold, [http2])).toBeNull();
    expect(fileNames(cold, [http2, multicast], { group: 'off' })).toBeNull();
    expect(fileNames(cold, [http2, multicast], { group: 'broadcast' })).toBeNull();
    // 2.4 MB needs more than 131,071 blocks of 16 octets; ~75,000 blocks of 32 roll over once and qualify.
    expect(fileNames(cold, [http2, multicast], { groupBlksize: 16 })).toBeNull();
    expect(fileNames(cold, [http2, multicast], { groupBlksize: 32 })).not.toBeNull();
    // Warm: all but the last few chunks of the second initramfs layer are held (well under half missing).
    const warm = release((index, layer) =>
      layer === 2 ? index.chunks.slice(0, -3).map((c) => c.digest) : index.chunks.map((c) => c.digest),
    ).plan;
    const initramfs = bootFilesOf(warm).find((f) => f.name === 'initramfs')!;
    expect(initramfs.missingBytes).toBeGreaterThan(0);
    expect(initramfs.missingBytes).toBeLessThan(0.5 * initramfs.size);
    expect(fileNames(warm, [http2, multicast])).toBeNull();
    // The threshold is the config's: asking for any missing byte takes the group again.
    expect(fileNames(warm, [http2, multicast], { groupMinMissing: 0 })?.files).toEqual(['initramfs']);
  });

  it('verifies a received boot file layer by layer and chunk by chunk before handing out chunks', () => {
    const { plan, layers } = release();
    const file = bootFilesOf(plan).find((f) => f.name === 'initramfs')!;
    const good = Buffer.concat([layers[1]!.bytes, layers[2]!.bytes]);
    const chunks = splitVerified(file, good);
    expect(chunks.size).toBe(new Set(file.layers.flatMap((l) => l.chunks.map((c) => c.digest))).size);
    const bad = Buffer.from(good);
    bad[1_700_000]! ^= 1;
    expect(() => splitVerified(file, bad)).toThrow(/layer 2 digests to/);
    expect(() => splitVerified(file, good.subarray(1))).toThrow(/expected 2400000/);
  });
});
