import { mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FdSnapshot, MemorySnapshot, SnapshotChangedError } from './file-snapshot.js';

const work = mkdtempSync(join(tmpdir(), 'bpt-snap-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function read(s: { readInto: (v: Uint8Array[], p: number) => void; size: number }): string {
  const out = new Uint8Array(s.size);
  s.readInto([out.subarray(0, 3), out.subarray(3)], 0);
  return Buffer.from(out).toString();
}

describe('FdSnapshot', () => {
  it('keeps serving the version it opened when the file is replaced by rename', () => {
    const path = join(work, 'image');
    writeFileSync(path, 'version-one');
    const snap = FdSnapshot.open(path);
    writeFileSync(join(work, 'image.new'), 'version-two!');
    renameSync(join(work, 'image.new'), path);
    expect(read(snap)).toBe('version-one');
    const next = FdSnapshot.open(path);
    expect(read(next)).toBe('version-two!');
    expect(next.identity).not.toBe(snap.identity);
    snap.release();
    next.release();
  });

  it('throws SnapshotChangedError instead of serving a short file truncated in place', () => {
    const path = join(work, 'shrinks');
    writeFileSync(path, 'abcdefghij');
    const snap = FdSnapshot.open(path);
    truncateSync(path, 4);
    expect(() => snap.readInto([new Uint8Array(10)], 0)).toThrow(SnapshotChangedError);
    snap.release();
  });

  it('counts references: the descriptor survives until the last release', () => {
    const path = join(work, 'shared');
    writeFileSync(path, 'shared');
    const snap = FdSnapshot.open(path);
    snap.retain();
    snap.release();
    expect(read(snap)).toBe('shared');
    snap.release();
    expect(() => snap.readInto([new Uint8Array(1)], 0)).toThrow();
  });
});

describe('MemorySnapshot', () => {
  it('reads views in order', () => {
    expect(read(new MemorySnapshot('m', Buffer.from('memory')))).toBe('memory');
  });
});
