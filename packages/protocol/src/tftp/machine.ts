/**
 * Shared vocabulary of the TFTP state machines: `step(state, event, now) → { state, effects }`.
 *
 * Machines are pure: they never touch sockets, timers, files or logs. The caller (the agent daemon, or a
 * test harness) carries out the effects in order:
 *
 * - `send`: encode `packet` and send it unicast. `to` omitted = the transfer's peer (its TID pair, which
 *   the caller owns: it also answers datagrams from foreign TIDs with ERROR 5 without involving the
 *   machine, RFC 1350 §4); `to` set = the group member with that opaque client id.
 * - `sendGroup`: send `packet` to the group destination (multicast group:port, or the subnet-directed
 *   broadcast address on port 247).
 * - `setTimer`: (re)arm the machine's single timer for absolute time `at` (ms, same clock as `now`); it
 *   replaces any earlier timer. When it fires, call `step` with `{ type: 'timer' }`. Machines ignore a
 *   timer event that arrives before their deadline, so a stale or early timer is harmless.
 * - `data` (clients): `data` belongs at byte `offset` of the file (block `block`, 1-based absolute).
 * - `joinGroup` (clients): start receiving the group's datagrams and feed them with `from: 'group'`.
 * - `left` (group server): a member left the group, with the reason (for metrics/telemetry).
 * - `log`: a structured note the caller may log; machines never log themselves.
 * - `done`: the machine has finished; drop it and its timer. Always the last effect.
 *
 * Time: `now` is milliseconds on any monotonic clock.
 */
import type { TftpPacket } from './packet.js';

export type TftpOutcome = 'complete' | 'probe' | 'error' | 'timeout' | 'aborted';

export type TftpEffect =
  | { readonly type: 'send'; readonly packet: TftpPacket; readonly to?: string }
  | { readonly type: 'sendGroup'; readonly packet: TftpPacket }
  | { readonly type: 'setTimer'; readonly at: number }
  | { readonly type: 'data'; readonly block: number; readonly offset: number; readonly data: Uint8Array }
  | {
      readonly type: 'joinGroup';
      readonly kind: 'multicast' | 'sbroadcast';
      /** Multicast group address (null for sbroadcast: the subnet-directed broadcast address). */
      readonly address: string | null;
      readonly port: number;
      /** sbroadcast transfer id; BDATA with another sbid is ignored. */
      readonly sbid: number | null;
    }
  | {
      readonly type: 'left';
      readonly client: string;
      readonly reason: 'complete' | 'error' | 'timeout' | 'aborted';
    }
  | {
      readonly type: 'log';
      readonly level: 'debug' | 'info' | 'warn';
      readonly message: string;
      readonly fields?: Readonly<Record<string, string | number | boolean>>;
    }
  | {
      readonly type: 'done';
      readonly outcome: TftpOutcome;
      /** File octets transferred and confirmed (server) or received (client). */
      readonly bytes: number;
      /** Blocks confirmed (server) or received (client). */
      readonly blocks: number;
      /** The ERROR that ended the transfer, received or sent. */
      readonly error?: { readonly code: number; readonly message: string };
      /** Client: tsize learnt from the OACK (tsize probes). */
      readonly tsize?: number | null;
    };

export interface TftpStep<S> {
  readonly state: S;
  readonly effects: readonly TftpEffect[];
}

/** Retransmission timing: the first timeout, doubled per retry up to a cap; give up after maxRetries. */
export interface RetryPolicy {
  readonly timeoutMs: number;
  readonly maxTimeoutMs: number;
  readonly maxRetries: number;
}

export const TFTP_DEFAULT_RETRY: RetryPolicy = { timeoutMs: 1000, maxTimeoutMs: 8000, maxRetries: 6 };

export function backoff(policy: RetryPolicy, retries: number): number {
  return Math.min(policy.timeoutMs * 2 ** retries, policy.maxTimeoutMs);
}

/** RFC 1350 block numbers are 16 bits; after 65535 comes 0 (the common convention, PROTOCOLS.md §3.9). */
export function wireBlock(absolute: number): number {
  return absolute % 65536;
}
