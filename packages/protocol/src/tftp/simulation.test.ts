/**
 * Boundary tests: the server and client machines driven against each other in memory over a simulated
 * lossy channel (seeded PRNG: loss, duplication, reordering by extra delay). Every datagram is encoded and
 * decoded on the way, so the codec is exercised too. Time is simulated; nothing sleeps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../wire.js';
import { decodeTftp, encodeTftp } from './packet.js';
import type { TftpOption, TftpPacket } from './packet.js';
import { negotiateOptions } from './negotiate.js';
import type { TftpServerPolicy } from './negotiate.js';
import { createServerRead, serverReadStep } from './server-read.js';
import type { ServerReadState } from './server-read.js';
import { clientReadStep, createClientRead } from './client-read.js';
import type { ClientReadConfig, ClientReadState } from './client-read.js';
import { createServerWrite, serverWriteStep } from './server-write.js';
import type { ServerWriteState } from './server-write.js';
import { createGroup, groupStep } from './group.js';
import type { GroupDelivery, GroupState } from './group.js';
import type { TftpEffect, TftpStep } from './machine.js';
import { seededRandom } from '../turbo/schedule.js';

type Done = Extract<TftpEffect, { type: 'done' }>;

interface ChannelSpec {
  readonly loss: number;
  readonly duplicate: number;
  readonly reorder: number;
  readonly latencyMs: number;
}

const PERFECT: ChannelSpec = { loss: 0, duplicate: 0, reorder: 0, latencyMs: 1 };
const LOSSY: ChannelSpec = { loss: 0.08, duplicate: 0.05, reorder: 0.1, latencyMs: 2 };

/** A time-ordered queue of callbacks (simulated clock): a binary heap ordered by (at, seq). */
class Scheduler {
  now = 0;
  private seq = 0;
  private heap: { at: number; seq: number; run: () => void }[] = [];
  at(at: number, run: () => void): void {
    const h = this.heap;
    h.push({ at, seq: this.seq++, run });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }
  private less(i: number, j: number): boolean {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
  private pop(): { at: number; run: () => void } {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(l, m)) m = l;
        if (r < h.length && this.less(r, m)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
  /** Runs events in time order; a run that does not settle (e.g. an ACK/DATA storm) fails the test. */
  runUntil(stop: () => boolean, limitMs: number, maxEvents = 1_000_000): void {
    let events = 0;
    while (!stop() && this.heap.length > 0) {
      if (++events > maxEvents) throw new Error(`simulation did not settle after ${maxEvents} events`);
      const next = this.pop();
      if (next.at > limitMs) return;
      this.now = Math.max(this.now, next.at);
      next.run();
    }
  }
}

/** Sends bytes through the lossy channel; `deliver` gets a freshly decoded packet. */
function transmit(
  sched: Scheduler,
  rand: () => number,
  spec: ChannelSpec,
  packet: TftpPacket,
  deliver: (p: TftpPacket) => void,
): void {
  const wire = encodeTftp(packet);
  const copies = rand() < spec.duplicate ? 2 : 1;
  for (let i = 0; i < copies; i++) {
    if (rand() < spec.loss) continue;
    const extra = rand() < spec.reorder ? rand() * spec.latencyMs * 4 : 0;
    sched.at(sched.now + spec.latencyMs + extra, () => {
      const decoded = decodeTftp(wire);
      if (!decoded.ok) throw new Error(`undecodable datagram ${decoded.error.code}`);
      deliver(decoded.value);
    });
  }
}

function fileOf(size: number, seed: number): Uint8Array {
  const rand = seededRandom(seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

function blockReader(file: Uint8Array, blksize: number): (block: number) => Uint8Array {
  return (block) => file.subarray((block - 1) * blksize, Math.min(block * blksize, file.length));
}

const RETRY = { timeoutMs: 100, maxTimeoutMs: 800, maxRetries: 8 };

interface UnicastRun {
  client: Done | null;
  server: Done | null;
  received: Uint8Array;
  packetsFromServer: number;
  /** Wire block numbers of the DATA the server sent, in order. */
  dataBlocks: number[];
  serverState: ServerReadState | null;
}

function runUnicast(opts: {
  file: Uint8Array;
  options: TftpOption[];
  seed: number;
  channel?: ChannelSpec;
  policy?: Partial<TftpServerPolicy>;
  client?: Partial<ClientReadConfig>;
  /** Drop everything the client sends after this many packets (client dies). */
  clientDiesAfter?: number;
  maxEvents?: number;
}): UnicastRun {
  const sched = new Scheduler();
  const rand = seededRandom(opts.seed);
  const channel = opts.channel ?? PERFECT;
  const received = new Uint8Array(opts.file.length + 65536);
  let receivedLength = 0;
  const result: UnicastRun = {
    client: null,
    server: null,
    received,
    packetsFromServer: 0,
    dataBlocks: [],
    serverState: null,
  };
  let client: ClientReadState;
  let server: ServerReadState | null = null;
  let clientTimer = -1;
  let serverTimer = -1;
  let clientSent = 0;

  const toServer = (packet: TftpPacket): void => {
    clientSent++;
    if (opts.clientDiesAfter !== undefined && clientSent > opts.clientDiesAfter) return;
    transmit(sched, rand, channel, packet, (p) => {
      if (p.opcode === 'RRQ') {
        if (server) return; // a repeated RRQ: the daemon's listener, not the transfer, deals with it
        const negotiation = negotiateOptions(p, { fileSize: opts.file.length, ...opts.policy });
        if (!negotiation.ok) throw new Error('negotiation failed');
        const { params } = negotiation;
        const created = createServerRead(
          {
            blksize: params.blksize,
            windowsize: params.windowsize,
            retry: RETRY,
            oack: negotiation.oack,
            tsizeRequested: params.tsizeRequested,
            readBlock: blockReader(opts.file, params.blksize),
          },
          sched.now,
        );
        server = created.state;
        serverEffects(created);
        return;
      }
      if (server) serverEffects(serverReadStep(server, { type: 'packet', packet: p }, sched.now));
    });
  };
  const serverEffects = (step: TftpStep<ServerReadState>): void => {
    server = step.state;
    result.serverState = server;
    for (const e of step.effects) {
      if (e.type === 'send') {
        result.packetsFromServer++;
        if (e.packet.opcode === 'DATA') result.dataBlocks.push(e.packet.block);
        transmit(sched, rand, channel, e.packet, (p) =>
          clientEffects(clientReadStep(client, { type: 'packet', packet: p }, sched.now)),
        );
      } else if (e.type === 'setTimer') {
        serverTimer = e.at;
        sched.at(e.at, () => {
          if (serverTimer === e.at && server)
            serverEffects(serverReadStep(server, { type: 'timer' }, sched.now));
        });
      } else if (e.type === 'done') {
        result.server = e;
      }
    }
  };
  const clientEffects = (step: TftpStep<ClientReadState>): void => {
    client = step.state;
    for (const e of step.effects) {
      if (e.type === 'send') toServer(e.packet);
      else if (e.type === 'setTimer') {
        clientTimer = e.at;
        sched.at(e.at, () => {
          if (clientTimer === e.at) clientEffects(clientReadStep(client, { type: 'timer' }, sched.now));
        });
      } else if (e.type === 'data') {
        received.set(e.data, e.offset);
        receivedLength = Math.max(receivedLength, e.offset + e.data.length);
      } else if (e.type === 'done') result.client = e;
    }
  };
  clientEffects(
    createClientRead(
      {
        filename: 'boot.img',
        mode: 'octet',
        options: opts.options,
        retry: RETRY,
        dallyMs: 2000,
        ...opts.client,
      },
      0,
    ),
  );
  sched.runUntil(() => result.client !== null && result.server !== null, 10_000_000, opts.maxEvents);
  result.received = received.subarray(0, receivedLength);
  return result;
}

/** Byte equality without vitest's slow element-wise diff for large arrays (diffs only on failure). */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array, label = ''): void {
  if (!bytesEqual(actual, expected)) expect(actual, label).toEqual(expected);
}

function opt(name: string, value: string | number): TftpOption {
  return { name, value: String(value) };
}

describe('unicast read: server and client machines over a simulated channel', () => {
  const sizes = (blksize: number): number[] => [
    0,
    1,
    blksize - 1,
    blksize,
    blksize + 1,
    3 * blksize,
    3 * blksize + 1,
    3 * blksize - 1,
  ];

  it.each([1, 4, 16])('file sizes 0, n×blksize and n×blksize±1, windowsize %i, perfect channel', (ws) => {
    for (const size of sizes(512)) {
      const file = fileOf(size, size);
      const run = runUnicast({ file, options: [opt('windowsize', ws)], seed: 1 });
      expect(run.client?.outcome, `size ${size}`).toBe('complete');
      expect(run.server?.outcome, `size ${size}`).toBe('complete');
      expectSameBytes(run.received, file);
      expect(run.server?.bytes).toBe(size);
      // A multiple of blksize ends with a zero-length block: floor(size/512) + 1 blocks.
      expect(run.server?.blocks).toBe(Math.floor(size / 512) + 1);
    }
  });

  it('plain RFC 1350 (no options): lock-step, 512-octet blocks, DATA 1 first', () => {
    const file = fileOf(1500, 7);
    const run = runUnicast({ file, options: [], seed: 2 });
    expect(run.client?.outcome).toBe('complete');
    expectSameBytes(run.received, file);
    expect(run.packetsFromServer).toBe(3);
  });

  it.each([
    [1, 11],
    [4, 12],
    [16, 13],
    [4, 14],
    [16, 15],
  ])('lossy channel (loss, duplicates, reordering), windowsize %i, seed %i', (ws, seed) => {
    for (const size of [0, 1024, 1025, 1023, 20_000]) {
      const file = fileOf(size, seed + size);
      const run = runUnicast({
        file,
        options: [opt('blksize', 1024), opt('tsize', 0), opt('windowsize', ws)],
        seed: seed * 1000 + size,
        channel: LOSSY,
      });
      expect(run.client?.outcome, `size ${size}`).toBe('complete');
      expectSameBytes(run.received, file, `size ${size}`);
      expect(run.client?.tsize).toBe(size);
      expect(run.server?.outcome, `size ${size}`).toBe('complete');
    }
  });

  it('property (seeded): any size, blksize, windowsize and channel seed delivers the exact file', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.constantFrom(8, 13, 64, 512),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (size, blksize, ws, seed) => {
          const file = fileOf(size, seed);
          const run = runUnicast({
            file,
            options: [opt('blksize', blksize), opt('windowsize', ws), opt('tsize', 0)],
            seed,
            channel: LOSSY,
          });
          expect(run.client?.outcome).toBe('complete');
          expect(run.server?.outcome).toBe('complete');
          expectSameBytes(run.received, file);
        },
      ),
      { seed: 7440, numRuns: 30 },
    );
  });

  it('never retransmits DATA because of a duplicate ACK (Sorcerer’s Apprentice)', () => {
    const file = fileOf(512 * 50, 3);
    // Every datagram duplicated, no loss: each DATA must still go out exactly once.
    const run = runUnicast({
      file,
      options: [],
      seed: 4,
      channel: { loss: 0, duplicate: 1, reorder: 0, latencyMs: 1 },
      maxEvents: 10_000,
    });
    expect(run.client?.outcome).toBe('complete');
    expectSameBytes(run.received, file);
    expect(run.packetsFromServer).toBe(51);
    expect(run.serverState?.retransmissions).toBe(0);
  });

  it.each([1, 16])('rolls block numbers over past 65535 (blksize 8, windowsize %i)', (ws) => {
    const size = 65536 * 8 + 3 * 8 + 5; // blocks 1..65539 and a short one: wire numbers wrap to 0
    const file = fileOf(size, 99);
    const run = runUnicast({ file, options: [opt('blksize', 8), opt('windowsize', ws)], seed: 5 });
    expect(run.client?.outcome).toBe('complete');
    expect(run.server?.outcome).toBe('complete');
    expect(run.server?.blocks).toBe(65540);
    expectSameBytes(run.received, file);
    // On the wire: 1 … 65535, then 0, 1, 2, 3 (wrap to 0, PROTOCOLS.md §3.9).
    const at = run.dataBlocks.indexOf(65535);
    expect(run.dataBlocks.slice(at, at + 5)).toEqual([65535, 0, 1, 2, 3]);
  });

  it('rolls over exactly at a 65536-block file of full blocks plus empty last block', () => {
    const size = 65535 * 8; // 65535 full blocks; the empty final block is number 65536 → wire 0
    const file = fileOf(size, 98);
    const run = runUnicast({ file, options: [opt('blksize', 8), opt('windowsize', 4)], seed: 6 });
    expect(run.client?.outcome).toBe('complete');
    expect(run.server?.blocks).toBe(65536);
    expectSameBytes(run.received, file);
    expect(run.dataBlocks.slice(-2)).toEqual([65535, 0]);
  });

  it('tsize probe: client ERROR 8 after OACK is a normal end (outcome probe)', () => {
    const file = fileOf(4321, 8);
    const run = runUnicast({
      file,
      options: [opt('tsize', 0), opt('blksize', 1468)],
      seed: 7,
      client: { probe: true },
    });
    expect(run.client).toMatchObject({ outcome: 'probe', tsize: 4321 });
    expect(run.server).toMatchObject({ outcome: 'probe', error: { code: 8 } });
  });

  it('server gives up with backoff when the client vanishes', () => {
    const file = fileOf(5000, 9);
    const run = runUnicast({ file, options: [], seed: 8, clientDiesAfter: 3 });
    expect(run.server?.outcome).toBe('timeout');
    expect(run.serverState?.retransmissions).toBe(RETRY.maxRetries);
  });

  it('client rejects an OACK with a larger blksize than asked (ERROR 8)', () => {
    const file = fileOf(100, 10);
    const run = runUnicast({
      file,
      options: [opt('blksize', 1024)],
      seed: 9,
      policy: { maxBlksize: 1468 },
      client: { options: [opt('blksize', 1024)] },
    });
    expect(run.client?.outcome).toBe('complete');
    // Forge the bad case directly: an OACK granting more than requested.
    const { state } = createClientRead(
      { filename: 'x', mode: 'octet', options: [opt('blksize', 512)], retry: RETRY, dallyMs: 0 },
      0,
    );
    const step = clientReadStep(
      state,
      { type: 'packet', packet: { opcode: 'OACK', options: [opt('blksize', 1024)] } },
      1,
    );
    expect(step.effects[0]).toMatchObject({ type: 'send', packet: { opcode: 'ERROR', errorCode: 8 } });
    expect(step.effects.at(-1)).toMatchObject({ type: 'done', outcome: 'error' });
  });
});

/**
 * A write transfer: the server-write machine receives; the sending side is the read machine (the data
 * sender is the same whichever end opened the transfer), started once the server's ACK 0 / OACK arrives.
 */
function runWrite(opts: {
  file: Uint8Array;
  blksize: number;
  windowsize: number;
  seed: number;
  channel: ChannelSpec;
}): {
  server: Done | null;
  sender: Done | null;
  stored: Uint8Array;
} {
  const sched = new Scheduler();
  const rand = seededRandom(opts.seed);
  const stored = new Uint8Array(opts.file.length);
  let server: ServerWriteState;
  let sender: ServerReadState | null = null;
  let serverTimer = -1;
  let senderTimer = -1;
  let serverDone: Done | null = null;
  let senderDone: Done | null = null;
  const oack =
    opts.blksize === 512 && opts.windowsize === 1
      ? []
      : [opt('blksize', opts.blksize), opt('windowsize', opts.windowsize)];

  const serverEffects = (step: TftpStep<ServerWriteState>): void => {
    server = step.state;
    for (const e of step.effects) {
      if (e.type === 'send') transmit(sched, rand, opts.channel, e.packet, (p) => toSender(p));
      else if (e.type === 'setTimer') {
        serverTimer = e.at;
        sched.at(e.at, () => {
          if (serverTimer === e.at) serverEffects(serverWriteStep(server, { type: 'timer' }, sched.now));
        });
      } else if (e.type === 'data') stored.set(e.data, e.offset);
      else if (e.type === 'done') serverDone = e;
    }
  };
  const senderEffects = (step: TftpStep<ServerReadState>): void => {
    sender = step.state;
    for (const e of step.effects) {
      if (e.type === 'send') {
        transmit(sched, rand, opts.channel, e.packet, (p) =>
          serverEffects(serverWriteStep(server, { type: 'packet', packet: p }, sched.now)),
        );
      } else if (e.type === 'setTimer') {
        senderTimer = e.at;
        sched.at(e.at, () => {
          if (senderTimer === e.at && sender)
            senderEffects(serverReadStep(sender, { type: 'timer' }, sched.now));
        });
      } else if (e.type === 'done') senderDone = e;
    }
  };
  const toSender = (p: TftpPacket): void => {
    if (!sender) {
      if (p.opcode !== 'OACK' && !(p.opcode === 'ACK' && p.block === 0)) return;
      senderEffects(
        createServerRead(
          {
            blksize: opts.blksize,
            windowsize: opts.windowsize,
            retry: RETRY,
            oack: [],
            tsizeRequested: false,
            readBlock: blockReader(opts.file, opts.blksize),
          },
          sched.now,
        ),
      );
      return;
    }
    if (p.opcode === 'OACK') return; // repeated OACK: our DATA 1 is on its way or will be retransmitted
    senderEffects(serverReadStep(sender, { type: 'packet', packet: p }, sched.now));
  };
  serverEffects(
    createServerWrite(
      { blksize: opts.blksize, windowsize: opts.windowsize, retry: RETRY, oack, dallyMs: 2000 },
      0,
    ),
  );
  sched.runUntil(() => serverDone !== null && senderDone !== null, 10_000_000);
  return { server: serverDone, sender: senderDone, stored };
}

describe('write transfer (WRQ): server-write machine against a data sender', () => {
  it.each([
    [512, 1, 41],
    [1024, 4, 42],
    [64, 16, 43],
  ])('blksize %i, windowsize %i, lossy channel, seed %i', (blksize, windowsize, seed) => {
    for (const size of [0, blksize, blksize * 5 - 1, blksize * 5 + 1, blksize * 20]) {
      const file = fileOf(size, seed + size);
      const run = runWrite({ file, blksize, windowsize, seed: seed * 7 + size, channel: LOSSY });
      expect(run.server?.outcome, `size ${size}`).toBe('complete');
      expect(run.server?.bytes).toBe(size);
      expectSameBytes(run.stored, file, `size ${size}`);
    }
  });
});

interface GroupRunClient {
  name: string;
  startAt: number;
  dieAt?: number;
  done: Done | null;
  received: Uint8Array;
  holds: number;
  /** The first block it was handed (absolute). */
  firstBlock: number;
}

function runGroup(opts: {
  file: Uint8Array;
  blksize?: number;
  delivery: GroupDelivery;
  clients: { name: string; startAt: number; windowsize: number; dieAt?: number }[];
  seed: number;
  channel?: ChannelSpec;
}): {
  clients: GroupRunClient[];
  group: Done | null;
  handovers: number;
  left: string[];
  groupDatagrams: number;
} {
  const sched = new Scheduler();
  const rand = seededRandom(opts.seed);
  const channel = opts.channel ?? PERFECT;
  const blksize = opts.blksize ?? 64;
  const kind = opts.delivery.kind;
  let group: GroupState | null = null;
  let groupTimer = -1;
  let groupDone: Done | null = null;
  let handovers = 0;
  let groupDatagrams = 0;
  const left: string[] = [];
  const states = new Map<string, ClientReadState>();
  const timers = new Map<string, number>();
  const joined = new Set<string>();
  const runs: GroupRunClient[] = [];

  const alive = (c: GroupRunClient): boolean => c.dieAt === undefined || sched.now < c.dieAt;

  const groupEffects = (step: TftpStep<GroupState>): void => {
    group = step.state;
    for (const e of step.effects) {
      if (e.type === 'send') {
        const target = runs.find((c) => c.name === e.to)!;
        transmit(sched, rand, channel, e.packet, (p) => {
          if (alive(target))
            clientEffects(
              target,
              clientReadStep(
                states.get(target.name)!,
                { type: 'packet', packet: p, from: 'peer' },
                sched.now,
              ),
            );
        });
      } else if (e.type === 'sendGroup') {
        groupDatagrams++;
        for (const c of runs) {
          if (!joined.has(c.name)) continue;
          transmit(sched, rand, channel, e.packet, (p) => {
            if (alive(c))
              clientEffects(
                c,
                clientReadStep(states.get(c.name)!, { type: 'packet', packet: p, from: 'group' }, sched.now),
              );
          });
        }
      } else if (e.type === 'setTimer') {
        groupTimer = e.at;
        sched.at(e.at, () => {
          if (groupTimer === e.at && group) groupEffects(groupStep(group, { type: 'timer' }, sched.now));
        });
      } else if (e.type === 'log' && e.message === 'tftp group: mastership passed') {
        handovers++;
      } else if (e.type === 'left') {
        left.push(`${e.client}:${e.reason}`);
      } else if (e.type === 'done') {
        groupDone = e;
      }
    }
  };

  const toServer = (c: GroupRunClient, packet: TftpPacket): void => {
    if (!alive(c)) return;
    transmit(sched, rand, channel, packet, (p) => {
      if (p.opcode === 'RRQ') {
        const negotiation = negotiateOptions(p, {
          fileSize: opts.file.length,
          enabled: { [kind]: true },
          ...(group && group.phase !== 'done' ? { groupBlksize: group.config.blksize } : {}),
        });
        if (!negotiation.ok || negotiation.params.group === null) throw new Error('group not granted');
        if (!group || group.phase === 'done') {
          group = createGroup({
            delivery: opts.delivery,
            blksize: negotiation.params.blksize,
            fileSize: opts.file.length,
            retry: RETRY,
            readBlock: blockReader(opts.file, negotiation.params.blksize),
          });
        }
        groupEffects(groupStep(group, { type: 'join', client: c.name, oack: negotiation.oack }, sched.now));
        return;
      }
      if (group) groupEffects(groupStep(group, { type: 'packet', client: c.name, packet: p }, sched.now));
    });
  };

  const clientEffects = (c: GroupRunClient, step: TftpStep<ClientReadState>): void => {
    states.set(c.name, step.state);
    for (const e of step.effects) {
      if (e.type === 'send') toServer(c, e.packet);
      else if (e.type === 'joinGroup') {
        expect(e.kind).toBe(kind);
        joined.add(c.name);
      } else if (e.type === 'setTimer') {
        timers.set(c.name, e.at);
        sched.at(e.at, () => {
          if (timers.get(c.name) === e.at && alive(c))
            clientEffects(c, clientReadStep(states.get(c.name)!, { type: 'timer' }, sched.now));
        });
      } else if (e.type === 'data') {
        c.received.set(e.data, e.offset);
        if (c.holds === 0) c.firstBlock = e.block;
        c.holds++;
      } else if (e.type === 'done') {
        c.done = e;
      }
    }
  };

  for (const spec of opts.clients) {
    const c: GroupRunClient = {
      name: spec.name,
      startAt: spec.startAt,
      ...(spec.dieAt !== undefined ? { dieAt: spec.dieAt } : {}),
      done: null,
      received: new Uint8Array(opts.file.length),
      holds: 0,
      firstBlock: 0,
    };
    runs.push(c);
    sched.at(spec.startAt, () =>
      clientEffects(
        c,
        createClientRead(
          {
            filename: 'boot.img',
            mode: 'octet',
            options: [
              opt('blksize', blksize),
              opt('tsize', 0),
              opt('windowsize', spec.windowsize),
              opt(kind, kind === 'multicast' ? '' : '255.255.255.0'),
              opt('rollover', 0),
            ],
            retry: RETRY,
            dallyMs: 0,
            groupIdleMs: 60_000,
          },
          sched.now,
        ),
      ),
    );
  }
  sched.runUntil(() => groupDone !== null && runs.every((c) => c.done !== null || !alive(c)), 10_000_000);
  return { clients: runs, group: groupDone, handovers, left, groupDatagrams };
}

const MULTICAST: GroupDelivery = { kind: 'multicast', address: '239.255.1.1', port: 1758 };
const SBROADCAST: GroupDelivery = { kind: 'sbroadcast', port: 247, sbid: 0xdeadbeef };

describe('group transfer (RFC 2090 multicast and IBM sbroadcast)', () => {
  it.each([
    ['multicast', MULTICAST],
    ['sbroadcast', SBROADCAST],
  ] as const)('%s: three clients share one stream, mastership passes as each finishes', (_name, delivery) => {
    const file = fileOf(64 * 40 + 10, 21);
    const run = runGroup({
      file,
      delivery,
      seed: 22,
      clients: [
        { name: 'a', startAt: 0, windowsize: 4 },
        { name: 'b', startAt: 1, windowsize: 4 },
        { name: 'c', startAt: 2, windowsize: 1 },
      ],
    });
    for (const c of run.clients) {
      expect(c.done?.outcome, c.name).toBe('complete');
      expectSameBytes(c.received, file, c.name);
    }
    expect(run.group?.outcome).toBe('complete');
    expect(run.left.sort()).toEqual(['a:complete', 'b:complete', 'c:complete']);
  });

  it('late joiner takes the stream where it is and fetches the start when it becomes master', () => {
    const file = fileOf(64 * 200, 23);
    const run = runGroup({
      file,
      delivery: MULTICAST,
      seed: 24,
      clients: [
        { name: 'first', startAt: 0, windowsize: 4 },
        { name: 'second', startAt: 1, windowsize: 4 },
        { name: 'late', startAt: 40, windowsize: 8 },
      ],
    });
    const late = run.clients[2]!;
    for (const c of run.clients) {
      expect(c.done?.outcome, c.name).toBe('complete');
      expectSameBytes(c.received, file, c.name);
    }
    expect(run.handovers).toBe(2);
    expect(late.holds).toBe(201);
    expect(run.left).toEqual(['first:complete', 'second:complete', 'late:complete']);
    expect(run.group?.outcome).toBe('complete');
  });

  it.each([
    ['multicast', MULTICAST],
    ['sbroadcast', SBROADCAST],
  ] as const)(
    '%s: pipelined masters send each block about once; late joiners cost only what they missed',
    (_n, delivery) => {
      const file = fileOf(64 * 400 + 5, 41);
      const lastBlock = 401;
      const together = runGroup({
        file,
        delivery,
        seed: 42,
        clients: Array.from({ length: 8 }, (_, i) => ({ name: `c${i}`, startAt: i % 3, windowsize: 8 })),
      });
      for (const c of together.clients) expectSameBytes(c.received, file, c.name);
      // The last window of each of the 8 masters may run past blocks the others already hold.
      expect(together.groupDatagrams).toBeLessThanOrEqual(lastBlock + 8 * 7);
      // Late joiners: the stream's start is sent again for them, but once for all of them, not per joiner.
      const staggered = runGroup({
        file,
        delivery,
        seed: 43,
        clients: [
          { name: 'a', startAt: 0, windowsize: 8 },
          ...Array.from({ length: 6 }, (_, i) => ({ name: `late${i}`, startAt: 20 + i * 5, windowsize: 8 })),
        ],
      });
      for (const c of staggered.clients) expectSameBytes(c.received, file, c.name);
      const missedByLast = staggered.clients.at(-1)!;
      expect(staggered.handovers).toBe(6);
      expect(staggered.groupDatagrams).toBeLessThan(lastBlock * 1.5);
      expect(missedByLast.done?.outcome).toBe('complete');
    },
  );

  it('master going silent: the server drops it and hands mastership to the next client', () => {
    const file = fileOf(64 * 120, 25);
    const run = runGroup({
      file,
      delivery: SBROADCAST,
      seed: 26,
      clients: [
        { name: 'dead', startAt: 0, windowsize: 4, dieAt: 60 },
        { name: 'b', startAt: 1, windowsize: 4 },
        { name: 'c', startAt: 2, windowsize: 4 },
        { name: 'd', startAt: 3, windowsize: 2 },
      ],
    });
    expect(run.left).toContain('dead:timeout');
    for (const c of run.clients.slice(1)) {
      expect(c.done?.outcome, c.name).toBe('complete');
      expectSameBytes(c.received, file, c.name);
    }
    expect(run.group?.outcome).toBe('complete');
  });

  it('property (seeded): 3–5 clients with random start times and windowsizes all get the file', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            startAt: fc.integer({ min: 0, max: 300 }),
            windowsize: fc.integer({ min: 1, max: 8 }),
          }),
          {
            minLength: 3,
            maxLength: 5,
          },
        ),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.boolean(),
        (specs, blocks, seed, multicast) => {
          const file = fileOf(64 * blocks + (seed % 64), seed);
          const run = runGroup({
            file,
            delivery: multicast ? MULTICAST : SBROADCAST,
            seed,
            channel: LOSSY,
            clients: specs.map((c, i) => ({ name: `c${i}`, ...c })),
          });
          for (const c of run.clients) {
            expect(c.done?.outcome, c.name).toBe('complete');
            expectSameBytes(c.received, file, c.name);
          }
        },
      ),
      { seed: 2090, numRuns: 20 },
    );
  });

  it.each([31, 32, 33])('lossy channel with four clients and a late joiner, seed %i', (seed) => {
    const file = fileOf(64 * 150 + 64, seed);
    const run = runGroup({
      file,
      delivery: seed % 2 === 0 ? MULTICAST : SBROADCAST,
      seed,
      channel: LOSSY,
      clients: [
        { name: 'a', startAt: 0, windowsize: 8 },
        { name: 'b', startAt: 0, windowsize: 1 },
        { name: 'c', startAt: 5, windowsize: 4 },
        { name: 'late', startAt: 200, windowsize: 16 },
      ],
    });
    for (const c of run.clients) {
      expect(c.done?.outcome, c.name).toBe('complete');
      expectSameBytes(c.received, file, c.name);
    }
    expect(run.group?.outcome).toBe('complete');
  });

  describe('block-number rollover past 65,535 blocks (SPEC §11)', () => {
    // blksize 8: 70,000 blocks are 560 kB, so the simulation crosses the wrap quickly.
    const expectAll = (run: ReturnType<typeof runGroup>, file: Uint8Array): void => {
      for (const c of run.clients) {
        if (c.dieAt !== undefined) continue;
        expect(c.done?.outcome, c.name).toBe('complete');
        expectSameBytes(c.received, file, c.name);
      }
      expect(run.group?.outcome).toBe('complete');
    };

    it.each([
      ['multicast', MULTICAST, 61],
      ['sbroadcast', SBROADCAST, 62],
    ] as const)(
      '%s: lossy channel, a master dying past the wrap, a late joiner that first sees wrapped numbers',
      (_n, delivery, seed) => {
        const file = fileOf(8 * 70_000 + 3, seed);
        const run = runGroup({
          file,
          blksize: 8,
          delivery,
          seed,
          channel: LOSSY,
          clients: [
            { name: 'a', startAt: 0, windowsize: 16, dieAt: 412_000 },
            { name: 'b', startAt: 1, windowsize: 8 },
            { name: 'late', startAt: 402_000, windowsize: 16 },
          ],
        });
        expectAll(run, file);
        expect(run.left).toContain('a:timeout');
        const late = run.clients[2]!;
        // Joined past the wrap (a had sent ~66,000 blocks): as a non-master it placed no block whose wire
        // number has two candidates (1 … 4,465 and 65,537 … 70,001); it fetched those as master.
        expect(late.firstBlock).toBeGreaterThan(70_001 - 65_536);
        expect(late.holds).toBe(70_001);
      },
      60_000,
    );

    it('property (seeded): sizes around and past the wrap, random starts, loss, deaths', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 65_530, max: 72_000 }),
          fc.array(
            fc.record({
              startAt: fc.integer({ min: 0, max: 500_000 }),
              windowsize: fc.integer({ min: 1, max: 16 }),
              dies: fc.boolean(),
            }),
            { minLength: 2, maxLength: 3 },
          ),
          fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          fc.boolean(),
          (blocks, specs, seed, multicast) => {
            // Negotiation refuses a last block that is a multiple of 65536 (it would share ACK 0).
            const size = 8 * (blocks % 65_536 === 65_535 ? blocks + 1 : blocks) + (seed % 8);
            const file = fileOf(size, seed);
            const run = runGroup({
              file,
              blksize: 8,
              delivery: multicast ? MULTICAST : SBROADCAST,
              seed,
              channel: LOSSY,
              // Only the first may die (someone must stay to finish); it dies mid-stream.
              clients: specs.map((c, i) => ({
                name: `c${i}`,
                startAt: c.startAt,
                windowsize: c.windowsize,
                ...(i === 0 && c.dies ? { dieAt: c.startAt + 200_000 } : {}),
              })),
            });
            expectAll(run, file);
          },
        ),
        { seed: 65536, numRuns: 4 },
      );
    }, 60_000);
  });
});
