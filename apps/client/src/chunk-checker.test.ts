import { createHash, hash } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seededRandom } from '@bootpt/protocol';
import { ChunkChecker, copyChunks, type CopyBatch } from './chunk-checker.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Kept chunks copied from a real file into another at new offsets, each checked on the way: by the
 * checker's worker threads (the function's source text run there) and by the same function inline.
 */
describe.each([
  ['on the worker threads', true],
  ['inline (no checker)', false],
])('copying kept chunks %s', (_, onWorkers) => {
  const random = seededRandom(41);
  const data = Uint8Array.from({ length: 10_000 }, () => Math.floor(random() * 256));
  const lengths = [1000, 2500, 500, 4000, 2000];
  const offsets = lengths.map((_, i) => lengths.slice(0, i).reduce((a, b) => a + b, 0));
  const digests = lengths.map((l, i) => sha(data.subarray(offsets[i], offsets[i]! + l)));
  // The new image: chunk 3, then 0 and 1 (back to back in both files), a gap of 700, then 4 and 2.
  const to = [4000, 5000, 12_200, 0, 9500];
  let dir: string;
  let src: number;
  let dst: number;
  let checker: ChunkChecker | null;
  // Buffers of 3 KiB: the 4000-octet chunk moves piece by piece, runs are cut at the buffer's size.
  const SIZE = 3 * 1024;

  const copy = (batch: CopyBatch): Promise<number[]> =>
    checker
      ? checker.copy(batch)
      : new Promise((resolve) =>
          resolve(copyChunks({ readSync, writeSync, hash, createHash }, Buffer.alloc(SIZE), batch)),
        );
  const batch = (over: Partial<CopyBatch> = {}): CopyBatch => ({
    src,
    dst,
    from: offsets,
    to,
    lengths,
    digests,
    ...over,
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bpt-checker-'));
    await writeFile(join(dir, 'old'), data);
    src = openSync(join(dir, 'old'), 'r');
    dst = openSync(join(dir, 'new'), 'w');
    checker = onWorkers ? new ChunkChecker(SIZE) : null;
  });
  afterEach(async () => {
    await checker?.close();
    closeSync(src);
    closeSync(dst);
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every chunk at its new offset and accepts those that match', async () => {
    expect(await copy(batch())).toEqual([]);
    const out = await readFile(join(dir, 'new'));
    for (const [i, l] of lengths.entries()) {
      expect(sha(out.subarray(to[i], to[i]! + l))).toBe(digests[i]);
    }
    expect(out.subarray(7500, 9500).every((b) => b === 0)).toBe(true);
    expect(out.subarray(11_500, 12_200).every((b) => b === 0)).toBe(true);
    expect(out.length).toBe(12_700);
  });

  it('names the chunks that do not match their digests (the one larger than the buffer too)', async () => {
    const wrong = [...digests];
    wrong[1] = sha(new Uint8Array([1]));
    wrong[3] = digests[4]!;
    expect(await copy(batch({ digests: wrong }))).toEqual([1, 3]);
  });

  it('treats every chunk past the end of a short source as not verified', async () => {
    await writeFile(join(dir, 'old'), data.subarray(0, 4200));
    expect(await copy(batch())).toEqual([3, 4]);
  });

  it('fails when the new image cannot be written', async () => {
    const readOnly = openSync(join(dir, 'old'), 'r');
    try {
      await expect(copy(batch({ dst: readOnly }))).rejects.toThrow(/EBADF|bad file/i);
    } finally {
      closeSync(readOnly);
    }
  });
});

describe('ChunkChecker', () => {
  it('never accepts anything once its workers are gone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bpt-checker-'));
    const data = new Uint8Array(100).fill(7);
    await writeFile(join(dir, 'old'), data);
    const src = openSync(join(dir, 'old'), 'r');
    const dst = openSync(join(dir, 'new'), 'w');
    const checker = new ChunkChecker(1024);
    try {
      const batch = {
        src,
        dst,
        from: [0, 50],
        to: [0, 50],
        lengths: [50, 50],
        digests: [sha(data.subarray(50)), sha(data.subarray(50))],
      };
      expect(await checker.copy(batch)).toEqual([]);
      await checker.close();
      expect(checker.usable).toBe(false);
      expect(await checker.copy(batch)).toEqual([0, 1]);
    } finally {
      closeSync(src);
      closeSync(dst);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
