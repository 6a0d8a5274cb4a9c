import { Readable } from 'node:stream';
import { brotliCompressSync } from 'node:zlib';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { sha256Hex, staticDeltaParts, type ChunkToFetch } from '@bootpt/protocol';
import { DeltaParts, DeltaStream, startDeltaWorker } from './delta-stream.js';
import { ClientError } from './errors.js';

const log = pino({ level: 'silent' });

/** Deterministic pseudo-random bytes (xorshift32). */
function bytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function chunks(count: number): { list: ChunkToFetch[]; data: Buffer[] } {
  const data = Array.from({ length: count }, (_, i) => bytes(3000 + ((i * 7919) % 50_000), i + 1));
  return { data, list: data.map((d) => ({ digest: sha256Hex(d), length: d.length })) };
}

/** A body in pieces of `piece` bytes, as an HTTP/2 stream delivers it. */
function body(raw: Buffer, piece = 16_384): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < raw.length; at += piece) parts.push(raw.subarray(at, at + piece));
  return Readable.from(parts);
}

describe('DeltaStream', () => {
  it('delivers every wanted chunk, verified, to waiters and to the fresh map', async () => {
    const { list, data } = chunks(40);
    const wanted = new Set(list.filter((_, i) => i % 5 !== 0).map((c) => c.digest));
    const fresh = new Map<string, Uint8Array>();
    // Decoding starts before the chunk list is known (it needs the verified indexes): the whole body
    // is decoded and held first here, then cut and verified once `expect` gives the list.
    const delta = new DeltaStream(
      body(brotliCompressSync(Buffer.concat(data))),
      true,
      startDeltaWorker(),
      log,
    );
    await new Promise((r) => setTimeout(r, 300));
    let counted = 0;
    delta.expect(list, wanted, fresh, 'test', () => counted++);
    const last = delta.arriving(list[39]!.digest);
    expect(delta.arriving(list[0]!.digest)).toBeUndefined(); // not wanted
    await delta.done;
    if (last) expect(Buffer.from((await last)!).equals(data[39]!)).toBe(true);
    expect(counted).toBe(wanted.size);
    expect(fresh.size).toBe(wanted.size);
    for (const [i, c] of list.entries()) {
      if (wanted.has(c.digest)) expect(Buffer.from(fresh.get(c.digest)!).equals(data[i]!)).toBe(true);
    }
    expect(delta.arriving(list[3]!.digest)).toBeUndefined(); // over: nothing more to wait for
  });

  it('refuses a chunk that does not match its digest, naming it, and releases the waiters', async () => {
    const { list, data } = chunks(12);
    const tampered = data.map((d) => Buffer.from(d));
    tampered[7]![100]! ^= 0x01;
    const delta = new DeltaStream(
      body(brotliCompressSync(Buffer.concat(tampered))),
      true,
      startDeltaWorker(),
      log,
    );
    delta.expect(list, new Set(list.map((c) => c.digest)), new Map(), 'agent-x', () => undefined);
    const after = delta.arriving(list[9]!.digest)!;
    const err = await delta.done.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe('CLIENT_ERR_CHUNK_REJECTED');
    expect((err as ClientError).message).toContain(list[7]!.digest);
    expect((err as ClientError).message).toContain('agent-x');
    expect(await after).toBeNull();
  });

  it('keeps what a short or undecodable stream delivered and leaves the rest undelivered', async () => {
    const { list, data } = chunks(10);
    const fresh = new Map<string, Uint8Array>();
    const firstSix = Buffer.concat(data.slice(0, 6));
    const short = new DeltaStream(body(firstSix), false, startDeltaWorker(), log); // identity, cut short
    short.expect(list, new Set(list.map((c) => c.digest)), fresh, 'test', () => undefined);
    const waiting = short.arriving(list[9]!.digest)!;
    await short.done;
    expect(await waiting).toBeNull();
    expect([...fresh.keys()]).toEqual(list.slice(0, 6).map((c) => c.digest));

    const broken = new DeltaStream(
      body(Buffer.from('not brotli at all, not at all')),
      true,
      startDeltaWorker(),
      log,
    );
    broken.expect(list, new Set(list.map((c) => c.digest)), new Map(), 'test', () => undefined);
    const never = broken.arriving(list[0]!.digest);
    await broken.done; // logged, not thrown: the chunks are fetched one by one instead
    if (never) expect(await never).toBeNull();
    expect(broken.arriving(list[1]!.digest)).toBeUndefined();
  });
});

describe('DeltaParts', () => {
  /** One stream per run of `staticDeltaParts`, as the agent builds them. */
  function parts(list: ChunkToFetch[], data: Buffer[], tamper?: number): DeltaStream[] {
    const byDigest = new Map(list.map((c, i) => [c.digest, data[i]!] as const));
    return staticDeltaParts(list).map((run) => {
      const raw = Buffer.concat(run.map((c) => byDigest.get(c.digest)!));
      if (tamper !== undefined) {
        const at = run.findIndex((c) => c.digest === list[tamper]!.digest);
        if (at >= 0) raw[run.slice(0, at).reduce((n, c) => n + c.length, 0) + 10]! ^= 0x01;
      }
      return new DeltaStream(body(brotliCompressSync(raw)), true, startDeltaWorker(), log);
    });
  }

  it('delivers each chunk from the part that carries it', async () => {
    const { list, data } = chunks(30);
    expect(staticDeltaParts(list).every((run) => run.length > 0)).toBe(true);
    const wanted = new Set(list.filter((_, i) => i % 4 !== 1).map((c) => c.digest));
    const fresh = new Map<string, Uint8Array>();
    const delta = new DeltaParts(parts(list, data));
    let counted = 0;
    delta.expect(list, wanted, fresh, 'test', () => counted++);
    const waits = list.map((c) => delta.arriving(c.digest));
    await delta.done;
    expect(counted).toBe(wanted.size);
    for (const [i, c] of list.entries()) {
      if (!wanted.has(c.digest)) {
        expect(waits[i]).toBeUndefined();
        continue;
      }
      // Every wanted chunk arrives (never null: a part asked for a chunk it does not carry would give null).
      const got = waits[i] ? await waits[i] : fresh.get(c.digest);
      expect(got && Buffer.from(got).equals(data[i]!)).toBe(true);
    }
  });

  it('rejects when a chunk in any part does not verify, and ends the other parts', async () => {
    const { list, data } = chunks(30);
    const delta = new DeltaParts(parts(list, data, 27)); // in the last part
    delta.expect(list, new Set(list.map((c) => c.digest)), new Map(), 'agent-y', () => undefined);
    const err = await delta.done.then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as ClientError).code).toBe('CLIENT_ERR_CHUNK_REJECTED');
    expect((err as ClientError).message).toContain(list[27]!.digest);
  });
});
