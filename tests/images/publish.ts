import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChunkingParams, Digest, LayerMediaType, Manifest, SigningKey } from '@bootpt/protocol';
import {
  LayerIndexer,
  chunkIndexDigest,
  createManifest,
  encodeChunkIndex,
  encodeSignedManifest,
  manifestDigest,
  signManifest,
} from '@bootpt/protocol';

/**
 * Publishing a release: index each layer with the protocol chunker, build and sign the manifest, and
 * write chunks, chunk indexes and the signed manifest into a publish directory laid out like the agent's
 * store (`manifests/`, `indexes/`, `chunks/`), which the agent syncs from (`DirectoryUpstream`).
 * Chunks already present are not rewritten, so publishing release after release only adds what changed.
 */

/** Smaller than the protocol default (64 KiB): initramfs updates touch many small files. */
export const PUBLISH_CHUNKING: Partial<ChunkingParams> = { minSize: 4096, avgSize: 16384, maxSize: 65536 };

export interface LayerInput {
  readonly bytes: Uint8Array;
  readonly mediaType: LayerMediaType;
}

export interface PublishedRelease {
  readonly digest: Digest;
  readonly manifest: Manifest;
  readonly envelope: Uint8Array;
  readonly chunkCount: number;
  readonly bytes: number;
}

async function writeOnce(path: string, bytes: Uint8Array, dir: string, existing: Set<string>): Promise<void> {
  if (existing.has(path) || existsSync(path)) return;
  const tmp = join(dir, `.tmp-${randomBytes(6).toString('hex')}`);
  await writeFile(tmp, bytes);
  await rename(tmp, path);
  existing.add(path);
}

export async function publishRelease(args: {
  dir: string;
  layers: readonly LayerInput[];
  key: SigningKey;
  name: string;
  version: string;
  kernelCmdline?: string;
  chunking?: Partial<ChunkingParams>;
}): Promise<PublishedRelease> {
  const { dir } = args;
  for (const sub of ['manifests', 'indexes', 'chunks']) await mkdir(join(dir, sub), { recursive: true });
  const written = new Set<string>();
  const layers: Manifest['layers'][number][] = [];
  let chunkCount = 0;
  let bytes = 0;
  for (const layer of args.layers) {
    const indexer = new LayerIndexer(args.chunking ?? PUBLISH_CHUNKING);
    indexer.update(layer.bytes);
    const index = indexer.finish();
    for (const c of index.chunks) {
      await writeOnce(
        join(dir, 'chunks', c.digest),
        layer.bytes.subarray(c.offset, c.offset + c.length),
        dir,
        written,
      );
    }
    const encoded = encodeChunkIndex(index);
    const indexDigest = chunkIndexDigest(index);
    await writeOnce(join(dir, 'indexes', indexDigest), encoded, dir, written);
    layers.push({
      digest: index.layerDigest,
      size: index.layerSize,
      mediaType: layer.mediaType,
      chunkIndexDigest: indexDigest,
    });
    chunkCount += index.chunks.length;
    bytes += layer.bytes.length;
  }
  const manifest = createManifest({
    schemaVersion: 1,
    release: {
      name: args.name,
      version: args.version,
      createdAt: '2026-11-23T19:00:00Z',
      architecture: 'x86_64',
    },
    kernelCmdline: args.kernelCmdline ?? 'console=ttyS0 rdinit=/sbin/init',
    layers,
  });
  const signed = signManifest(manifest, args.key);
  const envelope = encodeSignedManifest(signed);
  const digest = manifestDigest(manifest);
  await writeOnce(join(dir, 'manifests', digest), envelope, dir, written);
  return { digest, manifest, envelope, chunkCount, bytes };
}
