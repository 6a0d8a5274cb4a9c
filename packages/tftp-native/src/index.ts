import { createRequire } from 'node:module';

/**
 * Loader and types of the optional lock-step add-on (`src/lockstep.c`, built into
 * `build/Release/tftp_native.node` by `npm run build -w @bootpt/tftp-native`). See the agent's TFTP README.
 */

/** Opaque transfer handle (an N-API external). */
export interface NativeTransfer {
  readonly __tftpNativeTransfer: never;
}

/** Why the native phase ended (`onEnd`'s first argument). */
export const NATIVE_END = {
  /** A datagram the native loop does not handle (final ACK, ERROR, malformed...): `packet` holds it. */
  packet: 1,
  /** The block in flight timed out once more than `maxRetries` allows. */
  timer: 2,
  /** `fill` returned false. */
  fill: 3,
  /** recv/send failed: `errno` holds the error number. */
  socket: 4,
} as const;

export interface TftpNativeApi {
  /**
   * A UDP socket bound to `localAddress` (port 0) and connected to the client. Until `lockstep`, every
   * datagram goes to `onPacket`. Returns the handle and the local port. Throws when the socket cannot open.
   */
  open(
    localAddress: string,
    clientAddress: string,
    clientPort: number,
    onPacket: (datagram: Buffer) => void,
    onEnd: (reason: number, errno: number, packet: Buffer | undefined) => void,
  ): [NativeTransfer, number];
  /** Sends one datagram now; 0 or the errno. */
  send(handle: NativeTransfer, datagram: Buffer): number;
  /**
   * Starts the lock-step data phase (DATA 1 goes out now). `fill(index, position, length)` loads file
   * octets at offset 4 of buffer `index`. False when the first batch could not be loaded.
   */
  lockstep(
    handle: NativeTransfer,
    blksize: number,
    size: number,
    timeoutMs: number,
    maxTimeoutMs: number,
    maxRetries: number,
    bufferA: Buffer,
    bufferB: Buffer,
    fill: (index: number, position: number, length: number) => boolean,
  ): boolean;
  /**
   * Starts the windowed (RFC 7440) data phase: blocks 1..windowsize go out now, each later window on the
   * ACK that confirms a new block (from the block after it), with one sendmmsg(2). Each buffer must hold at
   * least `windowsize` blocks. `gsoSegment`: blksize + 4 to send runs of blocks as UDP GSO messages (the
   * segment must fit the path MTU), or 0. `fill` and the result as for `lockstep`.
   */
  window?(
    handle: NativeTransfer,
    blksize: number,
    windowsize: number,
    size: number,
    timeoutMs: number,
    maxTimeoutMs: number,
    maxRetries: number,
    gsoSegment: number,
    bufferA: Buffer,
    bufferB: Buffer,
    fill: (index: number, position: number, length: number) => boolean,
  ): boolean;
  /**
   * [acked, sent, retries, retransmissions, bytes, packets, gsoFallbacks] of the data phase (lock-step or
   * windowed). gsoFallbacks: 1 once the kernel refused a GSO message (EIO, EINVAL, EMSGSIZE) and the
   * windows went on datagram by datagram, the refused ones resent (counted once in `packets`); else 0.
   */
  counters(handle: NativeTransfer): [number, number, number, number, number, number, number];
  /** No more callbacks; the socket stays open (for a final ERROR). */
  stop(handle: NativeTransfer): void;
  /** Closes the socket and releases everything (idempotent). */
  close(handle: NativeTransfer): void;
}

export type NativeLoad = { ok: true; api: TftpNativeApi } | { ok: false; reason: string };

let loaded: NativeLoad | undefined;

/** Loads the add-on once; `{ ok: false, reason }` when it is not built or does not load here. */
export function loadTftpNative(): NativeLoad {
  if (loaded) return loaded;
  const path = new URL('../build/Release/tftp_native.node', import.meta.url).pathname;
  try {
    loaded = { ok: true, api: createRequire(import.meta.url)(path) as TftpNativeApi };
  } catch (err) {
    loaded = { ok: false, reason: (err as Error).message.split('\n')[0]! };
  }
  return loaded;
}

export * from './receive.js';
export * from './datagram.js';
