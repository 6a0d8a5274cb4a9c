import type { Hash } from 'node:crypto';
import { createHash } from 'node:crypto';
import { Chunker } from './cdc.js';
import type { ChunkIndex, ChunkRef } from './chunk-index.js';
import type { ChunkingParams } from './params.js';

/**
 * Streams a layer through the chunker and SHA-256, producing its chunk index. Buffers are hashed in place
 * (no copies); a chunk may span any number of buffers. `update` returns the chunks completed by that
 * buffer so a caller that stores chunks knows when to flush the bytes it kept.
 */
export class LayerIndexer {
  private readonly chunker: Chunker;
  private readonly layerHash: Hash = createHash('sha256');
  private chunkHash: Hash = createHash('sha256');
  private readonly chunks: ChunkRef[] = [];
  private chunkStart = 0;
  private size = 0;
  private done = false;

  constructor(params: Partial<ChunkingParams> = {}) {
    this.chunker = new Chunker(params);
  }

  update(data: Uint8Array): ChunkRef[] {
    if (this.done) throw new Error('LayerIndexer.update after finish');
    this.layerHash.update(data);
    const completed: ChunkRef[] = [];
    let from = 0;
    for (const length of this.chunker.update(data)) {
      const to = from + (this.chunkStart + length - this.size);
      completed.push(this.closeChunk(data.subarray(from, to), length));
      from = to;
    }
    this.chunkHash.update(data.subarray(from));
    this.size += data.length - from;
    return completed;
  }

  finish(): ChunkIndex {
    if (this.done) throw new Error('LayerIndexer.finish called twice');
    this.done = true;
    const last = this.chunker.finish();
    if (last !== null)
      this.chunks.push({ digest: this.chunkHash.digest('hex'), offset: this.chunkStart, length: last });
    return {
      layerDigest: this.layerHash.digest('hex'),
      layerSize: this.size,
      params: this.chunker.params,
      chunks: this.chunks,
    };
  }

  private closeChunk(tail: Uint8Array, length: number): ChunkRef {
    const ref: ChunkRef = {
      digest: this.chunkHash.update(tail).digest('hex'),
      offset: this.chunkStart,
      length,
    };
    this.chunks.push(ref);
    this.chunkHash = createHash('sha256');
    this.chunkStart += length;
    this.size = this.chunkStart;
    return ref;
  }
}

/** One-shot: the chunk index of a whole layer held in memory. */
export function indexLayer(layer: Uint8Array, params: Partial<ChunkingParams> = {}): ChunkIndex {
  const indexer = new LayerIndexer(params);
  indexer.update(layer);
  return indexer.finish();
}
