import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { decodeTftp, encodeTftp, negotiateOptions, netasciiEncode } from '@bootpt/protocol/tftp/index';
import type { RetryPolicy, TftpRequestPacket, TftpServerPolicy } from '@bootpt/protocol/tftp/index';
import { BOOT_FILE_NAME, type FileSource } from '../content/file-source.js';
import type { Service } from '../lib/service.js';
import { literalLookup } from '../lib/udp.js';
import { FdSnapshot, MemorySnapshot } from '../store/file-snapshot.js';
import type { FileSnapshot } from '../store/file-snapshot.js';
import type { TftpConfig } from './config.js';
import { GroupSession } from './group-session.js';
import { TftpJail } from './jail.js';
import { TftpMetrics } from './metrics.js';
import type { TftpMode } from './metrics.js';
import { AddressPool, quirkFor, subnetBroadcast } from './net.js';
import { selectNativeFastPath, UnicastTransfer } from './unicast.js';
import type { TftpNativeApi } from '@bootpt/tftp-native';

/**
 * The agent's TFTP service (read-only). One listening socket per serving address (each named interface's
 * IPv4 address, or 127.0.0.1 in loopback mode) on `port`; each RRQ is checked (mode, capacity, jail), its
 * options negotiated (`negotiateOptions`), then either served unicast from a socket of its own
 * (`UnicastTransfer`) or added to the group transfer of the same file version (`GroupSession`).
 *
 * Refusals: WRQ → ERROR 2 (read-only); `mail` or an unknown mode → ERROR 4; netascii when disabled →
 * ERROR 4; too many transfers → ERROR 0 "server busy"; jail refusals → ERROR 1 or 2 (`jail.ts`); options
 * that cannot be negotiated → ERROR 8. Errors to requests are sent from the listening socket.
 *
 * Close order: stop accepting (listening sockets closed) → abort transfers and groups (ERROR 0 to each
 * client) → their sockets close on the next tick.
 */
export interface TftpServiceOptions {
  readonly config: TftpConfig;
  readonly registry: Registry;
  readonly log: Logger;
  /**
   * The content store's assembled boot files: `<manifest digest>/kernel|initramfs|layer-<n>` are served
   * from here (assembled from verified layers on first use), every other name from the jail.
   */
  readonly files?: FileSource;
}

/** Netascii is converted in memory; larger files are refused in that mode. */
const MAX_NETASCII_FILE = 16 * 1024 * 1024;
/** Path-MTU clamp when the interface MTU cannot be read: Ethernet. */
const DEFAULT_MTU = 1500;
const IPV4_UDP_TFTP_HEADERS = 32;

interface Listener {
  readonly address: string;
  readonly socket: Socket;
  readonly maxBlksize: number;
  readonly mtu: number;
}

export class TftpService implements Service {
  readonly name = 'tftp';
  readonly metrics: TftpMetrics;
  private readonly listeners: Listener[] = [];
  private readonly transfers = new Map<string, UnicastTransfer>();
  private readonly groups = new Map<string, GroupSession>();
  private readonly groupMembers = new Set<string>();
  /** Clients whose RRQ for a content-store file is being resolved (repeats of it are ignored). */
  private readonly resolving = new Set<string>();
  private readonly multicastPool: AddressPool;
  private jail: TftpJail | undefined;
  private nextSbid = 1;
  /** The lock-step add-on, when `tftp.nativeFastPath` selected it at start. */
  private native: TftpNativeApi | undefined;
  private accepting = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: TftpServiceOptions) {
    this.metrics = new TftpMetrics(options.registry);
    this.multicastPool = new AddressPool(options.config.multicast.first, options.config.multicast.last);
  }

  /** Ports actually bound (useful with `port: 0` in tests), one per listener. */
  get ports(): number[] {
    return this.listeners.map((l) => l.socket.address().port);
  }

  get activeTransfers(): number {
    return this.transfers.size + this.groupMembers.size;
  }

  async start(): Promise<void> {
    const { config } = this.options;
    this.jail = new TftpJail(config.root, config.paths);
    const fastPath = selectNativeFastPath(config.nativeFastPath);
    this.native = fastPath.api;
    const targets = config.loopback
      ? [{ address: '127.0.0.1', mtu: DEFAULT_MTU }]
      : config.interfaces.flatMap((name) => interfaceAddresses(name));
    if (targets.length === 0) throw new Error(`tftp: no IPv4 address on ${config.interfaces.join(', ')}`);
    for (const target of targets) {
      const socket = createSocket({ type: 'udp4', lookup: literalLookup });
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ address: target.address, port: config.port, exclusive: true }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      const maxBlksize = config.maxBlksize ?? target.mtu - IPV4_UDP_TFTP_HEADERS;
      const listener: Listener = { address: target.address, socket, maxBlksize, mtu: target.mtu };
      socket.on('message', (msg, rinfo) => this.onRequest(listener, msg, rinfo));
      socket.on('error', (err) => this.options.log.warn({ err }, 'tftp listening socket error'));
      this.listeners.push(listener);
    }
    this.accepting = true;
    this.options.log.info(
      {
        addresses: this.listeners.map((l) => l.address),
        port: this.ports[0],
        root: this.jail.root,
        nativePath: fastPath.path,
        nativePathReason: fastPath.reason,
      },
      'tftp service started',
    );
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.accepting = false;
    await Promise.all(
      this.listeners.splice(0).map((l) => new Promise<void>((resolve) => l.socket.close(() => resolve()))),
    );
    for (const t of [...this.transfers.values()]) t.abort('server shutting down');
    for (const g of [...this.groups.values()]) g.abort('server shutting down');
    // Sockets close on the next tick, after their final ERROR left.
    await new Promise((resolve) => setImmediate(resolve));
  }

  private reply(listener: Listener, rinfo: RemoteInfo, code: number, message: string, result: string): void {
    this.metrics.requests.inc({ result });
    const datagram = Buffer.from(encodeTftp({ opcode: 'ERROR', errorCode: code, errorMessage: message }));
    listener.socket.send(datagram, rinfo.port, rinfo.address);
    this.metrics.tally.unicast.bytes += datagram.length;
    this.metrics.tally.unicast.packets++;
  }

  private onRequest(listener: Listener, msg: Buffer, rinfo: RemoteInfo): void {
    if (!this.accepting || !this.jail) return;
    const decoded = decodeTftp(msg);
    if (!decoded.ok) {
      this.metrics.requests.inc({ result: 'malformed' });
      return;
    }
    const request = decoded.value;
    if (request.opcode === 'WRQ') {
      this.reply(listener, rinfo, 2, 'read-only server', 'write_refused');
      return;
    }
    if (request.opcode !== 'RRQ') {
      // Stray DATA/ACK to port 69: not a request; answering could reflect traffic.
      this.metrics.requests.inc({ result: 'malformed' });
      return;
    }
    const client = `${rinfo.address}:${rinfo.port}`;
    if (this.transfers.has(client)) return; // Repeated RRQ: the running transfer retransmits on its own.
    const mode = request.mode.toLowerCase();
    if (mode !== 'octet' && mode !== 'netascii') {
      this.reply(listener, rinfo, 4, `unsupported mode ${mode}`, 'bad_mode');
      return;
    }
    if (mode === 'netascii' && !this.options.config.netascii) {
      this.reply(listener, rinfo, 4, 'netascii disabled', 'bad_mode');
      return;
    }
    const existingGroup = this.findMemberGroup(client);
    if (existingGroup) {
      existingGroup.session.join(client, existingGroup.oack);
      return;
    }
    if (this.activeTransfers >= this.options.config.maxTransfers) {
      this.reply(listener, rinfo, 0, 'server busy: too many transfers, retry later', 'busy');
      return;
    }
    if (this.options.files && BOOT_FILE_NAME.test(request.filename)) {
      this.serveBootFile(listener, rinfo, client, request, mode, this.options.files);
      return;
    }
    this.serveFromJail(listener, rinfo, client, request, mode);
  }

  /** A manifest's boot file from the content store (async: it may be assembled first); else the jail. */
  private serveBootFile(
    listener: Listener,
    rinfo: RemoteInfo,
    client: string,
    request: TftpRequestPacket,
    mode: string,
    files: FileSource,
  ): void {
    if (this.resolving.has(client)) return;
    this.resolving.add(client);
    files
      .resolve(request.filename)
      .then((found) => {
        this.resolving.delete(client);
        if (!this.accepting || this.transfers.has(client) || this.groupMembers.has(client)) return;
        if (this.activeTransfers >= this.options.config.maxTransfers) {
          this.reply(listener, rinfo, 0, 'server busy: too many transfers, retry later', 'busy');
          return;
        }
        if (!found) {
          this.serveFromJail(listener, rinfo, client, request, mode);
          return;
        }
        let snapshot: FileSnapshot;
        try {
          snapshot = FdSnapshot.open(found.path);
        } catch (err) {
          this.options.log.warn({ err, file: request.filename }, 'assembled boot file unreadable');
          this.reply(listener, rinfo, 2, 'access denied', 'permission');
          return;
        }
        this.prepare(listener, rinfo, client, request, snapshot, request.filename, mode);
      })
      .catch((err: unknown) => {
        this.resolving.delete(client);
        this.options.log.warn({ err, file: request.filename }, 'boot file could not be assembled');
        if (this.accepting) this.reply(listener, rinfo, 0, 'boot file unavailable', 'unavailable');
      });
  }

  private serveFromJail(
    listener: Listener,
    rinfo: RemoteInfo,
    client: string,
    request: TftpRequestPacket,
    mode: string,
  ): void {
    const opened = this.jail!.open(request.filename);
    if (!opened.ok) {
      this.reply(listener, rinfo, opened.code, opened.message, opened.reason);
      return;
    }
    this.prepare(listener, rinfo, client, request, opened.snapshot, opened.relative, mode);
  }

  /** Netascii conversion (in memory, size-capped), then `serve`. */
  private prepare(
    listener: Listener,
    rinfo: RemoteInfo,
    client: string,
    request: TftpRequestPacket,
    opened: FileSnapshot,
    relative: string,
    mode: string,
  ): void {
    let snapshot = opened;
    if (mode === 'netascii') {
      if (snapshot.size > MAX_NETASCII_FILE) {
        snapshot.release();
        this.reply(listener, rinfo, 3, 'file too large for netascii', 'too_large');
        return;
      }
      const raw = new Uint8Array(snapshot.size);
      snapshot.readInto([raw], 0);
      snapshot.release();
      snapshot = new MemorySnapshot(relative, netasciiEncode(raw));
    }
    this.serve(listener, rinfo, client, request, snapshot, mode === 'octet');
  }

  private serve(
    listener: Listener,
    rinfo: RemoteInfo,
    client: string,
    request: TftpRequestPacket,
    snapshot: FileSnapshot,
    octet: boolean,
  ): void {
    const { config } = this.options;
    const quirk = quirkFor(config.quirks, rinfo.address);
    const quirkMax = quirk?.maxBlksize ?? Infinity;
    const policy: TftpServerPolicy = {
      enabled: config.options,
      refuse: [...(quirk?.refuse ?? []), ...(config.omitZeroTsize && snapshot.size === 0 ? ['tsize'] : [])],
      maxBlksize: Math.min(listener.maxBlksize, quirkMax),
      groupMaxBlksize: Math.min(config.groupMaxBlksize, quirkMax),
      maxWindowBytes: config.maxWindowBytes,
      maxWindowsize: config.maxWindowsize,
      fileSize: octet ? snapshot.size : null,
    };
    let negotiated = negotiateOptions(request, policy);
    if (negotiated.ok && negotiated.params.group !== null) {
      const key = this.groupKey(
        negotiated.params.group,
        snapshot,
        rinfo.address,
        negotiated.params.subnetMask,
      );
      const running = this.groups.get(key);
      if (running) negotiated = negotiateOptions(request, { ...policy, groupBlksize: running.blksize });
    }
    if (!negotiated.ok) {
      snapshot.release();
      this.reply(listener, rinfo, negotiated.errorCode, negotiated.errorMessage, 'bad_option');
      return;
    }
    const { params, oack } = negotiated;
    const retry = this.retryFor(params.timeoutSeconds);
    if (params.group !== null) {
      this.joinGroup(
        listener,
        client,
        rinfo,
        params.group,
        params.subnetMask,
        params.blksize,
        oack,
        snapshot,
        retry,
      );
      return;
    }
    this.metrics.requests.inc({ result: 'accepted' });
    const startedAt = performance.now();
    this.metrics.activeTransfers.inc({ mode: 'unicast' });
    const transfer = new UnicastTransfer({
      localAddress: listener.address,
      mtu: listener.mtu,
      client: { address: rinfo.address, port: rinfo.port },
      snapshot,
      machine: {
        blksize: params.blksize,
        windowsize: params.windowsize,
        retry,
        oack,
        tsizeRequested: params.tsizeRequested,
      },
      tally: this.metrics.tally.unicast,
      onDone: (outcome, bytes, error) => {
        this.transfers.delete(client);
        this.metrics.activeTransfers.dec({ mode: 'unicast' });
        this.metrics.duration.observe({ mode: 'unicast', outcome }, (performance.now() - startedAt) / 1000);
        const level = outcome === 'complete' || outcome === 'probe' ? 'debug' : 'info';
        this.options.log[level](
          { client, file: snapshot.path, outcome, bytes, error },
          'tftp transfer finished',
        );
      },
      onLog: (level, message, fields) => this.options.log[level]({ client, ...fields }, message),
      onGsoFallback: (path) => this.metrics.gsoFallbacks.inc({ path }),
      native: this.native,
    });
    this.metrics.unicastTransfers.inc({ path: transfer.path });
    this.transfers.set(client, transfer);
    transfer.start();
  }

  private retryFor(timeoutSeconds: number | null): RetryPolicy {
    const { retry } = this.options.config;
    if (timeoutSeconds === null) return retry;
    // RFC 2349: the client asked for this retransmission interval; keep it (no backoff beyond it).
    return {
      timeoutMs: timeoutSeconds * 1000,
      maxTimeoutMs: timeoutSeconds * 1000,
      maxRetries: retry.maxRetries,
    };
  }

  private groupKey(kind: string, snapshot: FileSnapshot, address: string, mask: string | null): string {
    const scope = kind === 'sbroadcast' ? subnetBroadcast(address, mask ?? '255.255.255.255') : '';
    return `${kind}|${scope}|${snapshot.identity}`;
  }

  private findMemberGroup(client: string): { session: GroupSession; oack: [] } | undefined {
    if (!this.groupMembers.has(client)) return undefined;
    for (const session of this.groups.values()) {
      if (session.hasMember(client)) return { session, oack: [] };
    }
    return undefined;
  }

  private joinGroup(
    listener: Listener,
    client: string,
    rinfo: RemoteInfo,
    kind: 'multicast' | 'sbroadcast',
    mask: string | null,
    blksize: number,
    oack: Parameters<GroupSession['join']>[1],
    snapshot: FileSnapshot,
    retry: RetryPolicy,
  ): void {
    const { config } = this.options;
    const key = this.groupKey(kind, snapshot, rinfo.address, mask);
    let session = this.groups.get(key);
    if (session) {
      snapshot.release();
    } else {
      if (this.groups.size >= config.maxGroups) {
        snapshot.release();
        this.reply(listener, rinfo, 0, 'server busy: too many group transfers', 'busy');
        return;
      }
      const address = kind === 'multicast' ? this.multicastPool.take() : null;
      if (kind === 'multicast' && address === null) {
        snapshot.release();
        this.reply(listener, rinfo, 0, 'server busy: no free multicast address', 'busy');
        return;
      }
      const mode: TftpMode = kind;
      const created: GroupSession = new GroupSession({
        key,
        localAddress: listener.address,
        delivery:
          kind === 'multicast'
            ? { kind, address: address!, port: config.multicast.port }
            : { kind, port: config.sbroadcast.port, sbid: this.takeSbid() },
        destination: kind === 'multicast' ? address! : subnetBroadcast(rinfo.address, mask!),
        multicastTtl: config.multicast.ttl,
        multicastLoopback: config.loopback,
        snapshot,
        blksize,
        retry,
        pipelineWindow: config.groupPipelineWindow,
        tally: this.metrics.tally[mode],
        onMemberLeft: (member, reason, startedAt) => {
          if (!this.groupMembers.delete(member)) return;
          this.options.log.debug({ group: key, client: member, reason }, 'tftp group member left');
          this.metrics.activeTransfers.dec({ mode });
          this.metrics.duration.observe({ mode, outcome: reason }, (performance.now() - startedAt) / 1000);
        },
        onDone: () => {
          this.groups.delete(key);
          if (address) this.multicastPool.give(address);
          this.metrics.activeGroups.dec({ mode });
          this.options.log.debug({ group: key }, 'tftp group finished');
        },
        onLog: (level, message, fields) => this.options.log[level]({ group: key, ...fields }, message),
      });
      session = created;
      this.groups.set(key, session);
      this.metrics.activeGroups.inc({ mode });
      session.start((err) => {
        if (err) {
          this.options.log.warn({ err, group: key }, 'tftp group could not start');
          created.abort('group setup failed');
        }
      });
    }
    this.metrics.requests.inc({ result: 'accepted' });
    this.groupMembers.add(client);
    this.metrics.activeTransfers.inc({ mode: kind });
    session.join(client, oack);
  }

  private takeSbid(): number {
    const sbid = this.nextSbid;
    this.nextSbid = (this.nextSbid % 0xffffffff) + 1;
    return sbid;
  }
}

/** IPv4 addresses of an interface, with its MTU (path-MTU clamp for blksize). */
function interfaceAddresses(name: string): { address: string; mtu: number }[] {
  const entries = networkInterfaces()[name] ?? [];
  let mtu = DEFAULT_MTU;
  try {
    mtu = Number(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8').trim()) || DEFAULT_MTU;
  } catch {
    // Not Linux, or no sysfs: assume Ethernet.
  }
  return entries.filter((e) => e.family === 'IPv4').map((e) => ({ address: e.address, mtu }));
}
