export type { Digest } from './digest.js';
export { DIGEST_BYTES, digestFromBytes, digestToBytes, isDigest, sha256, sha256Hex } from './digest.js';
export type { ChunkingParams } from './params.js';
export {
  DEFAULT_CHUNKING_PARAMS,
  MAX_CHUNK_SIZE_LIMIT,
  checkChunkingParams,
  resolveChunkingParams,
} from './params.js';
export { GEAR, GEAR_SEED } from './gear.js';
export { Chunker, chunkLengths } from './cdc.js';
export type { ChunkIndex, ChunkIndexErrorCode, ChunkRef } from './chunk-index.js';
export {
  CHUNK_INDEX_ALGORITHM_FASTCDC_GEAR32,
  CHUNK_INDEX_ERROR_CODES,
  CHUNK_INDEX_HEADER_BYTES,
  CHUNK_INDEX_MAGIC,
  CHUNK_INDEX_RECORD_BYTES,
  CHUNK_INDEX_VERSION,
  checkChunkIndex,
  chunkIndexDigest,
  chunkIndexEncodingLength,
  decodeChunkIndex,
  encodeChunkIndex,
} from './chunk-index.js';
export { LayerIndexer, indexLayer } from './indexer.js';
export type { ChunkHolder, ChunkToFetch, DeltaErrorCode, DeltaPlan, LayerAssembly } from './planner.js';
export {
  DELTA_ERROR_CODES,
  LayerVerifier,
  assembleLayer,
  planDelta,
  verifyChunk,
  verifyLayer,
} from './planner.js';
export { STATIC_DELTA_PARTS, staticDeltaChunks, staticDeltaParts } from './static-delta.js';
