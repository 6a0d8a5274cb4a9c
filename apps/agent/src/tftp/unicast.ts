import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { getSystemErrorName } from 'node:util';
import { createServerRead, decodeTftp, encodeTftp, serverReadStep } from '@bootpt/protocol/tftp/index';
import type { ServerReadConfig, ServerReadState, TftpEffect } from '@bootpt/protocol/tftp/index';
import { loadTftpNative, NATIVE_END } from '@bootpt/tftp-native';
import type { NativeLoad, NativeTransfer, TftpNativeApi } from '@bootpt/tftp-native';
import { BlockReader } from './block-reader.js';
import { GSO_MAX_BYTES, GSO_MAX_SEGMENTS, gsoSegmentFor, gsoRefusal, setGsoSegment } from './gso.js';
import type { SendTally } from './metrics.js';
import type { FileSnapshot } from '../store/file-snapshot.js';
import { SnapshotChangedError } from '../store/file-snapshot.js';

/**
 * One unicast read transfer: its own socket (a new TID, RFC 1350 §4) bound to the serving address and
 * connected to the client's TID, driven by the protocol's `serverReadStep` machine.
 *
 * The socket is `connect`ed: sending needs no address lookup per datagram, and the kernel delivers only
 * datagrams from the client's TID. A stray datagram from another port therefore never reaches the transfer
 * (the kernel answers it with ICMP port unreachable instead of our ERROR 5); the transfer is undisturbed,
 * which is what RFC 1350 asks.
 *
 * Timer: one `setTimeout` per transfer, re-armed lazily — the machine moves its deadline on every window,
 * and a timer that fires early just re-arms for the remainder, so a fast transfer creates few timers.
 *
 * Native DATA phase (optional, `tftp.nativeFastPath`): with the `@bootpt/tftp-native` add-on loaded, the
 * socket is the add-on's instead of a dgram socket. Option negotiation runs here as usual (every datagram
 * is relayed to `onMessage`); at ACK 0 (or at once without an OACK) the add-on takes over the DATA phase
 * on the libuv loop: lock-step for windowsize 1, windows (RFC 7440, one sendmmsg per window, UDP GSO when
 * a block fits the MTU) otherwise. It hands back anything it does not handle (final ACK,
 * ERROR, malformed or unexpected datagrams, retries exhausted, a failed read) with its counters; the
 * transfer then rebuilds the machine's state and runs the machine on that event, so outcomes, error
 * replies, logs and byte counts are the machine's. Every such event ends the transfer.
 *
 * GSO fallback: the kernel checks a GSO send only when it is made (see `gso.ts`). On the JS path every send
 * made while the segment is set on the socket carries a callback; the first refusal (`gsoRefusal`) turns
 * GSO off for the transfer and each refused datagram (a run: its blocks one by one) is sent again, already
 * counted. The add-on does the same in its windows and reports it with its counters. Either way the
 * transfer calls `onGsoFallback` and logs it once.
 */
export type DataPath = 'native' | 'js';

/** The add-on to use for the DATA phase, per `tftp.nativeFastPath`; throws for `required` without it. */
export function selectNativeFastPath(
  mode: 'auto' | 'off' | 'required',
  loader: () => NativeLoad = loadTftpNative,
): {
  readonly api: TftpNativeApi | undefined;
  readonly path: DataPath;
  readonly reason: string;
} {
  if (mode === 'off') return { api: undefined, path: 'js', reason: 'tftp.nativeFastPath is off' };
  const load = loader();
  if (load.ok) return { api: load.api, path: 'native', reason: 'add-on loaded' };
  if (mode === 'required') throw new Error(`tftp.nativeFastPath is required: ${load.reason}`);
  return { api: undefined, path: 'js', reason: load.reason };
}

export interface UnicastOptions {
  readonly localAddress: string;
  /** Path MTU of the serving interface: decides whether a window may go out as one GSO send. */
  readonly mtu: number;
  readonly client: { readonly address: string; readonly port: number };
  readonly snapshot: FileSnapshot;
  readonly machine: Omit<ServerReadConfig, 'readBlock'>;
  readonly tally: SendTally;
  readonly onDone: (outcome: string, bytes: number, error?: { code: number; message: string }) => void;
  readonly onLog?: (level: 'debug' | 'info' | 'warn', message: string, fields?: object) => void;
  /** The kernel refused UDP GSO on this transfer's route: it went on datagram by datagram (once per transfer). */
  readonly onGsoFallback?: (path: DataPath) => void;
  /** The DATA-phase add-on (windowed transfers too when it has `window`, i.e. a current build). */
  readonly native?: TftpNativeApi;
}

export class UnicastTransfer {
  private socket: Socket | undefined;
  private state: ServerReadState | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private deadline = Infinity;
  private finished = false;
  private readonly reader: BlockReader;
  private readonly config: ServerReadConfig;
  private retransmissionsSeen = 0;
  /** Segment size when UDP GSO is on for this socket, else 0. */
  private gsoSegment = 0;
  /** GSO run being gathered: adjacent DATA datagrams of one batch buffer, sent as one. */
  private gsoRun: Buffer | undefined;
  private runCount = 0;
  /** Wire number of the ACK that completes the window in flight (-1: none expected). */
  private expectAck = -1;
  /** Blocks presentNext..presentLast went out on the ACK fast path; the machine's sends of them are skipped. */
  private presentNext = 1;
  private presentLast = 0;
  /** Native transport (instead of `socket`) and whether its DATA phase is running. */
  private nativeHandle: NativeTransfer | undefined;
  private nativeRunning = false;
  private fillError: unknown;
  /** Which data path serves this transfer. */
  readonly path: DataPath;

  constructor(private readonly options: UnicastOptions) {
    const native = options.native;
    this.path =
      native && (options.machine.windowsize === 1 || typeof native.window === 'function') ? 'native' : 'js';
    this.reader = new BlockReader(
      options.snapshot,
      options.machine.blksize,
      batchBytes(options.machine),
      () => this.socket?.getSendQueueCount() === 0,
    );
    const reader = this.reader;
    this.config = { ...options.machine, readBlock: (n) => reader.block(n) };
  }

  start(): void {
    if (this.path === 'native') {
      this.startNative(this.options.native!);
      return;
    }
    const socket = createSocket({ type: 'udp4' });
    this.socket = socket;
    socket.on('error', (err) => this.fail(`socket error: ${err.message}`));
    socket.on('message', (msg) => this.onMessage(msg));
    socket.bind({ address: this.options.localAddress, port: 0 }, () => {
      socket.connect(this.options.client.port, this.options.client.address, () => {
        if (this.finished) return;
        const { blksize, windowsize } = this.options.machine;
        const segment = gsoSegmentFor(blksize, this.options.mtu);
        if (windowsize > 1 && segment > 0 && setGsoSegment(socket, segment)) {
          this.gsoSegment = segment;
        }
        this.run(() => createServerRead(this.config, performance.now()));
      });
    });
  }

  private startNative(api: TftpNativeApi): void {
    const { localAddress, client } = this.options;
    try {
      [this.nativeHandle] = api.open(
        localAddress,
        client.address,
        client.port,
        (msg) => this.onMessage(msg),
        (reason, errno, packet) => this.onNativeEnd(reason, errno, packet),
      );
    } catch (err) {
      this.finish('error', 0, { code: 0, message: `socket error: ${(err as Error).message}` });
      return;
    }
    if (this.options.machine.oack.length === 0) this.startDataPhase(api, this.nativeHandle);
    else this.run(() => createServerRead(this.config, performance.now()));
  }

  /** Hands the DATA phase to the add-on: DATA 1 (the first window) goes out from there. */
  private startDataPhase(api: TftpNativeApi, handle: NativeTransfer): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    const { blksize, windowsize, retry } = this.options.machine;
    const { snapshot } = this.options;
    // A window spans at most two batches when each holds one (the add-on refuses less).
    const slots = Math.max(windowsize, Math.floor(batchBytes(this.options.machine) / blksize));
    const buffers = [
      Buffer.allocUnsafeSlow(4 + slots * blksize),
      Buffer.allocUnsafeSlow(4 + slots * blksize),
    ];
    const fill = (index: number, position: number, length: number): boolean => {
      try {
        snapshot.readInto([buffers[index]!.subarray(4, 4 + length)], position);
        return true;
      } catch (err) {
        this.fillError = err;
        return false;
      }
    };
    this.nativeRunning = true;
    const [a, b] = buffers as [Buffer, Buffer];
    const { timeoutMs, maxTimeoutMs, maxRetries } = retry;
    let ok: boolean;
    if (windowsize === 1) {
      ok = api.lockstep(handle, blksize, snapshot.size, timeoutMs, maxTimeoutMs, maxRetries, a, b, fill);
    } else {
      const gso = gsoSegmentFor(blksize, this.options.mtu);
      ok = api.window!(
        handle,
        blksize,
        windowsize,
        snapshot.size,
        timeoutMs,
        maxTimeoutMs,
        maxRetries,
        gso,
        a,
        b,
        fill,
      );
    }
    if (!ok) this.onNativeEnd(NATIVE_END.fill, 0, undefined);
  }

  /**
   * The add-on's DATA phase ended: fold its counters into the tally and the machine's state (as if
   * the machine had sent those blocks), then let the machine handle the event that ended it.
   */
  private onNativeEnd(reason: number, errno: number, packet: Buffer | undefined): void {
    if (this.finished) return;
    // A socket error before the DATA phase (the add-on relays datagrams then) ends the transfer too.
    if (this.nativeRunning) this.takeBack();
    if (reason === NATIVE_END.packet && packet) this.onMessage(packet);
    else if (reason === NATIVE_END.timer) {
      const state = this.state!;
      this.run(() => serverReadStep(state, { type: 'timer' }, performance.now()));
    } else if (reason === NATIVE_END.fill) {
      const err = this.fillError;
      this.fail(
        err instanceof SnapshotChangedError
          ? err.message
          : `internal error: ${(err as Error | undefined)?.message}`,
      );
    } else this.fail(`socket error: ${errno ? getSystemErrorName(-errno) : 'unknown'}`);
    // Every event that ends the native phase ends the transfer (the machine has no DATA left to send).
    if (!this.finished) this.fail('internal error: transfer still running after the native phase');
  }

  /** Stops the add-on's DATA phase and rebuilds the machine's state from its counters. */
  private takeBack(): void {
    const api = this.options.native!;
    const handle = this.nativeHandle!;
    this.nativeRunning = false;
    api.stop(handle);
    const [acked, sent, retries, retransmissions, bytes, packets, gsoFallbacks] = api.counters(handle);
    if (gsoFallbacks > 0) this.gsoFellBack('the add-on');
    const tally = this.options.tally;
    tally.bytes += bytes;
    tally.packets += packets;
    tally.retransmissions += retransmissions;
    const last = this.reader.lastBlock;
    const blksize = this.options.machine.blksize;
    this.state = {
      config: this.config,
      phase: 'data',
      acked,
      sent,
      lastBlock: sent >= last ? last : null,
      lastBlockLength: sent >= last ? this.options.snapshot.size - (last - 1) * blksize : 0,
      retries,
      deadline: performance.now(),
      retransmissions: (this.state?.retransmissions ?? 0) + retransmissions,
    };
    this.retransmissionsSeen = this.state.retransmissions;
  }

  /** Administrative stop (shutdown): ERROR 0 to the client, then done. */
  abort(reason: string): void {
    if (this.nativeRunning) this.takeBack();
    if (this.finished || !this.state) {
      if (!this.finished) this.finish('aborted', 0);
      return;
    }
    const state = this.state;
    this.run(() => serverReadStep(state, { type: 'abort', reason }, performance.now()));
  }

  private onMessage(msg: Buffer): void {
    const state = this.state;
    if (!state || this.finished) return;
    if (
      msg.length === 4 &&
      msg[1] === ACK_OPCODE &&
      msg[0] === 0 &&
      ((msg[2]! << 8) | msg[3]!) === this.expectAck
    ) {
      this.expectAck = -1;
      this.sendAhead(state);
    }
    const decoded = decodeTftp(msg);
    const now = performance.now();
    if (!decoded.ok) {
      this.run(() => serverReadStep(state, { type: 'malformed', reason: decoded.error.message }, now));
      return;
    }
    const packet = decoded.value;
    if (this.nativeHandle && state.phase === 'oack' && packet.opcode === 'ACK' && packet.block === 0) {
      this.startDataPhase(this.options.native!, this.nativeHandle);
      return;
    }
    // Sorcerer's Apprentice guard, kept here as well as in the machine: an ACK that confirms nothing new
    // (duplicate or stale) is dropped before it can trigger any sending.
    if (packet.opcode === 'ACK' && state.phase === 'data' && !acksNewBlock(state, packet.block)) return;
    this.run(() => serverReadStep(state, { type: 'packet', packet }, now));
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const state = this.state;
    if (!state || this.finished) return;
    const now = performance.now();
    if (now < this.deadline) {
      this.arm(this.deadline);
      return;
    }
    this.run(() => serverReadStep(state, { type: 'timer' }, now));
  }

  private arm(at: number): void {
    this.deadline = at;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, at - performance.now()));
  }

  private run(step: () => { state: ServerReadState; effects: readonly TftpEffect[] }): void {
    let result;
    try {
      result = step();
    } catch (err) {
      if (err instanceof SnapshotChangedError) this.fail(err.message);
      else this.fail(`internal error: ${(err as Error).message}`);
      return;
    }
    this.state = result.state;
    const retransmissions = result.state.retransmissions;
    if (retransmissions > this.retransmissionsSeen) {
      this.options.tally.retransmissions += retransmissions - this.retransmissionsSeen;
      this.retransmissionsSeen = retransmissions;
    }
    this.apply(result.effects);
    this.readAhead();
  }

  private apply(effects: readonly TftpEffect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'send': {
          const packet = effect.packet;
          if (packet.opcode === 'DATA') {
            // Already sent by the ACK fast path (same block, same octets): skip it once.
            if (this.presentNext <= this.presentLast && packet.block === (this.presentNext & 0xffff)) {
              this.presentNext++;
              break;
            }
            this.presentLast = 0;
            this.queueData(BlockReader.datagram(packet.data));
            break;
          }
          this.flush();
          this.sendDatagram(Buffer.from(encodeTftp(packet)), 1);
          break;
        }
        case 'setTimer':
          this.arm(effect.at);
          break;
        case 'log':
          this.options.onLog?.(effect.level, effect.message, effect.fields);
          break;
        case 'done':
          this.flush();
          this.finish(effect.outcome, effect.bytes, effect.error);
          break;
        default:
          break;
      }
    }
    this.flush();
    this.presentLast = 0;
  }

  /**
   * ACK fast path. The ACK of the newest block sent completes the window; the machine's answer to it is
   * always the next window (or nothing after the last block), so those datagrams — already read, see
   * `readAhead` — go out before the machine runs; `apply` then skips the machine's identical sends. This
   * keeps decoding, the machine step and its effects off the ACK → DATA round trip that bounds lock-step.
   */
  private sendAhead(state: ServerReadState): void {
    const first = state.sent + 1;
    const last = Math.min(state.sent + this.options.machine.windowsize, this.reader.lastBlock);
    for (let n = first; n <= last; n++) this.queueData(BlockReader.datagram(this.reader.block(n)));
    this.flush();
    this.presentNext = first;
    this.presentLast = last;
  }

  /** After a step: read the next window now, while the client works on this one. */
  private readAhead(): void {
    const state = this.state;
    this.expectAck = -1;
    if (!state || this.finished || state.phase !== 'data' || state.sent >= this.reader.lastBlock) return;
    this.reader.prefetch(state.sent + 1, state.sent + this.options.machine.windowsize);
    this.expectAck = state.sent & 0xffff;
  }

  /** Adds a DATA datagram to the run sent as one GSO send (adjacent in one batch buffer), or sends it. */
  private queueData(datagram: Buffer): void {
    if (this.gsoSegment === 0) {
      this.sendDatagram(datagram, 1);
      return;
    }
    const run = this.gsoRun;
    if (
      run &&
      run.length === this.runCount * this.gsoSegment &&
      datagram.buffer === run.buffer &&
      datagram.byteOffset === run.byteOffset + run.length &&
      this.runCount < GSO_MAX_SEGMENTS &&
      run.length + datagram.length <= GSO_MAX_BYTES
    ) {
      this.gsoRun = Buffer.from(run.buffer, run.byteOffset, run.length + datagram.length);
      this.runCount++;
      return;
    }
    this.flush();
    this.gsoRun = datagram;
    this.runCount = 1;
  }

  private flush(): void {
    if (!this.gsoRun) return;
    this.sendDatagram(this.gsoRun, this.runCount);
    this.gsoRun = undefined;
    this.runCount = 0;
  }

  private sendDatagram(datagram: Buffer, packets: number): void {
    this.transmit(datagram, packets);
    const tally = this.options.tally;
    tally.bytes += datagram.length;
    tally.packets += packets;
  }

  private transmit(datagram: Buffer, packets = 1): void {
    // A send that fails is a lost datagram (the timer resends it); a dead socket shows on the next receive.
    if (this.nativeHandle) this.options.native!.send(this.nativeHandle, datagram);
    else if (this.gsoSegment === 0) this.socket!.send(datagram);
    else {
      // The kernel may refuse any send while the GSO segment is set (see `gso.ts`): only then is the result
      // wanted. A run is cut by the segment it was sent with.
      const segment = packets > 1 ? this.gsoSegment : datagram.length;
      this.socket!.send(datagram, (err) => {
        const refusal = err ? gsoRefusal(err) : undefined;
        if (refusal) this.resendWithoutGso(datagram, segment, refusal);
      });
    }
  }

  /**
   * A send refused for GSO: GSO off for the rest of the transfer (first time), then the datagram again, a
   * run as its blocks one by one. The tallies already hold them. The datagram's batch buffer still holds it:
   * a refused send calls back on the next tick, before the reader's next refill, which never takes the
   * buffer the last window went out from (a batch holds several windows, `BlockReader`); a send libuv had to
   * queue keeps its buffer from reuse until it calls back.
   */
  private resendWithoutGso(datagram: Buffer, segment: number, code: string): void {
    const socket = this.socket!;
    if (this.gsoSegment !== 0) {
      this.gsoSegment = 0;
      if (!setGsoSegment(socket, 0)) {
        this.fail('socket error: UDP GSO refused and cannot be turned off');
        return;
      }
      this.gsoFellBack(code);
    }
    try {
      for (let at = 0; at < datagram.length; at += segment) socket.send(datagram.subarray(at, at + segment));
    } catch {
      // Closed meanwhile (the transfer ended): nothing left to deliver.
    }
  }

  /** Counts and logs the fall back from UDP GSO to one datagram per block (at most once per transfer). */
  private gsoFellBack(cause: string): void {
    this.options.onGsoFallback?.(this.path);
    this.options.onLog?.('info', 'tftp: UDP GSO refused by the kernel, sending datagram by datagram', {
      path: this.path,
      cause,
      blksize: this.options.machine.blksize,
    });
  }

  /** Ends the transfer after an error the machine does not know about (socket, file). */
  private fail(message: string): void {
    if (this.finished) return;
    try {
      if (this.socket || this.nativeHandle)
        this.transmit(Buffer.from(encodeTftp({ opcode: 'ERROR', errorCode: 0, errorMessage: message })));
    } catch {
      // The socket may already be unusable; the client times out.
    }
    this.finish('error', 0, { code: 0, message });
  }

  private finish(outcome: string, bytes: number, error?: { code: number; message: string }): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.options.snapshot.release();
    const socket = this.socket;
    // Let queued datagrams (the final ERROR) leave before closing.
    if (socket) setImmediate(() => socket.close());
    const handle = this.nativeHandle;
    if (handle) {
      this.nativeRunning = false;
      this.options.native!.close(handle);
    }
    this.options.onDone(outcome, bytes, error);
  }
}

const ACK_OPCODE = 4;

/** True when the 16-bit ACK number matches a block sent but not yet acknowledged. */
function acksNewBlock(state: ServerReadState, block: number): boolean {
  for (let n = state.sent; n > state.acked; n--) if ((n & 0xffff) === block) return true;
  return false;
}

/** Read a few windows per batch: at least 64 KiB, at most 1 MiB. */
function batchBytes(machine: { blksize: number; windowsize: number }): number {
  return Math.min(1 << 20, Math.max(64 * 1024, machine.blksize * machine.windowsize * 4));
}
