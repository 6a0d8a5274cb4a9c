import { createRequire } from 'node:module';

/**
 * Types and loader of the responder's datagram add-on (`src/datagram.c`, built into
 * `build/Release/bootpt_datagram.node` beside the TFTP ones): UDP sockets read with recvmmsg(2) into a
 * buffer shared with JavaScript and written with one sendto(2) per reply, without node:dgram. The agent's
 * responder uses it when `responder.nativeSockets` allows (apps/agent/src/responder/listener.ts).
 */

/** Opaque socket handle (an N-API external). */
export interface NativeDatagramSocket {
  readonly __bootptDatagram: never;
}

/**
 * Called once per batch read from the socket: `count` datagrams, the i-th in `data` at i × SLOT, its
 * length, source address (IPv4, host order, as a signed int32) and port at `meta[i * 3 + 0..2]`. The slots
 * are reused by the next batch: copy what outlives the call. `errno` non-zero (count 0): the read failed.
 */
export type DatagramBatch = (count: number, errno: number) => void;

export interface DatagramApi {
  /** Datagrams per batch. */
  readonly BATCH: number;
  /** Octets per slot; a longer datagram arrives cut to this length. */
  readonly SLOT: number;
  /**
   * A UDP socket (SO_REUSEADDR, SO_BROADCAST; SO_RCVBUF when `recvBufferSize` > 0; tied to `ifindex` with
   * SO_BINDTOIFINDEX before bind when > 0) bound to `address` (null: 0.0.0.0) and `port` (0: any). `data`
   * holds BATCH × SLOT octets, `meta` BATCH × 3 int32. Returns the handle and the bound port; throws with
   * the failing step ("bind: Address already in use") when it cannot.
   */
  open(
    address: string | null,
    port: number,
    ifindex: number,
    recvBufferSize: number,
    data: Uint8Array,
    meta: Int32Array,
    onBatch: DatagramBatch,
  ): [NativeDatagramSocket, number];
  /** One sendto(2) now (MSG_DONTWAIT): 0, or the errno (EAGAIN when the send buffer is full). */
  send(handle: NativeDatagramSocket, datagram: Uint8Array, address: string, port: number): number;
  /** [wakes, datagrams, truncated, sendErrors] */
  counters(handle: NativeDatagramSocket): [number, number, number, number];
  /** No more callbacks; the socket closes once libuv releases it (idempotent, safe inside onBatch). */
  close(handle: NativeDatagramSocket): void;
}

export type DatagramLoad = { ok: true; api: DatagramApi } | { ok: false; reason: string };

let loaded: DatagramLoad | undefined;

/** Loads the add-on once; `{ ok: false, reason }` when it is not built or does not load here. */
export function loadDatagram(): DatagramLoad {
  if (loaded) return loaded;
  if (process.platform !== 'linux')
    return (loaded = { ok: false, reason: `needs Linux (platform ${process.platform})` });
  const path = new URL('../build/Release/bootpt_datagram.node', import.meta.url).pathname;
  try {
    loaded = { ok: true, api: createRequire(import.meta.url)(path) as DatagramApi };
  } catch (err) {
    loaded = { ok: false, reason: (err as Error).message.split('\n')[0]! };
  }
  return loaded;
}
