import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seededRandom } from '@bootpt/protocol';
import { ChunkChecker } from './chunk-checker.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The worker reads runs of chunks from a real file into the shared buffers and checks each one. */
describe('ChunkChecker', () => {
  const random = seededRandom(41);
  const data = Uint8Array.from({ length: 10_000 }, () => Math.floor(random() * 256));
  const lengths = [1000, 2500, 500, 4000, 2000];
  const digests = lengths.map((_, i) => {
    const at = lengths.slice(0, i).reduce((a, b) => a + b, 0);
    return sha(data.subarray(at, at + lengths[i]!));
  });
  let dir: string;
  let fd: number;
  let checker: ChunkChecker;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bpt-checker-'));
    await writeFile(join(dir, 'image'), data);
    fd = openSync(join(dir, 'image'), 'r');
    checker = new ChunkChecker(16 * 1024);
  });
  afterEach(async () => {
    await checker.close();
    closeSync(fd);
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a run into the stage at the given place and accepts chunks that match', async () => {
    expect(await checker.check(fd, 0, 1, 100, lengths, digests)).toEqual([]);
    expect(Buffer.from(checker.stages[1]!.subarray(100, 100 + 10_000)).equals(data)).toBe(true);
    // A run from the middle of the file into the other buffer.
    expect(await checker.check(fd, 3500, 0, 0, lengths.slice(2), digests.slice(2))).toEqual([]);
  });

  it('names the chunks that do not match their digests', async () => {
    const wrong = [...digests];
    wrong[1] = sha(new Uint8Array([1]));
    wrong[4] = digests[3]!;
    expect(await checker.check(fd, 0, 0, 0, lengths, wrong)).toEqual([1, 4]);
  });

  it('treats every chunk past the end of a short file as not verified', async () => {
    await writeFile(join(dir, 'image'), data.subarray(0, 4200));
    expect(await checker.check(fd, 0, 0, 0, lengths, digests)).toEqual([3, 4]);
  });

  it('never accepts anything once the worker is gone', async () => {
    await checker.close();
    expect(checker.usable).toBe(false);
    expect(await checker.check(fd, 0, 0, 0, lengths, digests)).toEqual([0, 1, 2, 3, 4]);
  });
});
