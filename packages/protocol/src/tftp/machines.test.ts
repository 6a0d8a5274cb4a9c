/** Hand-driven state-machine tests: one event at a time, exact effects. */
import { describe, expect, it } from 'vitest';
import type { TftpOption, TftpPacket } from './packet.js';
import { createServerRead, serverReadStep } from './server-read.js';
import type { ServerReadConfig, ServerReadState } from './server-read.js';
import { abortClientRead, clientReadStep, createClientRead } from './client-read.js';
import type { ClientReadConfig, ClientReadState } from './client-read.js';
import { createGroup, groupStep, unwrapBlock } from './group.js';
import fc from 'fast-check';
import { createServerWrite, serverWriteStep } from './server-write.js';
import type { GroupState } from './group.js';
import type { TftpEffect, TftpStep } from './machine.js';

const RETRY = { timeoutMs: 100, maxTimeoutMs: 400, maxRetries: 3 };

function sends(effects: readonly TftpEffect[]): TftpPacket[] {
  return effects.flatMap((e) => (e.type === 'send' || e.type === 'sendGroup' ? [e.packet] : []));
}

function done(effects: readonly TftpEffect[]): Extract<TftpEffect, { type: 'done' }> | undefined {
  const last = effects.at(-1);
  return last?.type === 'done' ? last : undefined;
}

function server(size: number, overrides: Partial<ServerReadConfig> = {}): TftpStep<ServerReadState> {
  const file = new Uint8Array(size).map((_, i) => i & 0xff);
  const blksize = overrides.blksize ?? 8;
  return createServerRead(
    {
      blksize,
      windowsize: 1,
      retry: RETRY,
      oack: [],
      tsizeRequested: false,
      readBlock: (b) => file.subarray((b - 1) * blksize, Math.min(b * blksize, size)),
      ...overrides,
    },
    0,
  );
}

const ack = (block: number): { type: 'packet'; packet: TftpPacket } => ({
  type: 'packet',
  packet: { opcode: 'ACK', block },
});
const error = (code: number): { type: 'packet'; packet: TftpPacket } => ({
  type: 'packet',
  packet: { opcode: 'ERROR', errorCode: code, errorMessage: 'x' },
});

describe('server read machine', () => {
  it('sends OACK, retransmits it with backoff, starts DATA on ACK 0', () => {
    let s = server(20, { oack: [{ name: 'blksize', value: '8' }] });
    expect(s.effects).toEqual([
      { type: 'send', packet: { opcode: 'OACK', options: [{ name: 'blksize', value: '8' }] } },
      { type: 'setTimer', at: 100 },
    ]);
    expect(serverReadStep(s.state, { type: 'timer' }, 99).effects).toEqual([]); // early timer ignored
    s = serverReadStep(s.state, { type: 'timer' }, 100);
    expect(sends(s.effects)).toEqual([{ opcode: 'OACK', options: [{ name: 'blksize', value: '8' }] }]);
    expect(s.effects).toContainEqual({ type: 'setTimer', at: 300 });
    s = serverReadStep(s.state, ack(0), 150);
    expect(sends(s.effects)).toEqual([
      { opcode: 'DATA', block: 1, data: Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7) },
    ]);
    expect(s.effects).toContainEqual({ type: 'setTimer', at: 250 });
  });

  it('ignores duplicate and stale ACKs, finishes on the ACK of the short last block', () => {
    let s = server(12);
    s = serverReadStep(s.state, ack(1), 1);
    expect(sends(s.effects).map((p) => p.opcode === 'DATA' && p.data.length)).toEqual([4]);
    const dup = serverReadStep(s.state, ack(1), 2);
    expect(sends(dup.effects)).toEqual([]);
    expect(dup.effects[0]).toMatchObject({ type: 'log', level: 'debug' });
    const future = serverReadStep(s.state, ack(9), 2);
    expect(sends(future.effects)).toEqual([]);
    s = serverReadStep(s.state, ack(2), 3);
    expect(done(s.effects)).toEqual({ type: 'done', outcome: 'complete', bytes: 12, blocks: 2 });
    expect(serverReadStep(s.state, ack(2), 4)).toEqual({ state: s.state, effects: [] });
  });

  it('windowed: a partial ACK restarts the window after the acknowledged block (RFC 7440 §4)', () => {
    let s = server(100, { windowsize: 4 });
    expect(sends(s.effects).map((p) => p.opcode === 'DATA' && p.block)).toEqual([1, 2, 3, 4]);
    s = serverReadStep(s.state, ack(2), 5);
    expect(sends(s.effects).map((p) => p.opcode === 'DATA' && p.block)).toEqual([3, 4, 5, 6]);
    s = serverReadStep(s.state, ack(6), 6);
    expect(sends(s.effects).map((p) => p.opcode === 'DATA' && p.block)).toEqual([7, 8, 9, 10]);
    s = serverReadStep(s.state, { type: 'timer' }, 1000);
    expect(sends(s.effects).map((p) => p.opcode === 'DATA' && p.block)).toEqual([7, 8, 9, 10]);
    s = serverReadStep(s.state, ack(10), 1001);
    expect(sends(s.effects).map((p) => p.opcode === 'DATA' && [p.block, p.data.length])).toEqual([
      [11, 8],
      [12, 8],
      [13, 4],
    ]);
    expect(done(serverReadStep(s.state, ack(13), 1002).effects)?.outcome).toBe('complete');
  });

  it('gives up after maxRetries timeouts', () => {
    let s = server(100);
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const at = s.state.deadline;
      s = serverReadStep(s.state, { type: 'timer' }, at);
      times.push(at);
    }
    expect(times).toEqual([100, 300, 700, 1100]);
    expect(done(s.effects)).toMatchObject({ outcome: 'timeout', blocks: 0 });
  });

  it('tsize probe: ERROR 8 or 0 after OACK → probe; without tsize → error', () => {
    const withTsize = server(5, { oack: [{ name: 'tsize', value: '5' }], tsizeRequested: true });
    expect(done(serverReadStep(withTsize.state, error(8), 1).effects)).toMatchObject({ outcome: 'probe' });
    expect(done(serverReadStep(withTsize.state, error(0), 1).effects)).toMatchObject({ outcome: 'probe' });
    expect(done(serverReadStep(withTsize.state, error(2), 1).effects)).toMatchObject({ outcome: 'error' });
    const noTsize = server(5, { oack: [{ name: 'blksize', value: '8' }] });
    expect(done(serverReadStep(noTsize.state, error(8), 1).effects)).toMatchObject({
      outcome: 'error',
      error: { code: 8, message: 'x' },
    });
    // Server without OACK, client aborting after DATA 1 (options ignored): also a probe.
    const plain = server(50, { tsizeRequested: true });
    expect(done(serverReadStep(plain.state, error(0), 1).effects)).toMatchObject({ outcome: 'probe' });
  });

  it('abort, malformed and illegal packets end with the right ERROR', () => {
    const s = server(50);
    const aborted = serverReadStep(s.state, { type: 'abort', reason: 'shutting down' }, 1);
    expect(sends(aborted.effects)).toEqual([
      { opcode: 'ERROR', errorCode: 0, errorMessage: 'shutting down' },
    ]);
    expect(done(aborted.effects)?.outcome).toBe('aborted');
    const malformed = serverReadStep(s.state, { type: 'malformed', reason: 'TFTP_TRUNCATED' }, 1);
    expect(sends(malformed.effects)[0]).toMatchObject({ opcode: 'ERROR', errorCode: 4 });
    const wrq = serverReadStep(
      s.state,
      { type: 'packet', packet: { opcode: 'DATA', block: 1, data: new Uint8Array() } },
      1,
    );
    expect(sends(wrq.effects)[0]).toMatchObject({ opcode: 'ERROR', errorCode: 4 });
    expect(done(wrq.effects)?.outcome).toBe('error');
  });

  it('refuses a reader that returns more than blksize', () => {
    expect(() => server(10, { readBlock: () => new Uint8Array(9) })).toThrow(RangeError);
  });
});

function client(options: TftpOption[], overrides: Partial<ClientReadConfig> = {}): TftpStep<ClientReadState> {
  return createClientRead(
    { filename: 'f', mode: 'octet', options, retry: RETRY, dallyMs: 500, ...overrides },
    0,
  );
}
const oack = (options: TftpOption[]) => ({
  type: 'packet' as const,
  packet: { opcode: 'OACK' as const, options },
});
const data = (block: number, length: number, from: 'peer' | 'group' = 'peer') => ({
  type: 'packet' as const,
  from,
  packet: { opcode: 'DATA' as const, block, data: new Uint8Array(length).fill(block & 0xff) },
});

describe('client read machine', () => {
  it('sends the RRQ and retransmits it, then gives up', () => {
    let c = client([{ name: 'tsize', value: '0' }]);
    expect(sends(c.effects)).toEqual([
      { opcode: 'RRQ', filename: 'f', mode: 'octet', options: [{ name: 'tsize', value: '0' }] },
    ]);
    for (let i = 0; i < 3; i++) {
      c = clientReadStep(c.state, { type: 'timer' }, c.state.deadline);
      expect(sends(c.effects)[0]?.opcode).toBe('RRQ');
    }
    c = clientReadStep(c.state, { type: 'timer' }, c.state.deadline);
    expect(done(c.effects)?.outcome).toBe('timeout');
  });

  it('rejects unrequested options, a changed timeout and a larger windowsize with ERROR 8', () => {
    const c = client([
      { name: 'timeout', value: '2' },
      { name: 'windowsize', value: '4' },
    ]);
    for (const bad of [
      [{ name: 'tsize', value: '10' }],
      [{ name: 'timeout', value: '3' }],
      [{ name: 'windowsize', value: '8' }],
    ]) {
      const step = clientReadStep(c.state, oack(bad), 1);
      expect(sends(step.effects)[0]).toMatchObject({ opcode: 'ERROR', errorCode: 8 });
      expect(done(step.effects)?.outcome).toBe('error');
    }
  });

  it('accepts the OACK, ACKs 0, uses the negotiated timeout; re-ACKs a repeated OACK', () => {
    let c = client([
      { name: 'timeout', value: '2' },
      { name: 'blksize', value: '16' },
    ]);
    c = clientReadStep(
      c.state,
      oack([
        { name: 'timeout', value: '2' },
        { name: 'blksize', value: '16' },
      ]),
      10,
    );
    expect(sends(c.effects)).toEqual([{ opcode: 'ACK', block: 0 }]);
    expect(c.effects).toContainEqual({ type: 'setTimer', at: 2010 });
    c = clientReadStep(
      c.state,
      oack([
        { name: 'timeout', value: '2' },
        { name: 'blksize', value: '16' },
      ]),
      20,
    );
    expect(sends(c.effects)).toEqual([{ opcode: 'ACK', block: 0 }]);
  });

  it('falls back to RFC 1350 when the server answers with DATA 1, and dallies after the last block', () => {
    let c = client([{ name: 'blksize', value: '1024' }]);
    c = clientReadStep(c.state, data(1, 512), 1);
    expect(c.effects).toContainEqual({
      type: 'data',
      block: 1,
      offset: 0,
      data: new Uint8Array(512).fill(1),
    });
    expect(sends(c.effects)).toEqual([{ opcode: 'ACK', block: 1 }]);
    c = clientReadStep(c.state, data(2, 3), 2);
    expect(sends(c.effects)).toEqual([{ opcode: 'ACK', block: 2 }]);
    expect(c.state.phase).toBe('dally');
    c = clientReadStep(c.state, data(2, 3), 3);
    expect(sends(c.effects)).toEqual([{ opcode: 'ACK', block: 2 }]);
    c = clientReadStep(c.state, { type: 'timer' }, 502);
    expect(done(c.effects)).toEqual({
      type: 'done',
      outcome: 'complete',
      bytes: 515,
      blocks: 2,
      tsize: null,
    });
  });

  it('ACKs the last in-order block once on a gap, always on a repeat of the newest block', () => {
    let c = client([{ name: 'windowsize', value: '4' }]);
    c = clientReadStep(c.state, oack([{ name: 'windowsize', value: '4' }]), 1);
    c = clientReadStep(c.state, data(1, 512), 2);
    expect(sends(c.effects)).toEqual([]);
    c = clientReadStep(c.state, data(3, 512), 3);
    expect(sends(c.effects)).toEqual([{ opcode: 'ACK', block: 1 }]);
    c = clientReadStep(c.state, data(4, 512), 4);
    expect(sends(c.effects)).toEqual([]);
    c = clientReadStep(c.state, data(1, 512), 5);
    expect(sends(c.effects)).toEqual([{ opcode: 'ACK', block: 1 }]);
    c = clientReadStep(c.state, data(2, 512), 6);
    expect(sends(c.effects)).toEqual([]);
    expect(c.state.received).toBe(2);
  });

  it('re-sends its last ACK when the server goes quiet, then gives up', () => {
    let c = client([{ name: 'blksize', value: '8' }]);
    c = clientReadStep(c.state, oack([{ name: 'blksize', value: '8' }]), 0);
    c = clientReadStep(c.state, data(1, 8), 10);
    expect(sends(c.effects)).toEqual([{ opcode: 'ACK', block: 1 }]);
    for (let i = 0; i < 3; i++) {
      c = clientReadStep(c.state, { type: 'timer' }, c.state.deadline);
      expect(sends(c.effects)).toEqual([{ opcode: 'ACK', block: 1 }]);
    }
    c = clientReadStep(c.state, { type: 'timer' }, c.state.deadline);
    expect(done(c.effects)).toMatchObject({ outcome: 'timeout', bytes: 8, blocks: 1 });
  });

  it('reports an ERROR from the server and ignores everything after done', () => {
    const c = client([]);
    const step = clientReadStep(
      c.state,
      { type: 'packet', packet: { opcode: 'ERROR', errorCode: 1, errorMessage: 'File not found' } },
      1,
    );
    expect(step.effects).toEqual([
      {
        type: 'done',
        outcome: 'error',
        bytes: 0,
        blocks: 0,
        tsize: null,
        error: { code: 1, message: 'File not found' },
      },
    ]);
    expect(clientReadStep(step.state, data(1, 3), 2).effects).toEqual([]);
  });

  it('abortClientRead ends even a machine that has just ended (its caller refused that data); the abort event does not', () => {
    let c = client([{ name: 'blksize', value: '8' }]);
    c = clientReadStep(c.state, oack([{ name: 'blksize', value: '8' }]), 0);
    c = clientReadStep(c.state, data(1, 8), 1);
    c = clientReadStep(c.state, data(2, 3), 2);
    c = clientReadStep(c.state, { type: 'timer' }, c.state.deadline);
    expect(done(c.effects)?.outcome).toBe('complete');
    expect(clientReadStep(c.state, { type: 'abort', reason: 'late' }, 600).effects).toEqual([]);
    const reason = 'writing the destination: ENOSPC (errno 28)';
    const a = abortClientRead(c.state, reason);
    expect(a.effects).toEqual([
      { type: 'send', packet: { opcode: 'ERROR', errorCode: 0, errorMessage: reason } },
      {
        type: 'done',
        outcome: 'aborted',
        bytes: 11,
        blocks: 2,
        tsize: null,
        error: { code: 0, message: reason },
      },
    ]);
    expect(a.state.phase).toBe('done');
    // While running, the function and the event end the read alike.
    const running = client([]).state;
    expect(abortClientRead(running, 'x')).toEqual(clientReadStep(running, { type: 'abort', reason: 'x' }, 0));
  });

  it('rejects DATA longer than blksize with ERROR 4', () => {
    const c = client([]);
    const step = clientReadStep(c.state, data(1, 513), 1);
    expect(sends(step.effects)[0]).toMatchObject({ opcode: 'ERROR', errorCode: 4 });
  });

  it('group receiver: joins, ignores BDATA of another transfer, master ACKs the block before its first gap', () => {
    let c = client(
      [
        { name: 'blksize', value: '8' },
        { name: 'tsize', value: '0' },
        { name: 'sbroadcast', value: '255.255.255.0' },
      ],
      {
        groupIdleMs: 1000,
      },
    );
    c = clientReadStep(
      c.state,
      oack([
        { name: 'blksize', value: '8' },
        { name: 'tsize', value: '20' },
        { name: 'sbroadcast', value: '247,99,0' },
      ]),
      1,
    );
    expect(c.effects).toContainEqual({
      type: 'joinGroup',
      kind: 'sbroadcast',
      address: null,
      port: 247,
      sbid: 99,
    });
    expect(sends(c.effects)).toEqual([{ opcode: 'ACK', block: 0 }]);
    const bdata = (block: number, length: number, sbid = 99) => ({
      type: 'packet' as const,
      from: 'group' as const,
      packet: { opcode: 'BDATA' as const, block, sbid, data: new Uint8Array(length) },
    });
    c = clientReadStep(c.state, bdata(2, 8, 98), 2);
    expect(c.effects).toEqual([]);
    c = clientReadStep(c.state, bdata(2, 8), 3);
    expect(c.effects).toEqual([{ type: 'data', block: 2, offset: 8, data: new Uint8Array(8) }]);
    // Becoming master with block 1 missing: ACK 0 ("send me block 1").
    c = clientReadStep(c.state, oack([{ name: 'sbroadcast', value: ',99,1' }]), 4);
    expect(sends(c.effects)).toEqual([{ opcode: 'ACK', block: 0 }]);
    c = clientReadStep(c.state, bdata(1, 8), 5);
    expect(sends(c.effects)).toEqual([{ opcode: 'ACK', block: 2 }]);
    c = clientReadStep(c.state, bdata(3, 4), 6);
    expect(sends(c.effects)).toEqual([{ opcode: 'ACK', block: 3 }]);
    expect(done(c.effects)).toMatchObject({ outcome: 'complete', bytes: 20, blocks: 3 });
  });

  it('group master pipelines: ACKs after half a window of new blocks, and at the end of the window', () => {
    let c = client(
      [
        { name: 'blksize', value: '8' },
        { name: 'tsize', value: '0' },
        { name: 'windowsize', value: '4' },
        { name: 'multicast', value: '' },
      ],
      { groupIdleMs: 1000 },
    );
    c = clientReadStep(
      c.state,
      oack([
        { name: 'blksize', value: '8' },
        { name: 'tsize', value: '200' },
        { name: 'windowsize', value: '4' },
        { name: 'multicast', value: '239.255.1.1,1758,1' },
      ]),
      1,
    );
    expect(sends(c.effects)).toEqual([{ opcode: 'ACK', block: 0 }]);
    const acks: number[] = [];
    const feed = (block: number, at: number) => {
      c = clientReadStep(c.state, data(block, 8, 'group'), at);
      for (const p of sends(c.effects)) if (p.opcode === 'ACK') acks.push(p.block);
    };
    feed(1, 2);
    expect(acks).toEqual([]);
    feed(2, 3);
    expect(acks).toEqual([2]);
    feed(3, 4);
    feed(4, 5);
    expect(acks).toEqual([2, 4]);
    // Block 5 lost: 6 and 7 are two new blocks, so the master asks again from 5 (the server resends it).
    feed(6, 6);
    feed(7, 7);
    expect(acks).toEqual([2, 4, 4]);
    // An old duplicate is not new: no ACK.
    feed(3, 8);
    expect(acks).toEqual([2, 4, 4]);
    // The resent block fills the gap: the next hole is 8.
    feed(5, 9);
    feed(8, 10);
    expect(acks).toEqual([2, 4, 4, 8]);
  });

  it('group non-master gives up after groupIdleMs of silence', () => {
    let c = client([{ name: 'multicast', value: '' }], { groupIdleMs: 1000 });
    c = clientReadStep(c.state, oack([{ name: 'multicast', value: '239.1.1.1,1758,0' }]), 0);
    c = clientReadStep(c.state, data(3, 512, 'group'), 500);
    c = clientReadStep(c.state, { type: 'timer' }, 1000);
    expect(c.effects).toEqual([{ type: 'setTimer', at: 1500 }]);
    c = clientReadStep(c.state, { type: 'timer' }, 1500);
    expect(done(c.effects)?.outcome).toBe('timeout');
  });

  it('group: a malformed multicast value is ERROR 8', () => {
    const c = client([{ name: 'multicast', value: '' }]);
    const step = clientReadStep(c.state, oack([{ name: 'multicast', value: ',,1' }]), 0);
    expect(sends(step.effects)[0]).toMatchObject({ opcode: 'ERROR', errorCode: 8 });
  });
});

describe('group server machine', () => {
  const file = new Uint8Array(20);
  const g0 = (): GroupState =>
    createGroup({
      delivery: { kind: 'multicast', address: '239.255.1.1', port: 1758 },
      blksize: 8,
      fileSize: file.length,
      retry: RETRY,
      readBlock: (b) => file.subarray((b - 1) * 8, Math.min(b * 8, 20)),
    });
  const join = (client: string) => ({
    type: 'join' as const,
    client,
    oack: [
      { name: 'blksize', value: '8' },
      { name: 'multicast', value: '' },
      { name: 'windowsize', value: '2' },
    ],
  });
  const from = (client: string, packet: TftpPacket) => ({ type: 'packet' as const, client, packet });

  /** A multicast group over a zero-filled file of `size` octets in 8-octet blocks. */
  const groupOf = (size: number): GroupState => {
    const body = new Uint8Array(size);
    return createGroup({
      delivery: { kind: 'multicast', address: '239.255.1.1', port: 1758 },
      blksize: 8,
      fileSize: size,
      retry: RETRY,
      readBlock: (b) => body.subarray((b - 1) * 8, Math.min(b * 8, size)),
    });
  };
  const joinWindow = (client: string, windowsize: number) => ({
    type: 'join' as const,
    client,
    oack: [
      { name: 'multicast', value: '' },
      { name: 'windowsize', value: String(windowsize) },
    ],
  });

  it('OACKs the first client as master and later ones as not, then streams on the master’s ACKs', () => {
    let g = groupStep(g0(), join('a'), 0);
    expect(g.effects).toEqual([
      {
        type: 'send',
        to: 'a',
        packet: {
          opcode: 'OACK',
          options: [
            { name: 'blksize', value: '8' },
            { name: 'multicast', value: '239.255.1.1,1758,1' },
            { name: 'windowsize', value: '2' },
          ],
        },
      },
      { type: 'setTimer', at: 100 },
    ]);
    g = groupStep(g.state, join('b'), 1);
    expect(sends(g.effects)[0]).toMatchObject({ options: [{}, { value: '239.255.1.1,1758,0' }, {}] });
    g = groupStep(g.state, join('b'), 2);
    expect(sends(g.effects)[0]).toMatchObject({ options: [{}, { value: '239.255.1.1,1758,0' }, {}] });
    g = groupStep(g.state, from('b', { opcode: 'ACK', block: 0 }), 3);
    expect(g.effects).toEqual([]);
    g = groupStep(g.state, from('a', { opcode: 'ACK', block: 0 }), 4);
    expect(g.effects.map((e) => e.type)).toEqual(['sendGroup', 'sendGroup', 'setTimer']);
    expect(sends(g.effects).map((p) => p.opcode === 'DATA' && p.block)).toEqual([1, 2]);
    g = groupStep(g.state, from('a', { opcode: 'ACK', block: 2 }), 5);
    expect(sends(g.effects).map((p) => p.opcode === 'DATA' && [p.block, p.data.length])).toEqual([[3, 4]]);
    g = groupStep(g.state, from('a', { opcode: 'ACK', block: 3 }), 6);
    expect(g.effects[0]).toEqual({ type: 'left', client: 'a', reason: 'complete' });
    expect(sends(g.effects)).toEqual([
      {
        opcode: 'OACK',
        options: [
          { name: 'blksize', value: '8' },
          { name: 'multicast', value: '239.255.1.1,1758,1' },
          { name: 'windowsize', value: '2' },
        ],
      },
    ]);
    g = groupStep(g.state, from('b', { opcode: 'ACK', block: 3 }), 7);
    expect(g.effects).toEqual([
      { type: 'left', client: 'b', reason: 'complete' },
      { type: 'done', outcome: 'complete', bytes: 20, blocks: 3 },
    ]);
  });

  it('sliding window: a progressing ACK sends only blocks beyond those in flight; a repeat resends the first', () => {
    let g = groupStep(groupOf(8 * 20 + 3), joinWindow('a', 4), 0);
    const blocks = (step: typeof g) => sends(step.effects).map((p) => (p.opcode === 'DATA' ? p.block : -1));
    g = groupStep(g.state, from('a', { opcode: 'ACK', block: 0 }), 1);
    expect(blocks(g)).toEqual([1, 2, 3, 4]);
    // Pipelined: ACK 2 while 3 and 4 are still in flight.
    g = groupStep(g.state, from('a', { opcode: 'ACK', block: 2 }), 2);
    expect(blocks(g)).toEqual([5, 6]);
    // ACK 2 again: block 3 was lost; only it goes out again.
    g = groupStep(g.state, from('a', { opcode: 'ACK', block: 2 }), 3);
    expect(blocks(g)).toEqual([3]);
    g = groupStep(g.state, from('a', { opcode: 'ACK', block: 6 }), 4);
    expect(blocks(g)).toEqual([7, 8, 9, 10]);
    // After one timeout (100 ms) without progress the whole window goes out again.
    g = groupStep(g.state, { type: 'timer' }, 104);
    expect(blocks(g)).toEqual([7, 8, 9, 10]);
    // Blocks sent longer than a timeout ago are no longer in flight.
    g = groupStep(g.state, from('a', { opcode: 'ACK', block: 8 }), 250);
    expect(blocks(g)).toEqual([9, 10, 11, 12]);
    expect(g.state.blocksSent).toBe(4 + 2 + 1 + 4 + 4 + 4);
  });

  it('a new master’s first ACK gets its whole window, even blocks just sent for the previous master', () => {
    let g = groupStep(groupOf(8 * 10), joinWindow('a', 4), 0);
    g = groupStep(g.state, joinWindow('b', 4), 0);
    g = groupStep(g.state, from('a', { opcode: 'ACK', block: 0 }), 1);
    g = groupStep(g.state, from('a', { opcode: 'ERROR', errorCode: 0, errorMessage: 'gone' }), 2);
    expect(sends(g.effects)).toMatchObject([{ opcode: 'OACK' }]);
    // b joined before block 1 went out but missed blocks 1 and 2 (say its socket was not ready yet).
    g = groupStep(g.state, from('b', { opcode: 'ACK', block: 0 }), 3);
    expect(sends(g.effects).map((p) => p.opcode === 'DATA' && p.block)).toEqual([1, 2, 3, 4]);
    g = groupStep(g.state, from('b', { opcode: 'ACK', block: 2 }), 4);
    expect(sends(g.effects).map((p) => p.opcode === 'DATA' && p.block)).toEqual([5, 6]);
  });

  it('answers strangers with ERROR 5 and drops members that send something illegal', () => {
    let g = groupStep(g0(), join('a'), 0);
    const stranger = groupStep(g.state, from('z', { opcode: 'ACK', block: 1 }), 1);
    expect(stranger.effects).toEqual([
      {
        type: 'send',
        to: 'z',
        packet: { opcode: 'ERROR', errorCode: 5, errorMessage: 'not a member of this transfer' },
      },
    ]);
    g = groupStep(g.state, from('a', { opcode: 'DATA', block: 1, data: new Uint8Array() }), 2);
    expect(sends(g.effects)[0]).toMatchObject({ opcode: 'ERROR', errorCode: 4 });
    expect(done(g.effects)?.outcome).toBe('complete');
  });

  it('abort sends ERROR 0 to every member', () => {
    let g = groupStep(g0(), join('a'), 0);
    g = groupStep(g.state, join('b'), 0);
    g = groupStep(g.state, { type: 'abort', reason: 'shutdown' }, 1);
    expect(sends(g.effects)).toEqual([
      { opcode: 'ERROR', errorCode: 0, errorMessage: 'shutdown' },
      { opcode: 'ERROR', errorCode: 0, errorMessage: 'shutdown' },
    ]);
    expect(done(g.effects)?.outcome).toBe('aborted');
  });

  it('sbroadcast values: port,sbid,master, repeated with master = 1 on hand-over; BDATA carries the sbid', () => {
    let g = groupStep(
      createGroup({
        delivery: { kind: 'sbroadcast', port: 247, sbid: 4000000000 },
        blksize: 8,
        fileSize: 4,
        retry: RETRY,
        readBlock: () => new Uint8Array(4),
      }),
      { type: 'join', client: 'a', oack: [{ name: 'sbroadcast', value: '' }] },
      0,
    );
    expect(sends(g.effects)).toEqual([
      { opcode: 'OACK', options: [{ name: 'sbroadcast', value: '247,4000000000,1' }] },
    ]);
    g = groupStep(g.state, { type: 'join', client: 'b', oack: [{ name: 'sbroadcast', value: '' }] }, 0);
    g = groupStep(g.state, from('a', { opcode: 'ACK', block: 0 }), 1);
    expect(sends(g.effects)).toEqual([
      { opcode: 'BDATA', block: 1, sbid: 4000000000, data: new Uint8Array(4) },
    ]);
    g = groupStep(g.state, from('a', { opcode: 'ERROR', errorCode: 0, errorMessage: 'bye' }), 2);
    expect(g.effects[0]).toEqual({ type: 'left', client: 'a', reason: 'error' });
    expect(sends(g.effects)).toEqual([
      { opcode: 'OACK', options: [{ name: 'sbroadcast', value: '247,4000000000,1' }] },
    ]);
  });
});

describe('server write machine', () => {
  const dataPacket = (block: number, length: number) => ({
    type: 'packet' as const,
    packet: { opcode: 'DATA' as const, block, data: new Uint8Array(length) },
  });

  it('answers a WRQ without options with ACK 0 and one with options with the OACK', () => {
    const plain = createServerWrite({ blksize: 512, windowsize: 1, retry: RETRY, oack: [], dallyMs: 0 }, 0);
    expect(sends(plain.effects)).toEqual([{ opcode: 'ACK', block: 0 }]);
    const withOptions = createServerWrite(
      { blksize: 8, windowsize: 1, retry: RETRY, oack: [{ name: 'blksize', value: '8' }], dallyMs: 0 },
      0,
    );
    expect(sends(withOptions.effects)).toEqual([
      { opcode: 'OACK', options: [{ name: 'blksize', value: '8' }] },
    ]);
    const again = serverWriteStep(withOptions.state, { type: 'timer' }, 100);
    expect(sends(again.effects)).toEqual([{ opcode: 'OACK', options: [{ name: 'blksize', value: '8' }] }]);
  });

  it('receives, ACKs, dallies and re-ACKs the repeated final block', () => {
    let w = createServerWrite({ blksize: 8, windowsize: 1, retry: RETRY, oack: [], dallyMs: 300 }, 0);
    w = serverWriteStep(w.state, dataPacket(1, 8), 1);
    expect(w.effects).toContainEqual({ type: 'data', block: 1, offset: 0, data: new Uint8Array(8) });
    expect(sends(w.effects)).toEqual([{ opcode: 'ACK', block: 1 }]);
    w = serverWriteStep(w.state, dataPacket(2, 0), 2);
    expect(sends(w.effects)).toEqual([{ opcode: 'ACK', block: 2 }]);
    w = serverWriteStep(w.state, dataPacket(2, 0), 3);
    expect(sends(w.effects)).toEqual([{ opcode: 'ACK', block: 2 }]);
    w = serverWriteStep(w.state, { type: 'timer' }, 302);
    expect(done(w.effects)).toEqual({ type: 'done', outcome: 'complete', bytes: 8, blocks: 2 });
  });

  it('ends with ERROR 3 when the upload exceeds maxBytes', () => {
    let w = createServerWrite(
      { blksize: 8, windowsize: 1, retry: RETRY, oack: [], dallyMs: 0, maxBytes: 12 },
      0,
    );
    w = serverWriteStep(w.state, dataPacket(1, 8), 1);
    w = serverWriteStep(w.state, dataPacket(2, 8), 2);
    expect(sends(w.effects)).toEqual([
      { opcode: 'ERROR', errorCode: 3, errorMessage: 'disk full or allocation exceeded' },
    ]);
    expect(done(w.effects)?.outcome).toBe('error');
  });
});

describe('group block-number rollover', () => {
  it('property (seeded): unwrapBlock recovers any block within ±32767 of the reference', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300_000 }),
        fc.integer({ min: -32_767, max: 32_767 }),
        (ref, d) => {
          const block = ref + d;
          fc.pre(block >= 0);
          expect(unwrapBlock(ref, block % 65536)).toBe(block);
        },
      ),
      { seed: 2090, numRuns: 2000 },
    );
    // A new master's reference is 0: its first ACK (at most GROUP_ACK_STEP) maps to itself.
    expect(unwrapBlock(0, 8192)).toBe(8192);
    expect(unwrapBlock(65_535, 0)).toBe(65_536);
    expect(unwrapBlock(65_536, 65_535)).toBe(65_535);
  });

  it('sends wrapped numbers, unwraps the master’s ACKs past the wrap, and delays the heir’s OACK', () => {
    const size = 8 * 70_000;
    let g = createGroup({
      delivery: { kind: 'multicast', address: '239.1.1.1', port: 1758 },
      blksize: 8,
      fileSize: size,
      retry: { timeoutMs: 100, maxTimeoutMs: 800, maxRetries: 3 },
      readBlock: (n) => new Uint8Array(n === 70_001 ? 0 : 8).fill(n & 0xff),
    });
    const oackOf = (mc: string): TftpOption[] => [{ name: 'multicast', value: mc }];
    g = groupStep(
      g,
      { type: 'join', client: 'm', oack: [...oackOf(''), { name: 'windowsize', value: '4' }] },
      0,
    ).state;
    g = groupStep(
      g,
      { type: 'join', client: 'n', oack: [...oackOf(''), { name: 'windowsize', value: '4' }] },
      1,
    ).state;
    const ackFrom = (client: string, block: number, now: number): readonly TftpEffect[] => {
      const step = groupStep(g, { type: 'packet', client, packet: { opcode: 'ACK', block } }, now);
      g = step.state;
      return step.effects;
    };
    const dataBlocks = (effects: readonly TftpEffect[]): number[] =>
      effects.flatMap((e) => (e.type === 'sendGroup' && e.packet.opcode === 'DATA' ? [e.packet.block] : []));
    expect(dataBlocks(ackFrom('m', 8192, 10))).toEqual([8193, 8194, 8195, 8196]);
    // Steps of at most 8192: 16384, 24576, … 65533 then across the wrap.
    for (let a = 16_384, t = 20; a < 65_533; a += 8192, t += 10) ackFrom('m', a, t);
    expect(g.lastRequest).toBe(57_344);
    expect(dataBlocks(ackFrom('m', 65_533, 200))).toEqual([65_534, 65_535, 0, 1]);
    // ACK 65535: 65536 and 65537 (wire 0, 1) are in flight; 65538 and 65539 go out as 2 and 3.
    expect(dataBlocks(ackFrom('m', 65_535, 205))).toEqual([2, 3]);
    // ACK 1 now means 65537: 65538 and 65539 are in flight, 65540 and 65541 go out as 4 and 5.
    expect(dataBlocks(ackFrom('m', 1, 210))).toEqual([4, 5]);
    expect(g.lastRequest).toBe(65_537);
    // A non-master's ACK 0 is not its last block (wire 4465) and is ignored.
    expect(ackFrom('n', 0, 220)).toEqual([]);
    // The master ACKs the last block: leaves; the heir's OACK waits one timeout (old stream drains).
    const leaving = ackFrom('m', 70_001 % 65_536, 230);
    expect(leaving.some((e) => e.type === 'left' && e.client === 'm' && e.reason === 'complete')).toBe(true);
    expect(leaving.some((e) => e.type === 'send')).toBe(false);
    const offered = groupStep(g, { type: 'timer' }, 330);
    expect(offered.effects).toContainEqual({
      type: 'send',
      to: 'n',
      packet: {
        opcode: 'OACK',
        options: [...oackOf('239.1.1.1,1758,1'), { name: 'windowsize', value: '4' }],
      },
    });
  });
});
