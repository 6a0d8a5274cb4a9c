/**
 * Server side of a group read transfer: RFC 2090 multicast or IBM subnet broadcast (`sbroadcast`).
 *
 * Clients that want the same file share one stream. Each joins with its own RRQ (the caller negotiates
 * with `negotiateOptions`, then feeds `join`); the machine answers with a unicast OACK whose group value it
 * fills in: `addr,port,mc` (multicast) or `port,sbid,master` (sbroadcast), with mc/master = 1 for the one
 * master client and 0 for the others. Clients keep join order; the oldest is master.
 *
 * The master's ACK n means "I hold every block up to n, send me n+1": the machine answers with the window
 * n+1 .. n+windowsize (the master's negotiated windowsize, cut at the last block) to the group — DATA for
 * multicast, BDATA for sbroadcast — like a sliding window: blocks of that window that already went out for
 * this master less than one retransmission timeout ago are in flight and not sent again, so a master may
 * ACK before a window has fully arrived (pipelining) and get only the blocks beyond it. A repeated ACK n is
 * a re-request: block n+1 is sent again even if it is in flight (the master lost it). The machine's own
 * timeout resends the whole window; so does a new master's first ACK (blocks sent before it was master
 * count as not in flight). Non-masters collect blocks and stay silent; their ACK 0 (after the OACK) is
 * ignored.
 *
 * Mastership passes when the master ACKs the last block (it has the whole file and leaves) or goes silent:
 * after `retry.maxRetries` unanswered retransmissions the master is dropped (ERROR 0 to it) and the next
 * oldest client is sent its OACK again with mc/master = 1; it answers by ACKing the block before its first
 * missing block. A late joiner simply collects from wherever the stream is and
 * fetches what it missed when it becomes master. Any client leaves by ACKing the last block or with an
 * ERROR; the group ends (`done`) when the last client has left.
 *
 * Data access is the same injected `readBlock(block)` as the unicast read; the file size is known (group
 * transfers require it), so the last block is `floor(size / blksize) + 1`. Block numbers are absolute here
 * and wrap on the wire (65535 → 0, `wireBlock`); the master's ACKs are unwrapped with `unwrapBlock` relative
 * to its previous request, or to 0 for a new master's first ACK (the master never ACKs more than
 * `GROUP_ACK_STEP` past that reference: SPEC §11 "Block-number rollover").
 *
 * `sentAt` (when each block last went to the group) is mutated in place: treat every state as consumed once
 * passed to `groupStep`.
 */
import { TFTP_ERROR_CODES } from './packet.js';
import type { TftpOption, TftpPacket } from './packet.js';
import { formatMulticastValue, formatSbroadcastValue, getTftpOption, parseDecimal } from './options.js';
import { backoff, wireBlock } from './machine.js';
import type { RetryPolicy, TftpEffect, TftpStep } from './machine.js';

export type GroupDelivery =
  | { readonly kind: 'multicast'; readonly address: string; readonly port: number }
  | { readonly kind: 'sbroadcast'; readonly port: number; readonly sbid: number };

export interface GroupConfig {
  readonly delivery: GroupDelivery;
  readonly blksize: number;
  readonly fileSize: number;
  readonly retry: RetryPolicy;
  readonly readBlock: (block: number) => Uint8Array;
}

export type GroupEvent =
  /** A new (or repeated) RRQ from `client`; `oack` from `negotiateOptions` (group value left empty). */
  | { readonly type: 'join'; readonly client: string; readonly oack: readonly TftpOption[] }
  /** A unicast packet from a client's TID. */
  | { readonly type: 'packet'; readonly client: string; readonly packet: TftpPacket }
  | { readonly type: 'timer' }
  | { readonly type: 'abort'; readonly reason: string };

export interface GroupMember {
  readonly client: string;
  readonly windowsize: number;
  readonly oack: readonly TftpOption[];
}

export interface GroupState {
  readonly config: GroupConfig;
  readonly lastBlock: number;
  /** In join order; the master is always `members[0]` once `master` is set. */
  readonly members: readonly GroupMember[];
  readonly master: string | null;
  /**
   * 'handover': past the wrap, the heir's OACK waits one retransmission timeout so group datagrams sent
   * for the previous master are delivered first; 'oack': waiting for the new master's first ACK;
   * 'window': a window is out.
   */
  readonly masterPhase: 'handover' | 'oack' | 'window';
  /** The ACK the current window answers (window = lastRequest+1 ..). */
  readonly lastRequest: number;
  readonly retries: number;
  readonly deadline: number;
  /** When the current master got its role (blocks sent before were not sent for it). */
  readonly masterSince: number;
  /** Time each block (index = block number) last went to the group; -Infinity = never. */
  readonly sentAt: Float64Array;
  readonly phase: 'running' | 'done';
  /** Group datagrams sent (metrics). */
  readonly blocksSent: number;
}

type Step = TftpStep<GroupState>;

/**
 * A group master never ACKs more than this past its previous ACK (0 when it became master). The server
 * unwraps within ±32768 of the last ACK it got, so up to three consecutive lost stepped ACKs are harmless.
 */
export const GROUP_ACK_STEP = 8192;

/**
 * The absolute block number ≡ `wire` (mod 65536) nearest to `reference`: within reference − 32768 …
 * reference + 32767, moved up by 65536 if that is negative.
 */
export function unwrapBlock(reference: number, wire: number): number {
  const delta = ((((wire - reference) % 65536) + 65536 + 32768) % 65536) - 32768;
  const block = reference + delta;
  return block < 0 ? block + 65536 : block;
}

export function createGroup(config: GroupConfig): GroupState {
  const lastBlock = Math.floor(config.fileSize / config.blksize) + 1;
  return {
    config,
    lastBlock,
    members: [],
    master: null,
    masterPhase: 'oack',
    lastRequest: 0,
    retries: 0,
    deadline: 0,
    masterSince: 0,
    sentAt: new Float64Array(lastBlock + 1).fill(-Infinity),
    phase: 'running',
    blocksSent: 0,
  };
}

/** The group option's value for one client: `addr,port,mc` or `port,sbid,master`. */
function groupValue(delivery: GroupDelivery, master: boolean): string {
  if (delivery.kind === 'multicast') {
    return formatMulticastValue({ address: delivery.address, port: delivery.port, master });
  }
  return formatSbroadcastValue({ port: delivery.port, sbid: delivery.sbid, master });
}

/**
 * The member's OACK with its role filled in. Hand-over OACKs repeat the member's whole OACK with the
 * address and port too (RFC 2090 and IBM allow leaving them empty): a member whose first OACK was lost
 * then still learns every parameter, and one that has them just reads the new role.
 */
function oackFor(state: GroupState, member: GroupMember, master: boolean): TftpPacket {
  const kind = state.config.delivery.kind;
  const options = member.oack.map((o) =>
    o.name.toLowerCase() === kind ? { name: o.name, value: groupValue(state.config.delivery, master) } : o,
  );
  return { opcode: 'OACK', options };
}

function arm(state: GroupState, now: number, effects: TftpEffect[]): GroupState {
  const at = now + backoff(state.config.retry, state.retries);
  effects.push({ type: 'setTimer', at });
  return { ...state, deadline: at };
}

export function groupStep(state: GroupState, event: GroupEvent, now: number): Step {
  if (state.phase === 'done') return { state, effects: [] };
  const effects: TftpEffect[] = [];
  switch (event.type) {
    case 'join':
      return onJoin(state, event.client, event.oack, now, effects);
    case 'packet':
      return onPacket(state, event.client, event.packet, now, effects);
    case 'timer':
      return onTimer(state, now, effects);
    case 'abort': {
      for (const m of state.members) {
        effects.push({
          type: 'send',
          to: m.client,
          packet: { opcode: 'ERROR', errorCode: TFTP_ERROR_CODES.NOT_DEFINED, errorMessage: event.reason },
        });
        effects.push({ type: 'left', client: m.client, reason: 'aborted' });
      }
      return end({ ...state, members: [], master: null }, 'aborted', effects);
    }
  }
}

function end(state: GroupState, outcome: 'complete' | 'aborted', effects: TftpEffect[]): Step {
  effects.push({ type: 'done', outcome, bytes: state.config.fileSize, blocks: state.lastBlock });
  return { state: { ...state, phase: 'done' }, effects };
}

function onJoin(
  state: GroupState,
  client: string,
  oack: readonly TftpOption[],
  now: number,
  effects: TftpEffect[],
): Step {
  const existing = state.members.find((m) => m.client === client);
  if (existing) {
    // A repeated RRQ: its OACK was lost. Repeat it with the client's current role.
    effects.push({ type: 'send', to: client, packet: oackFor(state, existing, state.master === client) });
    return { state, effects };
  }
  const windowsize = parseDecimal(getTftpOption(oack, 'windowsize') ?? '1', 1, 65535) ?? 1;
  const member: GroupMember = { client, windowsize, oack };
  const next: GroupState = { ...state, members: [...state.members, member] };
  if (state.master !== null) {
    effects.push({ type: 'send', to: client, packet: oackFor(state, member, false) });
    return { state: next, effects };
  }
  effects.push({ type: 'send', to: client, packet: oackFor(state, member, true) });
  const mastered: GroupState = { ...next, master: client, masterPhase: 'oack', retries: 0, masterSince: now };
  return { state: arm(mastered, now, effects), effects };
}

function onPacket(
  state: GroupState,
  client: string,
  packet: TftpPacket,
  now: number,
  effects: TftpEffect[],
): Step {
  const member = state.members.find((m) => m.client === client);
  if (!member) {
    effects.push({
      type: 'send',
      to: client,
      packet: {
        opcode: 'ERROR',
        errorCode: TFTP_ERROR_CODES.UNKNOWN_TID,
        errorMessage: 'not a member of this transfer',
      },
    });
    return { state, effects };
  }
  if (packet.opcode === 'ERROR') return leave(state, client, 'error', now, effects);
  if (packet.opcode !== 'ACK') {
    const message = `unexpected ${packet.opcode} in a group transfer`;
    effects.push({
      type: 'send',
      to: client,
      packet: { opcode: 'ERROR', errorCode: TFTP_ERROR_CODES.ILLEGAL_OPERATION, errorMessage: message },
    });
    return leave(state, client, 'error', now, effects);
  }
  if (client !== state.master || state.masterPhase === 'handover') {
    // A non-master only ever ACKs 0 (after its OACK) and its last block (negotiation refuses group
    // transfers whose last block is a multiple of 65536, so the two never share a wire number).
    if (packet.block === wireBlock(state.lastBlock)) return leave(state, client, 'complete', now, effects);
    return { state, effects };
  }
  const block = unwrapBlock(state.masterPhase === 'oack' ? 0 : state.lastRequest, packet.block);
  if (block === state.lastBlock) return leave(state, client, 'complete', now, effects);
  if (block > state.lastBlock) return { state, effects };
  // First ACK of a new master: everything. Otherwise skip blocks in flight, but a repeated ACK n says
  // n+1 was lost.
  const resend: Resend =
    state.masterPhase === 'oack' ? 'all' : block === state.lastRequest ? 'first' : 'none';
  return sendWindow(state, block, 0, member, resend, now, effects);
}

/**
 * Whether another block with the same wire number (block ± k·65536) went to the group after `after`: a
 * member could still receive that one and, unwrapping, take it for this one. Such a block waits (the
 * timer or the next ACK sends it once the alias is a retransmission timeout old).
 */
function aliasRecent(sentAt: Float64Array, block: number, lastBlock: number, after: number): boolean {
  for (let alias = block % 65536 || 65536; alias <= lastBlock; alias += 65536) {
    if (alias !== block && sentAt[alias]! >= after) return true;
  }
  return false;
}

/** Which in-flight blocks of the window go out again: none, the first (re-requested), all (timeout). */
type Resend = 'none' | 'first' | 'all';

/**
 * Sends the window after `lastRequest` and returns the state waiting for the master's next ACK. The hot
 * path (one call per master ACK): the state is one object literal, not spreads (`{ ...state, x }` takes
 * V8's slow path on Node 20, several microseconds each).
 */
function sendWindow(
  state: GroupState,
  lastRequest: number,
  retries: number,
  master: GroupMember,
  resend: Resend,
  now: number,
  effects: TftpEffect[],
): Step {
  const { config, sentAt } = state;
  const from = lastRequest + 1;
  const to = Math.min(lastRequest + master.windowsize, state.lastBlock);
  const inFlightAfter = Math.max(state.masterSince, now - config.retry.timeoutMs);
  const quarantineAfter = now - config.retry.timeoutMs;
  let sent = 0;
  for (let block = from; block <= to; block++) {
    const inFlight = sentAt[block]! >= inFlightAfter;
    if (inFlight && !(resend === 'all' || (resend === 'first' && block === from))) continue;
    if (state.lastBlock > 65535 && aliasRecent(sentAt, block, state.lastBlock, quarantineAfter)) continue;
    sentAt[block] = now;
    sent++;
    const data = config.readBlock(block);
    if (data.length > config.blksize) throw new RangeError(`readBlock(${block}) returned more than blksize`);
    const packet: TftpPacket =
      config.delivery.kind === 'multicast'
        ? { opcode: 'DATA', block: wireBlock(block), data }
        : { opcode: 'BDATA', block: wireBlock(block), sbid: config.delivery.sbid, data };
    effects.push({ type: 'sendGroup', packet });
  }
  const deadline = now + backoff(config.retry, retries);
  effects.push({ type: 'setTimer', at: deadline });
  const next: GroupState = {
    config,
    lastBlock: state.lastBlock,
    members: state.members,
    master: state.master,
    masterPhase: 'window',
    lastRequest,
    retries,
    deadline,
    masterSince: state.masterSince,
    sentAt,
    phase: state.phase,
    blocksSent: state.blocksSent + sent,
  };
  return { state: next, effects };
}

function leave(
  state: GroupState,
  client: string,
  reason: 'complete' | 'error' | 'timeout',
  now: number,
  effects: TftpEffect[],
): Step {
  effects.push({ type: 'left', client, reason });
  const members = state.members.filter((m) => m.client !== client);
  const next: GroupState = { ...state, members };
  if (state.master !== client) return { state: next, effects };
  return passMastership(next, now, effects);
}

function passMastership(state: GroupState, now: number, effects: TftpEffect[]): Step {
  const heir = state.members[0];
  if (!heir) return end({ ...state, master: null }, 'complete', effects);
  if (state.lastBlock > 65535) {
    // The heir unwraps block numbers relative to what it asks for: let the old stream drain first.
    const at = now + state.config.retry.timeoutMs;
    effects.push({ type: 'setTimer', at });
    const draining: GroupState = { ...state, master: heir.client, masterPhase: 'handover', retries: 0 };
    return { state: { ...draining, deadline: at }, effects };
  }
  return offerMastership(state, heir, now, effects);
}

function offerMastership(state: GroupState, heir: GroupMember, now: number, effects: TftpEffect[]): Step {
  effects.push({ type: 'send', to: heir.client, packet: oackFor(state, heir, true) });
  effects.push({
    type: 'log',
    level: 'debug',
    message: 'tftp group: mastership passed',
    fields: { client: heir.client },
  });
  return {
    state: arm(
      { ...state, master: heir.client, masterPhase: 'oack', retries: 0, masterSince: now },
      now,
      effects,
    ),
    effects,
  };
}

function onTimer(state: GroupState, now: number, effects: TftpEffect[]): Step {
  if (state.master === null || now < state.deadline) return { state, effects };
  const master = state.members.find((m) => m.client === state.master)!;
  if (state.masterPhase === 'handover') return offerMastership(state, master, now, effects);
  const retries = state.retries + 1;
  if (retries > state.config.retry.maxRetries) {
    effects.push({
      type: 'send',
      to: master.client,
      packet: {
        opcode: 'ERROR',
        errorCode: TFTP_ERROR_CODES.NOT_DEFINED,
        errorMessage: 'master client timed out',
      },
    });
    return leave(state, master.client, 'timeout', now, effects);
  }
  if (state.masterPhase === 'oack') {
    effects.push({ type: 'send', to: master.client, packet: oackFor(state, master, true) });
    return { state: arm({ ...state, retries }, now, effects), effects };
  }
  return sendWindow(state, state.lastRequest, retries, master, 'all', now, effects);
}
