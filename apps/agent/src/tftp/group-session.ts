import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { createGroup, decodeTftp, encodeTftp, groupStep } from '@bootpt/protocol/tftp/index';
import type {
  GroupDelivery,
  GroupState,
  RetryPolicy,
  TftpEffect,
  TftpOption,
} from '@bootpt/protocol/tftp/index';
import { literalLookup } from '../lib/udp.js';
import { BlockReader } from './block-reader.js';
import type { SendTally } from './metrics.js';
import type { FileSnapshot } from '../store/file-snapshot.js';
import { SnapshotChangedError } from '../store/file-snapshot.js';

/**
 * One group transfer (RFC 2090 multicast or IBM subnet broadcast), driven by the protocol's group machine.
 *
 * The group has one socket — its TID — bound to the serving address: every member's OACK comes from it
 * and every member ACKs to it; the stream (DATA to the multicast group, or BDATA to the subnet-directed
 * broadcast address) leaves from it too, so clients can check the source. Members are identified by
 * `address:port` of their own TID. The session ends (and frees its multicast address) when the machine
 * says the last member left.
 */
export interface GroupSessionOptions {
  readonly key: string;
  readonly localAddress: string;
  readonly delivery: GroupDelivery;
  /** Multicast: destination address; sbroadcast: the subnet-directed broadcast address. */
  readonly destination: string;
  readonly multicastTtl: number;
  readonly multicastLoopback: boolean;
  readonly snapshot: FileSnapshot;
  readonly blksize: number;
  readonly retry: RetryPolicy;
  /**
   * Blocks sent per master request when the master did not negotiate `windowsize` (RFC 2090 clients such
   * as atftp never do, and ACK every block): the group machine's sliding window then keeps this many blocks
   * in flight instead of one. The option is only given to the group machine, never put in the client's OACK
   * (RFC 2347: no unrequested options). 1 = plain RFC 2090 lock-step.
   */
  readonly pipelineWindow: number;
  readonly tally: SendTally;
  readonly onMemberLeft: (client: string, reason: string, startedAt: number) => void;
  readonly onDone: () => void;
  readonly onLog?: (level: 'debug' | 'info' | 'warn', message: string, fields?: object) => void;
}

export class GroupSession {
  private socket: Socket | undefined;
  private state: GroupState;
  private readonly reader: BlockReader;
  private readonly members = new Map<
    string,
    { address: string; port: number; startedAt: number; hideWindowsize: boolean }
  >();
  private readonly queued: { client: string; oack: readonly TftpOption[] }[] = [];
  private ready = false;
  private finished = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private deadline = Infinity;

  constructor(private readonly options: GroupSessionOptions) {
    this.reader = new BlockReader(options.snapshot, options.blksize, 1 << 20);
    const reader = this.reader;
    this.state = createGroup({
      delivery: options.delivery,
      blksize: options.blksize,
      fileSize: options.snapshot.size,
      retry: options.retry,
      readBlock: (n) => reader.block(n),
    });
  }

  get blksize(): number {
    return this.options.blksize;
  }

  hasMember(client: string): boolean {
    return this.members.has(client);
  }

  get memberCount(): number {
    return this.members.size;
  }

  start(onReady: (err?: Error) => void): void {
    // Blocks go to the group address (a literal) from inside the ACK's callback, not a tick later.
    const socket = createSocket({ type: 'udp4', lookup: literalLookup });
    this.socket = socket;
    socket.on('error', (err) =>
      this.options.onLog?.('warn', 'tftp group socket error', { err: err.message }),
    );
    socket.on('message', (msg, rinfo) => this.onMessage(msg, `${rinfo.address}:${rinfo.port}`));
    socket.bind({ address: this.options.localAddress, port: 0 }, () => {
      try {
        if (this.options.delivery.kind === 'multicast') {
          socket.setMulticastInterface(this.options.localAddress);
          socket.setMulticastTTL(this.options.multicastTtl);
          socket.setMulticastLoopback(this.options.multicastLoopback);
        } else {
          socket.setBroadcast(true);
        }
      } catch (err) {
        onReady(err as Error);
        return;
      }
      this.ready = true;
      for (const { client, oack } of this.queued.splice(0)) this.join(client, oack);
      onReady();
    });
  }

  /** A client's RRQ (new, or repeated because its OACK was lost). */
  join(client: string, requested: readonly TftpOption[]): void {
    if (this.finished) return;
    let oack = requested;
    if (!this.members.has(client)) {
      const [address, port] = splitClient(client);
      const hideWindowsize =
        this.options.pipelineWindow > 1 && !requested.some((o) => o.name.toLowerCase() === 'windowsize');
      if (hideWindowsize)
        oack = [...requested, { name: 'windowsize', value: String(this.options.pipelineWindow) }];
      this.members.set(client, { address, port, startedAt: performance.now(), hideWindowsize });
    }
    if (!this.ready) {
      this.queued.push({ client, oack });
      return;
    }
    this.step({ type: 'join', client, oack });
  }

  abort(reason: string): void {
    if (this.finished) return;
    if (!this.ready) {
      this.end();
      return;
    }
    this.step({ type: 'abort', reason });
    if (!this.finished) this.end();
  }

  private onMessage(msg: Buffer, client: string): void {
    if (this.finished) return;
    const decoded = decodeTftp(msg);
    if (!decoded.ok) return;
    this.step({ type: 'packet', client, packet: decoded.value });
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.finished) return;
    if (performance.now() < this.deadline) {
      this.arm(this.deadline);
      return;
    }
    this.step({ type: 'timer' });
  }

  private arm(at: number): void {
    this.deadline = at;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, at - performance.now()));
  }

  private step(event: Parameters<typeof groupStep>[1]): void {
    const now = performance.now();
    const masterBefore = this.state.master;
    let result;
    try {
      result = groupStep(this.state, event, now);
    } catch (err) {
      const message = err instanceof SnapshotChangedError ? err.message : `internal error: ${String(err)}`;
      this.options.onLog?.('warn', 'tftp group failed', { err: message });
      result = groupStep(this.state, { type: 'abort', reason: message }, performance.now());
    }
    this.state = result.state;
    if (result.effects.length > 0 && event.type === 'timer' && masterBefore !== null) {
      this.options.tally.retransmissions++;
    }
    this.apply(result.effects);
  }

  private apply(effects: readonly TftpEffect[]): void {
    const socket = this.socket!;
    const tally = this.options.tally;
    for (const effect of effects) {
      switch (effect.type) {
        case 'send': {
          const member = effect.to === undefined ? undefined : this.members.get(effect.to);
          const target = member ?? (effect.to ? splitTarget(effect.to) : undefined);
          if (!target) break;
          let packet = effect.packet;
          if (packet.opcode === 'OACK' && member?.hideWindowsize) {
            packet = { opcode: 'OACK', options: packet.options.filter((o) => o.name !== 'windowsize') };
          }
          const datagram = Buffer.from(encodeTftp(packet));
          socket.send(datagram, target.port, target.address);
          tally.bytes += datagram.length;
          tally.packets++;
          break;
        }
        case 'sendGroup': {
          const packet = effect.packet;
          if (packet.opcode !== 'DATA' && packet.opcode !== 'BDATA') break;
          const datagram =
            packet.opcode === 'DATA' ? BlockReader.datagram(packet.data) : Buffer.from(encodeTftp(packet));
          socket.send(datagram, this.options.delivery.port, this.options.destination);
          tally.bytes += datagram.length;
          tally.packets++;
          break;
        }
        case 'setTimer':
          this.arm(effect.at);
          break;
        case 'left': {
          const member = this.members.get(effect.client);
          this.members.delete(effect.client);
          this.options.onMemberLeft(effect.client, effect.reason, member?.startedAt ?? performance.now());
          break;
        }
        case 'log':
          this.options.onLog?.(effect.level, effect.message, effect.fields);
          break;
        case 'done':
          this.end();
          break;
        default:
          break;
      }
    }
  }

  private end(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    for (const [client, m] of this.members) this.options.onMemberLeft(client, 'aborted', m.startedAt);
    this.members.clear();
    this.options.snapshot.release();
    const socket = this.socket;
    if (socket) setImmediate(() => socket.close());
    this.options.onDone();
  }
}

function splitClient(client: string): [string, number] {
  const at = client.lastIndexOf(':');
  return [client.slice(0, at), Number(client.slice(at + 1))];
}

function splitTarget(client: string): { address: string; port: number } {
  const [address, port] = splitClient(client);
  return { address, port };
}
