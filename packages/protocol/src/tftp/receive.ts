/**
 * The data receiver's side of RFC 1350 / RFC 7440, shared by the client read and the server write:
 * decides for each DATA whether to take it, whether to ACK now, and which block to ACK.
 *
 * - The next block in order is taken; it is ACKed when it completes a window of `windowsize` blocks or is
 *   short (the final block).
 * - A repeat of the newest block is always re-ACKed (its ACK was lost; the sender is waiting for it).
 * - Anything else (an older repeat or a block after a gap) makes the receiver ACK its newest in-order block
 *   once per gap, so the sender restarts the window right after it (RFC 7440 §4) without an ACK storm.
 */
import { wireBlock } from './machine.js';

export interface ReceiveWindow {
  /** Blocks received in order (absolute; wire numbers wrap 65535 → 0). */
  readonly received: number;
  /** Blocks taken since the last ACK. */
  readonly sinceAck: number;
  /** Already ACKed for the current gap. */
  readonly gapAcked: boolean;
}

export const INITIAL_RECEIVE_WINDOW: ReceiveWindow = { received: 0, sinceAck: 0, gapAcked: false };

export type ReceiveVerdict =
  | {
      readonly kind: 'take';
      readonly rx: ReceiveWindow;
      /** Absolute number of the block taken. */
      readonly block: number;
      /** ACK `block` now (end of window or final block). */
      readonly ack: boolean;
      readonly last: boolean;
    }
  | { readonly kind: 'reack'; readonly rx: ReceiveWindow; readonly block: number }
  | { readonly kind: 'ignore' }
  | { readonly kind: 'oversize' };

export function receiveData(
  rx: ReceiveWindow,
  block: number,
  length: number,
  blksize: number,
  windowsize: number,
): ReceiveVerdict {
  const expected = rx.received + 1;
  if (block !== wireBlock(expected)) {
    if (block === wireBlock(rx.received) || !rx.gapAcked) {
      return { kind: 'reack', rx: { ...rx, gapAcked: true, sinceAck: 0 }, block: rx.received };
    }
    return { kind: 'ignore' };
  }
  if (length > blksize) return { kind: 'oversize' };
  const last = length < blksize;
  const sinceAck = rx.sinceAck + 1;
  const ack = last || sinceAck >= windowsize;
  return {
    kind: 'take',
    rx: { received: expected, sinceAck: ack ? 0 : sinceAck, gapAcked: false },
    block: expected,
    ack,
    last,
  };
}
