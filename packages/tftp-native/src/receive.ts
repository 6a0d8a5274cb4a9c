/**
 * Types of the client's batched group receive (`src/receive.c`, built into `build/Release/tftp_receive.node`
 * next to the lock-step add-on). The client loads it itself (`nativeReceive` in apps/client/src/tftp-read.ts:
 * beside its entry first, the way it is shipped). See the client README's TFTP section.
 */

/** Opaque receiver handle (an N-API external). */
export interface NativeReceiver {
  readonly __tftpNativeReceiver: never;
}

/** `open`'s kind: 0 multicast (RFC 2090 DATA), 1 sbroadcast (BDATA). */
export type ReceiveKind = 0 | 1;

/**
 * Called once per wake of the socket that has datagrams for the machine (`packets`: the server's datagrams
 * the fast path left to it, in arrival order), or on a failure: `errno` non-zero, of the socket (`source`
 * 0) or of writing into the destination descriptor (`source` 1: that batch's blocks are already marked
 * held, so the read must end). Fast-path blocks alone never call JavaScript: `take` collects them.
 */
export type ReceiveBatch = (packets: Buffer[] | null, errno: number, source: 0 | 1) => void;

export interface TftpReceiveApi {
  /**
   * A UDP socket bound to 0.0.0.0:`port` (SO_REUSEADDR, SO_RCVBUF `recvBufferSize` when > 0), member of
   * `groupAddress` on `localAddress` (multicast) or broadcast-enabled (sbroadcast). Throws when it cannot.
   * Every datagram is dropped (counted as foreign) until `configure`.
   */
  open(
    kind: ReceiveKind,
    groupAddress: string | null,
    port: number,
    localAddress: string | null,
    recvBufferSize: number,
    onBatch: ReceiveBatch,
  ): NativeReceiver;
  /**
   * The stream: datagrams only from `server`:`serverPort`, BDATA only of `sbid`; `lastBlock` 0 = unknown
   * (no fast path). `bitmap` is the machine's bit-per-block array (shared, written here); `dest` the file:
   * a buffer of the whole file, or a file descriptor open for writing, not appending (blocks are written
   * at their offset with pwritev, which Linux appends in append mode instead; the caller keeps it open
   * until the receiver is closed and closes it).
   */
  configure(
    handle: NativeReceiver,
    server: string,
    serverPort: number,
    sbid: number,
    blksize: number,
    lastBlock: number,
    bitmap: Uint8Array,
    dest: Uint8Array | number | null,
  ): void;
  /**
   * The machine's view: `mode` 0 no fast path, 1 non-master member, 2 master (only blocks that would not
   * make it ACK: fewer than half a window new since `countAtRequest`, before the end of the window from
   * `requestedFrom`, not the last block); `count` blocks held.
   */
  sync(
    handle: NativeReceiver,
    mode: 0 | 1 | 2,
    count: number,
    requestedFrom: number,
    countAtRequest: number,
    windowsize: number,
  ): void;
  /**
   * The fast path's totals since the last take, then zeroed: [fresh blocks written (bits set), their
   * octets, stream blocks heard (fresh or already held), octets from the server, ms since the last block
   * was heard (-1 when none)].
   */
  take(handle: NativeReceiver): [number, number, number, number, number];
  /** [fastBlocks, held, handed, foreign, wakes, datagrams]. */
  counters(handle: NativeReceiver): [number, number, number, number, number, number];
  /** No more callbacks; closes the socket (idempotent, also from inside onBatch). */
  close(handle: NativeReceiver): void;
}
