import { describe, expect, it } from 'vitest';
import { decodeTftp } from '@bootpt/protocol/tftp/index';
import { MemorySnapshot } from '../store/file-snapshot.js';
import { BlockReader } from './block-reader.js';

function body(n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff));
}

describe('BlockReader', () => {
  it.each([0, 1, 511, 512, 513, 512 * 5, 512 * 5 + 17])('reassembles a %d-octet file', (size) => {
    const file = body(size);
    const reader = new BlockReader(new MemorySnapshot('f', file), 512, 2048);
    expect(reader.lastBlock).toBe(Math.floor(size / 512) + 1);
    const parts: Buffer[] = [];
    for (let n = 1; n <= reader.lastBlock; n++) parts.push(Buffer.from(reader.block(n)));
    expect(Buffer.concat(parts).equals(file)).toBe(true);
    expect(reader.block(reader.lastBlock).length).toBeLessThan(512);
  });

  it('widens a block view into its DATA datagram, with wire block numbers that roll over', () => {
    const file = body(8 * 65_540);
    const reader = new BlockReader(new MemorySnapshot('f', file), 8, 1024);
    for (const n of [1, 2, 65_535, 65_536, 65_537]) {
      const decoded = decodeTftp(BlockReader.datagram(reader.block(n)));
      expect(decoded.ok).toBe(true);
      if (decoded.ok && decoded.value.opcode === 'DATA') {
        expect(decoded.value.block).toBe(n % 65_536);
        expect(Buffer.from(decoded.value.data).equals(body(8 * 65_540).subarray((n - 1) * 8, n * 8))).toBe(
          true,
        );
      }
    }
  });

  it('re-reads earlier blocks after moving on (window restart, new group master)', () => {
    const file = body(512 * 10);
    const reader = new BlockReader(new MemorySnapshot('f', file), 512, 1024);
    const late = Buffer.from(reader.block(9));
    const early = Buffer.from(reader.block(2));
    expect(late.equals(file.subarray(8 * 512, 9 * 512))).toBe(true);
    expect(early.equals(file.subarray(512, 1024))).toBe(true);
  });

  it('never reuses a batch buffer a queued datagram may still point into', () => {
    const reader = new BlockReader(new MemorySnapshot('f', body(512 * 10)), 512, 1024);
    const first = reader.block(1);
    reader.block(5);
    expect(reader.block(1).buffer).not.toBe(first.buffer);
  });

  it('alternates two batch buffers when nothing is queued, and allocates afresh when something is', () => {
    const file = body(512 * 12);
    let idle = true;
    const reader = new BlockReader(new MemorySnapshot('f', file), 512, 1024, () => idle);
    const a = reader.block(1).buffer;
    const b = reader.block(3).buffer;
    expect(b).not.toBe(a);
    expect(reader.block(5).buffer).toBe(a);
    expect(reader.block(7).buffer).toBe(b);
    idle = false;
    const fresh = reader.block(9).buffer;
    expect([a, b]).not.toContain(fresh);
    for (let n = 1; n <= reader.lastBlock; n++) {
      expect(Buffer.from(reader.block(n)).equals(file.subarray((n - 1) * 512, n * 512))).toBe(true);
    }
  });

  it('reads a window ahead in one batch, so asking for its blocks reads nothing more', () => {
    const file = body(512 * 20 + 5);
    const snapshot = new MemorySnapshot('f', file);
    const reads: number[] = [];
    const counting = Object.assign(Object.create(snapshot) as MemorySnapshot, {
      readInto(views: readonly Uint8Array[], position: number) {
        reads.push(position);
        snapshot.readInto(views, position);
      },
    });
    const reader = new BlockReader(counting, 512, 512 * 4);
    reader.block(1);
    reader.prefetch(4, 6);
    expect(reads).toEqual([0, 3 * 512]);
    for (let n = 4; n <= 6; n++) reader.block(n);
    reader.prefetch(5, 7);
    reader.prefetch(22, 25);
    expect(reads).toEqual([0, 3 * 512]);
    reader.prefetch(20, 23);
    expect(reads).toEqual([0, 3 * 512, 19 * 512]);
    expect(reader.block(21).length).toBe(5);
  });
});
