import { createSocket } from 'node:dgram';
import type { Socket, SocketOptions } from 'node:dgram';
import { existsSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIPv4 } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getSystemErrorName } from 'node:util';
import type { NativeReceiver, TftpReceiveApi } from '@bootpt/tftp-native';
import {
  abortClientRead,
  clientReadStep,
  createClientRead,
  decodeTftp,
  encodeTftp,
} from '@bootpt/protocol/tftp/index';
import type {
  ClientReadEvent,
  ClientReadState,
  TftpEffect,
  TftpOption,
  TftpOutcome,
} from '@bootpt/protocol/tftp/index';

/**
 * One TFTP read over real UDP sockets, driven by the protocol's pure client machine (`clientReadStep`):
 * unicast (RFC 1350/2347/2348/2349/7440), IBM `sbroadcast` (SPEC §11) or RFC 2090 `multicast` group
 * reception. The machine decides every packet; this module only moves datagrams, runs the one timer and
 * hands received blocks to `onData` (at their byte offset: group blocks arrive in any order).
 *
 * The transfer socket talks to the server's request port until the first reply fixes the server's
 * transfer port (RFC 1350 TID); datagrams from any other address or port are ignored. Group datagrams are
 * taken from a second socket bound to the group port (broadcast enabled, or member of the multicast group
 * on `localAddress`), only from the server's transfer port.
 *
 * Group reception goes through the optional `tftp_receive.node` add-on when it loads (`nativeReceive`):
 * C owns the group socket, drains it with recvmmsg(2) and, for a non-master member that gave a destination
 * (`onSize` returning a buffer or a file descriptor), writes the stream's blocks straight into it and sets
 * their bits in the machine's own bitmap; JS is entered once per wake of the socket, to account those
 * blocks in the machine's state and to step the machine on every other datagram (see
 * packages/tftp-native/src/receive.c). Without the add-on (or with BOOTPT_TFTP_RECEIVE=js, or
 * `native: false`) node:dgram does the same datagram by datagram. Outcome, bytes and verification are the
 * same on both paths.
 */

export type TftpGroupMode =
  { readonly kind: 'multicast' } | { readonly kind: 'sbroadcast'; readonly mask: string };

export interface TftpReadOptions {
  readonly server: string;
  readonly port: number;
  readonly filename: string;
  readonly blksize?: number;
  readonly windowsize?: number;
  /** Ask for a group transfer (the server may still answer unicast if it does not grant the option). */
  readonly group?: TftpGroupMode;
  /** This host's address on the link: the interface for multicast membership. */
  readonly localAddress?: string;
  /** First retransmission timeout (doubled per retry up to 4×). Default 1000 ms. */
  readonly timeoutMs?: number;
  readonly maxRetries?: number;
  /** Group non-master: give up after this long without hearing the group. Default 60 s. */
  readonly groupIdleMs?: number;
  /**
   * Receive buffer asked for the group socket (SO_RCVBUF; the kernel caps it at net.core.rmem_max). The
   * master paces the stream, so a member the scheduler leaves behind for a moment must hold the blocks
   * that arrive meanwhile or fetch them again later. Default 4 MiB.
   */
  readonly groupRecvBufferSize?: number;
  /** Block data at its byte offset in the file. Throwing aborts the transfer (outcome `aborted`). */
  readonly onData: (data: Uint8Array, offset: number) => void;
  /**
   * The server's tsize, right after the OACK and before any data (throwing aborts, e.g. when the file is
   * too big). Returning a destination makes blocks go into it at their offset instead of through `onData`
   * (the group stream's fast path needs one): a buffer of at least tsize octets, or `{ fd }`, a file open
   * for writing, not appending (Linux ignores the offset of a positional write in append mode), that
   * the caller closes after the read (blocks are written into it at their offsets as they come, batched
   * by the native path, so no copy of the file is held in memory).
   */
  readonly onSize?: (tsize: number) => Uint8Array | { readonly fd: number } | void;
  /** Group reception through the native add-on when it loads (default true); false forces node:dgram. */
  readonly native?: boolean;
  readonly signal?: AbortSignal;
}

/** How the group stream was received (group transfers only). */
export interface GroupReceiveStats {
  readonly path: 'native' | 'dgram';
  /** Native: blocks written by the fast path, datagrams left to the machine, datagrams from elsewhere. */
  readonly fastBlocks: number;
  readonly handed: number;
  readonly foreign: number;
  /** Native: times the socket was drained, and datagrams read (a resting member drains many per wake). */
  readonly wakes: number;
  readonly datagrams: number;
}

export interface TftpReadResult {
  readonly outcome: TftpOutcome;
  /** File bytes received. */
  readonly bytes: number;
  readonly blocks: number;
  readonly tsize: number | null;
  /** From the RRQ to the end. */
  readonly ms: number;
  /** How the data came: `unicast` unless the server granted the group option. */
  readonly delivery: 'unicast' | 'multicast' | 'sbroadcast';
  /** UDP payload bytes received (transfer socket + group socket) and sent. */
  readonly wireRead: number;
  readonly wireWritten: number;
  readonly receive?: GroupReceiveStats;
  readonly error?: { readonly code: number; readonly message: string };
}

const DEFAULT_TIMEOUT_MS = 1000;
const DEFAULT_MAX_RETRIES = 8;
const DEFAULT_GROUP_IDLE_MS = 60_000;
const DEFAULT_GROUP_RECV_BUFFER = 4 * 1024 * 1024;
/** The final ACK is queued with `done`: close the sockets once it has left. */
const CLOSE_DELAY_MS = 20;

const RECEIVE_ADDON = 'tftp_receive.node';
let receiveApi: TftpReceiveApi | null | undefined;

/**
 * The group receive add-on, loaded once: `tftp_receive.node` next to the running script (the single-file
 * client is shipped with it), else the `@bootpt/tftp-native` build found in a node_modules above it. Null
 * when BOOTPT_TFTP_RECEIVE=js or when none loads (then node:dgram receives).
 */
export function nativeReceive(): TftpReceiveApi | null {
  if (receiveApi !== undefined) return receiveApi;
  receiveApi = null;
  if (process.env.BOOTPT_TFTP_RECEIVE === 'js') return null;
  const entry = resolve(process.argv[1] ?? join(process.cwd(), 'main'));
  const candidates = [join(dirname(entry), RECEIVE_ADDON)];
  for (let dir = dirname(entry), i = 0; i < 64; dir = dirname(dir), i++) {
    candidates.push(join(dir, 'node_modules/@bootpt/tftp-native/build/Release', RECEIVE_ADDON));
    if (dirname(dir) === dir) break;
  }
  const load = createRequire(entry);
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    try {
      receiveApi = load(path) as TftpReceiveApi;
      break;
    } catch {
      // Built for another Node or platform: try the next one, else node:dgram.
    }
  }
  return receiveApi;
}

/**
 * dgram passes every bind address and destination through `lookup` (default `dns.lookup`). A read only
 * ever uses literal IPv4 addresses (the server, 0.0.0.0), so those are answered at once: the default would
 * load node:dns and build its c-ares resolver on the first send (~14 ms of CPU per process, measured with
 * --cpu-prof in a 4-client storm), a cost every client of a boot storm pays at the same moment. Anything
 * else still goes to dns.lookup, loaded then.
 */
const literalLookup: NonNullable<SocketOptions['lookup']> = (hostname, options, callback) => {
  if (isIPv4(hostname)) {
    callback(null, hostname, 4);
    return;
  }
  void import('node:dns').then(
    (dns) => dns.lookup(hostname, options, callback),
    (err: Error) => callback(err as NodeJS.ErrnoException, '', 4),
  );
};

/** Writes all of `data` into `fd` at `offset` (a positional write may return short). */
export function writeAt(fd: number, data: Uint8Array, offset: number): void {
  for (let done = 0; done < data.length;)
    done += writeSync(fd, data, done, data.length - done, offset + done);
}

/** `ENOSPC (errno 28)`, or the bare number when the platform has no name for it. */
function errnoName(errno: number): string {
  try {
    return `${getSystemErrorName(-errno)} (errno ${errno})`;
  } catch {
    return `errno ${errno}`;
  }
}

/**
 * Loads now what a read would otherwise load on its first packets: the group receive add-on and
 * node:cluster (dgram requires it on a socket's first bind). For a caller that starts a read on a signal
 * (many clients released at once, as in a boot storm) and would rather pay that before it (~13 ms of CPU
 * in one --cpu-prof profile of a storm client: the add-on's require and dlopen ~11, node:cluster ~3).
 */
export function prepareTftpRead(): void {
  nativeReceive();
  process.getBuiltinModule('node:cluster');
}

/** The RRQ options for a read, in wire order. */
export function readOptions(
  options: Pick<TftpReadOptions, 'blksize' | 'windowsize' | 'group'>,
): TftpOption[] {
  const out: TftpOption[] = [];
  if (options.blksize !== undefined) out.push({ name: 'blksize', value: String(options.blksize) });
  if (options.windowsize !== undefined) out.push({ name: 'windowsize', value: String(options.windowsize) });
  out.push({ name: 'tsize', value: '0' });
  if (options.group?.kind === 'sbroadcast') out.push({ name: 'sbroadcast', value: options.group.mask });
  if (options.group?.kind === 'multicast') out.push({ name: 'multicast', value: '' });
  // This reader unwraps group block numbers past 65,535 (SPEC §11): say so, or the server keeps unicast.
  if (options.group) out.push({ name: 'rollover', value: '0' });
  return out;
}

/** Runs one read to its end; never rejects (socket errors end the transfer with outcome `error`). */
export function tftpRead(options: TftpReadOptions): Promise<TftpReadResult> {
  return new Promise((resolve) => {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const socket: Socket = createSocket({ type: 'udp4', lookup: literalLookup });
    let groupSocket: Socket | undefined;
    const api = options.native === false ? null : nativeReceive();
    let receiver: NativeReceiver | undefined;
    /** What C was last told (`sync`): mode, blocks held, a master's last request, window. */
    let told: number[] = [0, -1, 0, 0, 1];
    /** Where blocks go instead of `onData` (`onSize` gave it): the file's bytes, or a file descriptor. */
    let target: Uint8Array | number | null = null;
    let peerPort: number | null = null;
    let state: ClientReadState | undefined;
    let timer: NodeJS.Timeout | undefined;
    let delivery: TftpReadResult['delivery'] = 'unicast';
    let wireRead = 0;
    let wireWritten = 0;
    let sizeReported = false;
    let finished = false;
    const started = performance.now();

    const onAbort = (): void => step({ type: 'abort', reason: String(options.signal?.reason ?? 'aborted') });

    function step(event: ClientReadEvent): void {
      if (receiver) pull();
      stepMachine(event);
    }

    /** `step` without collecting the native fast path's totals first (the caller just did). */
    function stepMachine(event: ClientReadEvent): void {
      if (!state || finished) return;
      const r = clientReadStep(state, event, performance.now());
      state = r.state;
      if (!sizeReported && state.tsize !== null && !reportSize(state.tsize)) return;
      apply(r.effects);
      if (receiver) tellNative();
    }

    /** `onSize` (and its destination), once; false when the caller refused the size (aborted then). */
    function reportSize(tsize: number): boolean {
      sizeReported = true;
      try {
        const dest = options.onSize?.(tsize);
        if (dest instanceof Uint8Array) {
          if (dest.length >= tsize) target = dest;
        } else if (dest && Number.isInteger(dest.fd) && dest.fd >= 0) {
          target = dest.fd;
        }
        return true;
      } catch (err) {
        fail((err as Error).message);
        return false;
      }
    }

    /**
     * Tells C the machine's view when it changed: fast path for a member with a destination and tsize
     * (mode 1 non-master, 2 master: then also its last request and the window, the machine's ACK rule).
     */
    function tellNative(): void {
      const s = state;
      const g = s?.group;
      const on = !finished && s?.phase === 'group' && !!g && target !== null && s.lastBlock !== null;
      const mode = on ? (g.master ? 2 : 1) : 0;
      const view = on ? [mode, g.count, g.requestedFrom, g.countAtRequest, s.windowsize] : [0, 0, 0, 0, 1];
      if (view.every((v, k) => v === told[k])) return;
      told = view;
      api!.sync(receiver!, mode, view[1]!, view[2]!, view[3]!, view[4]!);
    }

    /**
     * Collects what C's fast path took since the last call (the bits are already set in the machine's
     * bitmap) and accounts it as the machine would have taken those blocks one by one: held, received and
     * bytes, retries reset by a fresh block, and heard when the last one came (a non-master's idle deadline
     * moves with every stream block). Runs before the machine steps on anything.
     */
    function pull(): void {
      const [fresh, freshBytes, heard, wire, agoMs] = api!.take(receiver!);
      wireRead += wire;
      const s = state;
      const g = s?.group;
      if (heard === 0 || !s || !g || s.phase !== 'group' || finished) return;
      const at = performance.now() - agoMs;
      state = {
        ...s,
        received: s.received + fresh,
        bytes: s.bytes + freshBytes,
        retries: fresh > 0 ? 0 : s.retries,
        deadline: g.master ? s.deadline : at + (s.config.groupIdleMs ?? DEFAULT_GROUP_IDLE_MS),
        group: { ...g, count: g.count + fresh, lastHeard: at },
      };
      told[1] = state.group!.count;
    }

    /** A group datagram from the server's transfer port (both paths; the native one pulled already). */
    function groupDatagram(msg: Buffer): void {
      const d = decodeTftp(msg);
      if (d.ok) stepMachine({ type: 'packet', packet: d.value, from: 'group' });
    }

    /**
     * Ends the read as aborted with `reason`, also when the machine ended on the step being applied: the
     * caller refused that step's data (the block completing the file could not be written), so its
     * `done` is never applied and the read did not complete.
     */
    function fail(reason: string): void {
      if (!state || finished) return;
      if (receiver) pull();
      const r = abortClientRead(state, reason);
      state = r.state;
      apply(r.effects);
    }

    function apply(effects: readonly TftpEffect[]): void {
      for (let i = 0; i < effects.length; i++) {
        const e = effects[i]!;
        if (finished) return;
        switch (e.type) {
          case 'send': {
            const datagram = encodeTftp(e.packet);
            wireWritten += datagram.length;
            socket.send(datagram, peerPort ?? options.port, options.server);
            break;
          }
          case 'setTimer':
            arm(e.at);
            break;
          case 'data':
            if (!deliver(e.data, e.offset)) return;
            break;
          case 'joinGroup':
            delivery = e.kind;
            // The rest (ACK 0, which starts the stream when this client is master) waits for the socket.
            joinGroup(e.kind, e.address, e.port, effects.slice(i + 1));
            return;
          case 'done':
            finish({
              outcome: e.outcome,
              bytes: e.bytes,
              blocks: e.blocks,
              tsize: e.tsize ?? null,
              ...(e.error ? { error: e.error } : {}),
            });
            break;
          default:
            break;
        }
      }
    }

    /**
     * Node timers may fire a fraction of a millisecond before `performance.now()` reaches the deadline,
     * and the machine ignores a timer before its deadline (without re-arming): wait out the rest here.
     */
    function arm(at: number): void {
      if (timer) clearTimeout(timer);
      timer = setTimeout(
        () => {
          if (state && performance.now() < state.deadline) arm(state.deadline);
          else step({ type: 'timer' });
        },
        Math.max(0, Math.ceil(at - performance.now())),
      );
    }

    /** Hands data to the caller; false when the caller refused it (the transfer is then aborted). */
    function deliver(data: Uint8Array, offset: number): boolean {
      try {
        if (typeof target === 'number') {
          writeAt(target, data, offset);
        } else if (target) {
          if (offset + data.length > target.length) throw new Error('data beyond the destination');
          target.set(data, offset);
        } else if (data.length > 0) {
          options.onData(data, offset);
        }
        return true;
      } catch (err) {
        fail((err as Error).message);
        return false;
      }
    }

    function finish(r: Pick<TftpReadResult, 'outcome' | 'bytes' | 'blocks' | 'tsize' | 'error'>): void {
      finished = true;
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      const ms = Math.round(performance.now() - started);
      let receive: GroupReceiveStats | undefined;
      if (receiver) {
        wireRead += api!.take(receiver)[3];
        const [fastBlocks, , handed, foreign, wakes, datagrams] = api!.counters(receiver);
        api!.close(receiver);
        receive = { path: 'native', fastBlocks, handed, foreign, wakes, datagrams };
      } else if (groupSocket) {
        receive = { path: 'dgram', fastBlocks: 0, handed: 0, foreign: 0, wakes: 0, datagrams: 0 };
      }
      setTimeout(() => {
        socket.close();
        groupSocket?.close();
        resolve({ ...r, ms, delivery, wireRead, wireWritten, ...(receive ? { receive } : {}) });
      }, CLOSE_DELAY_MS);
    }

    /**
     * Binds the group socket (and joins the multicast group), then applies `after`: the ACK 0 that follows
     * the OACK only leaves once this socket can take the stream, so no block goes past an unbound port.
     */
    function joinGroup(
      kind: 'multicast' | 'sbroadcast',
      address: string | null,
      port: number,
      after: readonly TftpEffect[],
    ): void {
      if (groupSocket || receiver) {
        apply(after);
        return;
      }
      if (api && peerPort !== null && state?.group) {
        joinNative(api, kind, address, port, after);
        return;
      }
      const g = createSocket({
        type: 'udp4',
        reuseAddr: true,
        lookup: literalLookup,
        recvBufferSize: options.groupRecvBufferSize ?? DEFAULT_GROUP_RECV_BUFFER,
      });
      groupSocket = g;
      g.on('error', (err) => fail(`group socket: ${err.message}`));
      g.on('message', (msg, rinfo) => {
        if (rinfo.port !== peerPort || rinfo.address !== options.server) return;
        wireRead += msg.length;
        groupDatagram(msg);
      });
      g.bind(port, () => {
        try {
          if (kind === 'multicast' && address) g.addMembership(address, options.localAddress);
          else g.setBroadcast(true);
        } catch (err) {
          fail(`group join: ${(err as Error).message}`);
          return;
        }
        apply(after);
      });
    }

    /** `joinGroup` through the add-on: C's socket is bound and joined before `after` (ACK 0) goes out. */
    function joinNative(
      addon: TftpReceiveApi,
      kind: 'multicast' | 'sbroadcast',
      address: string | null,
      port: number,
      after: readonly TftpEffect[],
    ): void {
      const s = state!;
      const g = s.group!;
      try {
        receiver = addon.open(
          kind === 'multicast' ? 0 : 1,
          kind === 'multicast' ? address : null,
          port,
          options.localAddress ?? null,
          options.groupRecvBufferSize ?? DEFAULT_GROUP_RECV_BUFFER,
          (packets, errno, source) => {
            if (finished) return;
            pull();
            if (errno !== 0 && source === 1) {
              // Blocks marked held are not in the file: no datagram of this batch (the block completing
              // the file among them) may step the machine first, it would end the read as complete.
              fail(`writing the destination: ${errnoName(errno)}`);
              return;
            }
            if (packets) for (const msg of packets) groupDatagram(msg);
            if (errno !== 0) fail(`group socket: ${errnoName(errno)}`);
            else if (!finished) tellNative();
          },
        );
        addon.configure(
          receiver,
          options.server,
          peerPort!,
          g.sbid ?? 0,
          s.blksize,
          s.lastBlock ?? 0,
          g.have,
          target,
        );
      } catch (err) {
        fail(`group join: ${(err as Error).message}`);
        return;
      }
      tellNative();
      apply(after);
    }

    socket.on('error', (err) => fail(`socket: ${err.message}`));
    socket.on('message', (msg, rinfo) => {
      if (rinfo.address !== options.server) return;
      if (peerPort === null) peerPort = rinfo.port;
      else if (rinfo.port !== peerPort) return;
      wireRead += msg.length;
      const d = decodeTftp(msg);
      step(
        d.ok
          ? { type: 'packet', packet: d.value, from: 'peer' }
          : { type: 'malformed', reason: d.error.message },
      );
    });

    socket.bind(0, () => {
      const r = createClientRead(
        {
          filename: options.filename,
          mode: 'octet',
          options: readOptions(options),
          retry: {
            timeoutMs,
            maxTimeoutMs: timeoutMs * 4,
            maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
          },
          dallyMs: 0,
          groupIdleMs: options.groupIdleMs ?? DEFAULT_GROUP_IDLE_MS,
        },
        performance.now(),
      );
      state = r.state;
      options.signal?.addEventListener('abort', onAbort, { once: true });
      apply(r.effects);
      if (options.signal?.aborted) onAbort();
    });
  });
}
