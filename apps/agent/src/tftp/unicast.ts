import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { createServerRead, decodeTftp, encodeTftp, serverReadStep } from '@bootpt/protocol/tftp/index';
import type { ServerReadConfig, ServerReadState, TftpEffect } from '@bootpt/protocol/tftp/index';
import { BlockReader } from './block-reader.js';
import { enableGso, GSO_MAX_BYTES, GSO_MAX_SEGMENTS } from './gso.js';
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
 */
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
}

export class UnicastTransfer {
  private socket: Socket | undefined;
  private state: ServerReadState | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private deadline = Infinity;
  private finished = false;
  private readonly reader: BlockReader;
  private retransmissionsSeen = 0;
  /** Segment size when UDP GSO is on for this socket, else 0. */
  private gsoSegment = 0;

  constructor(private readonly options: UnicastOptions) {
    this.reader = new BlockReader(options.snapshot, options.machine.blksize, batchBytes(options.machine));
  }

  start(): void {
    const socket = createSocket({ type: 'udp4' });
    this.socket = socket;
    socket.on('error', (err) => this.fail(`socket error: ${err.message}`));
    socket.on('message', (msg) => this.onMessage(msg));
    socket.bind({ address: this.options.localAddress, port: 0 }, () => {
      socket.connect(this.options.client.port, this.options.client.address, () => {
        if (this.finished) return;
        const { blksize, windowsize } = this.options.machine;
        const segment = blksize + 4;
        // IPv4 (20) + UDP (8) headers: a segment must not need IP fragmentation.
        if (windowsize > 1 && segment + 28 <= this.options.mtu && enableGso(socket, segment)) {
          this.gsoSegment = segment;
        }
        const reader = this.reader;
        this.run(() =>
          createServerRead({ ...this.options.machine, readBlock: (n) => reader.block(n) }, performance.now()),
        );
      });
    });
  }

  /** Administrative stop (shutdown): ERROR 0 to the client, then done. */
  abort(reason: string): void {
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
    const decoded = decodeTftp(msg);
    const now = performance.now();
    if (!decoded.ok) {
      this.run(() => serverReadStep(state, { type: 'malformed', reason: decoded.error.message }, now));
      return;
    }
    const packet = decoded.value;
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
  }

  private apply(effects: readonly TftpEffect[]): void {
    const socket = this.socket!;
    const tally = this.options.tally;
    // A run of DATA datagrams adjacent in one batch buffer, sent as one GSO send when possible.
    let run: Buffer | undefined;
    let runCount = 0;
    const flush = (): void => {
      if (!run) return;
      socket.send(run);
      tally.bytes += run.length;
      tally.packets += runCount;
      run = undefined;
      runCount = 0;
    };
    for (const effect of effects) {
      switch (effect.type) {
        case 'send': {
          const packet = effect.packet;
          if (packet.opcode === 'DATA') {
            const datagram = BlockReader.datagram(packet.data);
            if (this.gsoSegment === 0) {
              socket.send(datagram);
              tally.bytes += datagram.length;
              tally.packets++;
              break;
            }
            if (
              run &&
              run.length === runCount * this.gsoSegment &&
              datagram.buffer === run.buffer &&
              datagram.byteOffset === run.byteOffset + run.length &&
              runCount < GSO_MAX_SEGMENTS &&
              run.length + datagram.length <= GSO_MAX_BYTES
            ) {
              run = Buffer.from(run.buffer, run.byteOffset, run.length + datagram.length);
              runCount++;
            } else {
              flush();
              run = datagram;
              runCount = 1;
            }
            break;
          }
          flush();
          const datagram = Buffer.from(encodeTftp(packet));
          socket.send(datagram);
          tally.bytes += datagram.length;
          tally.packets++;
          break;
        }
        case 'setTimer':
          this.arm(effect.at);
          break;
        case 'log':
          this.options.onLog?.(effect.level, effect.message, effect.fields);
          break;
        case 'done':
          flush();
          this.finish(effect.outcome, effect.bytes, effect.error);
          break;
        default:
          break;
      }
    }
    flush();
  }

  /** Ends the transfer after an error the machine does not know about (socket, file). */
  private fail(message: string): void {
    if (this.finished) return;
    try {
      this.socket?.send(Buffer.from(encodeTftp({ opcode: 'ERROR', errorCode: 0, errorMessage: message })));
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
    this.options.onDone(outcome, bytes, error);
  }
}

/** True when the 16-bit ACK number matches a block sent but not yet acknowledged. */
function acksNewBlock(state: ServerReadState, block: number): boolean {
  for (let n = state.sent; n > state.acked; n--) if ((n & 0xffff) === block) return true;
  return false;
}

/** Read a few windows per batch: at least 64 KiB, at most 1 MiB. */
function batchBytes(machine: { blksize: number; windowsize: number }): number {
  return Math.min(1 << 20, Math.max(64 * 1024, machine.blksize * machine.windowsize * 4));
}
