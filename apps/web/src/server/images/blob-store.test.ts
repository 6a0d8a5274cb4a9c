import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobStoreError, FsBlobStore } from './blob-store';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function readAll(stream: Readable | null): Promise<Buffer> {
  if (!stream) throw new Error('no stream');
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

describe('FsBlobStore', () => {
  let dir: string;
  let store: FsBlobStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bootpt-blobs-'));
    store = new FsBlobStore(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores a stream under its digest and reads it back whole and by range', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const parts = [data.subarray(0, 1000), data.subarray(1000, 2_000_000), data.subarray(2_000_000)];
    const put = await store.put(Readable.from(parts));
    expect(put).toEqual({ digest: sha(data), size: data.length, created: true });
    expect(await store.has(put.digest)).toBe(true);
    expect(await store.stat(put.digest)).toEqual({ size: data.length });
    expect((await readAll(await store.get(put.digest))).equals(data)).toBe(true);
    const slice = await readAll(await store.get(put.digest, { start: 10, end: 19 }));
    expect(slice.equals(data.subarray(10, 20))).toBe(true);
    expect(store.keyOf(put.digest)).toBe(`sha256/${put.digest.slice(0, 2)}/${put.digest}`);
  });

  it('is idempotent: storing the same bytes again creates nothing', async () => {
    const data = randomBytes(4096);
    expect((await store.put(data)).created).toBe(true);
    expect((await store.put(data, { digest: sha(data) })).created).toBe(false);
    expect((await store.put(Readable.from([data]))).created).toBe(false);
  });

  it('refuses bytes that do not match the expected digest or size and leaves nothing behind', async () => {
    const data = randomBytes(5000);
    const wrong = sha(randomBytes(10));
    await expect(store.put(data, { digest: wrong })).rejects.toMatchObject({ code: 'BLOB_DIGEST_MISMATCH' });
    await expect(store.put(data, { size: 4999 })).rejects.toMatchObject({ code: 'BLOB_SIZE_MISMATCH' });
    expect(await store.has(wrong)).toBe(false);
    expect(await store.has(sha(data))).toBe(false);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('refuses a lying caller even when the claimed blob already exists', async () => {
    const data = randomBytes(100);
    await store.put(data);
    await expect(store.put(randomBytes(100), { digest: sha(data) })).rejects.toBeInstanceOf(BlobStoreError);
  });

  it('moves a verified file in with putFile and removes the file on mismatch', async () => {
    const data = randomBytes(70_000);
    const file = join(dir, 'upload.bin');
    await writeFile(file, data);
    const put = await store.putFile(file, { digest: sha(data), size: data.length });
    expect(put.created).toBe(true);
    expect((await store.getBytes(put.digest))?.equals(data)).toBe(true);
    await expect(readdir(dir)).resolves.not.toContain('upload.bin');

    const bad = join(dir, 'bad.bin');
    await writeFile(bad, randomBytes(10));
    await expect(store.putFile(bad, { digest: sha(data) })).rejects.toMatchObject({
      code: 'BLOB_DIGEST_MISMATCH',
    });
    await expect(readdir(dir)).resolves.not.toContain('bad.bin');
  });

  it('answers absent blobs with null/false and rejects malformed digests', async () => {
    const missing = sha(Buffer.from('missing'));
    expect(await store.get(missing)).toBeNull();
    expect(await store.getBytes(missing)).toBeNull();
    expect(await store.stat(missing)).toBeNull();
    expect(await store.delete(missing)).toBe(false);
    await expect(store.has('../etc/passwd')).rejects.toMatchObject({ code: 'BLOB_BAD_DIGEST' });
    const put = await store.put(Buffer.from('x'));
    expect(await store.delete(put.digest)).toBe(true);
    expect(await store.has(put.digest)).toBe(false);
  });

  it('batches: verified on add, invisible until commit, deduplicated, nothing left on abort', async () => {
    const a = randomBytes(20_000);
    const b = randomBytes(30_000);
    const batch = store.batch();
    await expect(batch.add(sha(b), a)).rejects.toMatchObject({ code: 'BLOB_DIGEST_MISMATCH' });
    await batch.add(sha(a), a);
    await batch.add(sha(a), a);
    await batch.add(sha(b), b);
    expect(await store.has(sha(a))).toBe(false);
    expect(await batch.commit()).toBe(2);
    expect((await store.getBytes(sha(b)))?.equals(b)).toBe(true);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);

    const c = randomBytes(100);
    const other = store.batch();
    await other.add(sha(a), a);
    await other.add(sha(c), c);
    await other.abort();
    expect(await store.has(sha(c))).toBe(false);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });
});
