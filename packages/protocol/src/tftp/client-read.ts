/**
 * Client side of a read transfer: RRQ with options, OACK check, ACK 0, then either
 *
 * - unicast (RFC 1350/7440): DATA from the peer, ACK at the end of each window of `windowsize` blocks and
 *   at the final short block; on a gap or duplicate the last in-order block is ACKed at once (once per gap,
 *   RFC 7440 §4); on timeout the last ACK is sent again. After the final ACK the client dallies for
 *   `dallyMs`, re-ACKing a repeated final DATA (RFC 1350 §6), then reports `done`.
 * - group (RFC 2090 multicast or IBM sbroadcast): blocks arrive from the group in any order and are kept
 *   in a bitmap. A non-master stays silent; a master ACKs the block just before its first missing one
 *   ("send me the next") once half a window of new blocks has come in since its last ACK (pipelining: the
 *   server's sliding window then sends only the blocks beyond those in flight), when the end of the
 *   requested window has gone by, and on timeout. When every block up to
 *   the final short one is in, the client ACKs the final block (RFC 2090: every client ends that way) and
 *   is done. Group block numbers are absolute here and wrap on the wire (SPEC §11 "Block-number
 *   rollover"): a master unwraps a DATA number relative to the block it last asked for and never ACKs more
 *   than `GROUP_ACK_STEP` past its previous ACK (0 when it became master); a non-master keeps only blocks
 *   whose number has one candidate in 1 … lastBlock (from tsize); the rest it fetches once master.
 *
 * The OACK is rejected with ERROR 8 when it carries an option the client did not request or a value it
 * cannot use (blksize/windowsize above the request, a different timeout, a malformed group value). With
 * `probe` set, the client ends the transfer after the OACK with ERROR 8 (the EDK2 tsize probe) and reports
 * outcome 'probe' with the tsize.
 *
 * The group bitmap is mutated in place: treat every state as consumed once passed to `clientReadStep`.
 */
import { TFTP_DEFAULT_BLKSIZE, TFTP_ERROR_CODES, TFTP_MIN_BLKSIZE, TFTP_SBROADCAST_PORT } from './packet.js';
import type { TftpOption, TftpPacket } from './packet.js';
import { getTftpOption, parseDecimal, parseMulticastValue, parseSbroadcastValue } from './options.js';
import { backoff, wireBlock } from './machine.js';
import { receiveData } from './receive.js';
import { GROUP_ACK_STEP, unwrapBlock } from './group.js';
import type { RetryPolicy, TftpEffect, TftpOutcome, TftpStep } from './machine.js';

export interface ClientReadConfig {
  readonly filename: string;
  readonly mode: 'octet' | 'netascii';
  /** Requested options in wire order, e.g. blksize 1468, tsize 0, windowsize 8, multicast "". */
  readonly options: readonly TftpOption[];
  readonly retry: RetryPolicy;
  /** How long to linger after the final ACK. 0 = report done at once. */
  readonly dallyMs: number;
  /** Stop after the OACK with ERROR 8 and report the tsize (outcome 'probe'). */
  readonly probe?: boolean;
  /** Group non-master: give up after this long without hearing the group. Default 30 s. */
  readonly groupIdleMs?: number;
}

export type ClientReadEvent =
  | { readonly type: 'packet'; readonly packet: TftpPacket; readonly from?: 'peer' | 'group' }
  | { readonly type: 'malformed'; readonly reason: string }
  | { readonly type: 'timer' }
  | { readonly type: 'abort'; readonly reason: string };

export interface GroupReception {
  readonly kind: 'multicast' | 'sbroadcast';
  readonly sbid: number | null;
  readonly master: boolean;
  /** Bit per absolute block number 1 … lastBlock (1 … 65535 without tsize). */
  readonly have: Uint8Array;
  /** The master's last ACK (absolute; 0 when it became master): the next is at most GROUP_ACK_STEP more. */
  readonly acked: number;
  readonly count: number;
  /** The first block of the window the master last asked for. */
  readonly requestedFrom: number;
  /** `count` when the master last asked (new blocks since then trigger the next ACK). */
  readonly countAtRequest: number;
  /** Every block below this one is held (the first hole is never below it). */
  readonly holeHint: number;
  readonly lastHeard: number;
}

export interface ClientReadState {
  readonly config: ClientReadConfig;
  readonly phase: 'request' | 'transfer' | 'group' | 'dally' | 'done';
  readonly blksize: number;
  readonly windowsize: number;
  readonly retry: RetryPolicy;
  readonly tsize: number | null;
  /** Unicast: blocks received in order (absolute). Group: the number of blocks held. */
  readonly received: number;
  readonly bytes: number;
  /** Final block number once known (short block seen, or from tsize in a group). */
  readonly lastBlock: number | null;
  readonly sinceAck: number;
  readonly gapAcked: boolean;
  readonly retries: number;
  readonly deadline: number;
  readonly group: GroupReception | null;
}

type Step = TftpStep<ClientReadState>;

const DEFAULT_GROUP_IDLE_MS = 30_000;

export function createClientRead(config: ClientReadConfig, now: number): Step {
  const deadline = now + backoff(config.retry, 0);
  const state: ClientReadState = {
    config,
    phase: 'request',
    blksize: TFTP_DEFAULT_BLKSIZE,
    windowsize: 1,
    retry: config.retry,
    tsize: null,
    received: 0,
    bytes: 0,
    lastBlock: null,
    sinceAck: 0,
    gapAcked: false,
    retries: 0,
    deadline,
    group: null,
  };
  return {
    state,
    effects: [
      { type: 'send', packet: rrq(config) },
      { type: 'setTimer', at: deadline },
    ],
  };
}

function rrq(config: ClientReadConfig): TftpPacket {
  return { opcode: 'RRQ', filename: config.filename, mode: config.mode, options: config.options };
}

function finish(
  state: ClientReadState,
  outcome: TftpOutcome,
  effects: TftpEffect[],
  error?: { code: number; message: string },
): Step {
  effects.push({
    type: 'done',
    outcome,
    bytes: state.bytes,
    blocks: state.received,
    tsize: state.tsize,
    ...(error ? { error } : {}),
  });
  return { state: { ...state, phase: 'done' }, effects };
}

function sendError(
  state: ClientReadState,
  code: number,
  message: string,
  effects: TftpEffect[],
  outcome: TftpOutcome,
): Step {
  effects.push({ type: 'send', packet: { opcode: 'ERROR', errorCode: code, errorMessage: message } });
  return finish(state, outcome, effects, { code, message });
}

function arm(state: ClientReadState, at: number, effects: TftpEffect[]): ClientReadState {
  effects.push({ type: 'setTimer', at });
  return { ...state, deadline: at };
}

function ack(block: number, effects: TftpEffect[]): void {
  effects.push({ type: 'send', packet: { opcode: 'ACK', block: wireBlock(block) } });
}

/**
 * Ends the read for its caller: ERROR 0 with `reason` to the server, then `done` aborted. As the `abort`
 * event, except that it also ends a machine that has just ended: the caller may refuse the data of the
 * step that completed the file (the last block could not be stored), and that read did not complete. The
 * caller must not have applied that step's `done` (nor anything after the refused data).
 */
export function abortClientRead(state: ClientReadState, reason: string): Step {
  return sendError(state, TFTP_ERROR_CODES.NOT_DEFINED, reason, [], 'aborted');
}

export function clientReadStep(state: ClientReadState, event: ClientReadEvent, now: number): Step {
  if (state.phase === 'done') return { state, effects: [] };
  const effects: TftpEffect[] = [];
  switch (event.type) {
    case 'abort':
      return abortClientRead(state, event.reason);
    case 'malformed':
      return sendError(
        state,
        TFTP_ERROR_CODES.ILLEGAL_OPERATION,
        `malformed packet: ${event.reason}`,
        effects,
        'error',
      );
    case 'timer':
      return onTimer(state, now, effects);
    case 'packet':
      return onPacket(state, event.packet, event.from ?? 'peer', now, effects);
  }
}

function onTimer(state: ClientReadState, now: number, effects: TftpEffect[]): Step {
  const group = state.group;
  if (state.phase === 'group' && group && !group.master) {
    // Non-masters only watch for silence; the deadline moves with every group datagram.
    const idle = state.config.groupIdleMs ?? DEFAULT_GROUP_IDLE_MS;
    if (now - group.lastHeard >= idle) return finish(state, 'timeout', effects);
    return { state: arm(state, group.lastHeard + idle, effects), effects };
  }
  if (now < state.deadline) return { state, effects };
  if (state.phase === 'dally') return finish(state, 'complete', effects);
  const retries = state.retries + 1;
  if (retries > state.retry.maxRetries) return finish(state, 'timeout', effects);
  const next = { ...state, retries };
  if (state.phase === 'request') effects.push({ type: 'send', packet: rrq(state.config) });
  else if (group) return requestMissing(next, now, effects, false);
  else ack(state.received, effects);
  return {
    state: arm({ ...next, gapAcked: false, sinceAck: 0 }, now + backoff(state.retry, retries), effects),
    effects,
  };
}

function onPacket(
  state: ClientReadState,
  packet: TftpPacket,
  from: 'peer' | 'group',
  now: number,
  effects: TftpEffect[],
): Step {
  if (packet.opcode === 'ERROR' && from === 'peer') {
    return finish(state, 'error', effects, { code: packet.errorCode, message: packet.errorMessage });
  }
  switch (state.phase) {
    case 'request':
      if (from !== 'peer') return { state, effects };
      if (packet.opcode === 'OACK') return onOack(state, packet.options, now, effects);
      if (packet.opcode === 'DATA' && packet.block === 1) {
        // The server ignored our options (RFC 2347 §2): plain RFC 1350 transfer.
        if (state.config.probe === true) {
          return sendError(state, TFTP_ERROR_CODES.NOT_DEFINED, 'tsize probe', effects, 'probe');
        }
        return onData({ ...state, phase: 'transfer' }, packet.block, packet.data, now, effects);
      }
      return { state, effects };
    case 'transfer':
      if (from === 'peer' && packet.opcode === 'DATA')
        return onData(state, packet.block, packet.data, now, effects);
      if (from === 'peer' && packet.opcode === 'OACK' && state.received === 0) {
        // Our ACK 0 was lost and the server repeated its OACK.
        ack(0, effects);
      }
      return { state, effects };
    case 'dally':
      if (from === 'peer' && packet.opcode === 'DATA' && packet.block === wireBlock(state.received)) {
        ack(state.received, effects);
      }
      return { state, effects };
    case 'group':
      return onGroupPacket(state, packet, from, now, effects);
    case 'done':
      return { state, effects };
  }
}

function onOack(
  state: ClientReadState,
  options: readonly TftpOption[],
  now: number,
  effects: TftpEffect[],
): Step {
  const requested = state.config.options;
  let blksize = TFTP_DEFAULT_BLKSIZE;
  let windowsize = 1;
  let retry = state.retry;
  let tsize: number | null = null;
  let group: GroupReception | null = null;
  let join: TftpEffect | null = null;
  const reject = (message: string): Step =>
    sendError(state, TFTP_ERROR_CODES.OPTION_NEGOTIATION, message, effects, 'error');

  for (const o of options) {
    const asked = getTftpOption(requested, o.name);
    if (asked === undefined) return reject(`unrequested option ${o.name}`);
    switch (o.name.toLowerCase()) {
      case 'blksize': {
        const n = parseDecimal(
          o.value,
          TFTP_MIN_BLKSIZE,
          parseDecimal(asked, 0, Number.MAX_SAFE_INTEGER) ?? 0,
        );
        if (n === null) return reject(`unacceptable blksize ${o.value}`);
        blksize = n;
        break;
      }
      case 'windowsize': {
        const n = parseDecimal(o.value, 1, parseDecimal(asked, 0, 65535) ?? 0);
        if (n === null) return reject(`unacceptable windowsize ${o.value}`);
        windowsize = n;
        break;
      }
      case 'timeout': {
        const n = parseDecimal(o.value, 1, 255);
        if (n === null || n !== parseDecimal(asked, 1, 255)) return reject(`unacceptable timeout ${o.value}`);
        retry = { ...retry, timeoutMs: n * 1000, maxTimeoutMs: Math.max(retry.maxTimeoutMs, n * 1000) };
        break;
      }
      case 'tsize': {
        tsize = parseDecimal(o.value, 0, Number.MAX_SAFE_INTEGER);
        if (tsize === null) return reject(`unacceptable tsize ${o.value}`);
        break;
      }
      case 'multicast': {
        const v = parseMulticastValue(o.value);
        if (v === null || v.address === null || v.port === null)
          return reject(`unacceptable multicast ${o.value}`);
        group = groupReception('multicast', null, v.master, now);
        join = { type: 'joinGroup', kind: 'multicast', address: v.address, port: v.port, sbid: null };
        break;
      }
      case 'sbroadcast': {
        const v = parseSbroadcastValue(o.value);
        if (v === null) return reject(`unacceptable sbroadcast ${o.value}`);
        group = groupReception('sbroadcast', v.sbid, v.master, now);
        join = {
          type: 'joinGroup',
          kind: 'sbroadcast',
          address: null,
          port: v.port ?? TFTP_SBROADCAST_PORT,
          sbid: v.sbid,
        };
        break;
      }
      default:
        break;
    }
  }

  const next: ClientReadState = { ...state, blksize, windowsize, retry, tsize, retries: 0 };
  if (state.config.probe === true) {
    return sendError(next, TFTP_ERROR_CODES.OPTION_NEGOTIATION, 'tsize probe', effects, 'probe');
  }
  if (group !== null && join !== null) {
    effects.push(join);
    ack(0, effects);
    const lastBlock = tsize === null ? null : Math.floor(tsize / blksize) + 1;
    // The bitmap covers every absolute block (tsize known once the loop is over).
    const have = lastBlock === null ? group.have : new Uint8Array(Math.max(8192, (lastBlock >>> 3) + 1));
    const grouped: ClientReadState = { ...next, phase: 'group', group: { ...group, have }, lastBlock };
    if (group.master) return { state: arm(grouped, now + backoff(retry, 0), effects), effects };
    return {
      state: arm(grouped, now + (state.config.groupIdleMs ?? DEFAULT_GROUP_IDLE_MS), effects),
      effects,
    };
  }
  ack(0, effects);
  return { state: arm({ ...next, phase: 'transfer' }, now + backoff(retry, 0), effects), effects };
}

function groupReception(
  kind: 'multicast' | 'sbroadcast',
  sbid: number | null,
  master: boolean,
  now: number,
): GroupReception {
  return {
    kind,
    sbid,
    master,
    have: new Uint8Array(8192),
    acked: 0,
    count: 0,
    requestedFrom: 1,
    countAtRequest: 0,
    holeHint: 1,
    lastHeard: now,
  };
}

function onData(
  state: ClientReadState,
  block: number,
  data: Uint8Array,
  now: number,
  effects: TftpEffect[],
): Step {
  const verdict = receiveData(state, block, data.length, state.blksize, state.windowsize);
  switch (verdict.kind) {
    case 'ignore':
      return { state, effects };
    case 'oversize':
      return sendError(
        state,
        TFTP_ERROR_CODES.ILLEGAL_OPERATION,
        'DATA longer than blksize',
        effects,
        'error',
      );
    case 'reack':
      ack(verdict.block, effects);
      return { state: { ...state, ...verdict.rx }, effects };
    case 'take': {
      effects.push({ type: 'data', block: verdict.block, offset: state.bytes, data });
      if (verdict.ack) ack(verdict.block, effects);
      const next: ClientReadState = { ...state, ...verdict.rx, bytes: state.bytes + data.length, retries: 0 };
      if (verdict.last) {
        const dallying = { ...next, phase: 'dally' as const, lastBlock: verdict.block };
        if (state.config.dallyMs <= 0) return finish(dallying, 'complete', effects);
        return { state: arm(dallying, now + state.config.dallyMs, effects), effects };
      }
      return { state: arm(next, now + backoff(state.retry, 0), effects), effects };
    }
  }
}

function hasBlock(have: Uint8Array, block: number): boolean {
  return (have[block >>> 3]! & (1 << (block & 7))) !== 0;
}

function firstMissing(group: GroupReception, lastBlock: number | null): number {
  const limit = lastBlock ?? 65535;
  for (let b = group.holeHint; b <= limit; b++) if (!hasBlock(group.have, b)) return b;
  return limit + 1;
}

/**
 * Master: ACK the block before the first missing one ("send me the next"), at most GROUP_ACK_STEP past the
 * previous ACK. `advance` is false on the retransmission timeout: the previous ACK may be lost, so it is
 * repeated rather than stepped past (the server's reference then lags one step at most).
 */
function requestMissing(state: ClientReadState, now: number, effects: TftpEffect[], advance: boolean): Step {
  const group = state.group!;
  const first = firstMissing(group, state.lastBlock);
  const acked =
    advance || group.acked === 0 ? Math.min(first - 1, group.acked + GROUP_ACK_STEP) : group.acked;
  ack(acked, effects);
  const next = {
    ...state,
    group: { ...group, acked, requestedFrom: acked + 1, countAtRequest: group.count, holeHint: first },
  };
  return { state: arm(next, now + backoff(state.retry, state.retries), effects), effects };
}

/**
 * The absolute block number of a group DATA/BDATA numbered `wire`, or 0 (ignore it). Up to 65,535 blocks
 * (or without tsize) the wire number is the block. Past the wrap a master takes the number nearest the
 * first block it asked for (the server sends it only that window); a non-master, which cannot know where a
 * hand-over moved the stream, keeps a block only when one number in 1 … lastBlock fits.
 */
function groupBlock(
  group: GroupReception,
  lastBlock: number | null,
  windowsize: number,
  wire: number,
): number {
  if (lastBlock === null || lastBlock <= 65535) return wire;
  if (group.master) {
    // Only the window asked for: below it everything is held, and a number beyond it is a datagram that
    // was in flight before this client became master (another block with the same wire number).
    const block = unwrapBlock(group.requestedFrom, wire);
    return block >= group.requestedFrom && block < group.requestedFrom + windowsize ? block : 0;
  }
  const block = wire === 0 ? 65536 : wire;
  return block + 65536 <= lastBlock ? 0 : block;
}

function onGroupPacket(
  state: ClientReadState,
  packet: TftpPacket,
  from: 'peer' | 'group',
  now: number,
  effects: TftpEffect[],
): Step {
  const group = state.group!;
  if (from === 'peer') {
    if (packet.opcode !== 'OACK') return { state, effects };
    const value = getTftpOption(packet.options, group.kind);
    const master =
      value === undefined
        ? null
        : group.kind === 'multicast'
          ? (parseMulticastValue(value)?.master ?? null)
          : (parseSbroadcastValue(value)?.master ?? null);
    if (master === null) return { state, effects };
    // A new master's ACKs start again from 0 (the server's reference for its first ACK).
    const next = { ...state, retries: 0, group: { ...group, master, acked: master ? 0 : group.acked } };
    if (master) return requestMissing(next, now, effects, true);
    const idle = state.config.groupIdleMs ?? DEFAULT_GROUP_IDLE_MS;
    return { state: arm(next, now + idle, effects), effects };
  }

  let wire: number;
  let data: Uint8Array;
  if (group.kind === 'multicast' && packet.opcode === 'DATA') {
    ({ block: wire, data } = packet);
  } else if (group.kind === 'sbroadcast' && packet.opcode === 'BDATA' && packet.sbid === group.sbid) {
    ({ block: wire, data } = packet);
  } else {
    return { state, effects };
  }
  const block = groupBlock(group, state.lastBlock, state.windowsize, wire);
  let lastBlock = state.lastBlock;
  const short = data.length < state.blksize;
  if (block === 0 || data.length > state.blksize) return { state, effects };
  if (lastBlock !== null && (block > lastBlock || short !== (block === lastBlock))) return { state, effects };
  if (short) lastBlock = block;

  // Every group datagram passes here, for every member: the new state and reception are object literals,
  // not spreads (`{ ...state, x }` takes V8's slow path on Node 20, several microseconds each).
  const fresh = !hasBlock(group.have, block);
  if (fresh) {
    group.have[block >>> 3]! |= 1 << (block & 7);
    effects.push({ type: 'data', block, offset: (block - 1) * state.blksize, data });
  }
  const reception: GroupReception = {
    kind: group.kind,
    sbid: group.sbid,
    master: group.master,
    have: group.have,
    acked: group.acked,
    count: fresh ? group.count + 1 : group.count,
    requestedFrom: group.requestedFrom,
    countAtRequest: group.countAtRequest,
    holeHint: group.holeHint,
    lastHeard: now,
  };
  const next: ClientReadState = {
    config: state.config,
    phase: state.phase,
    blksize: state.blksize,
    windowsize: state.windowsize,
    retry: state.retry,
    tsize: state.tsize,
    received: fresh ? state.received + 1 : state.received,
    bytes: fresh ? state.bytes + data.length : state.bytes,
    lastBlock,
    sinceAck: state.sinceAck,
    gapAcked: state.gapAcked,
    retries: fresh ? 0 : state.retries,
    // A non-master's deadline is its idle limit, moved by every datagram.
    deadline: group.master ? state.deadline : now + (state.config.groupIdleMs ?? DEFAULT_GROUP_IDLE_MS),
    group: reception,
  };
  if (lastBlock !== null && reception.count === lastBlock) {
    // A master walks its ACKs up to the last block in GROUP_ACK_STEP steps so the server can unwrap them.
    if (reception.master)
      for (let a = group.acked + GROUP_ACK_STEP; a < lastBlock; a += GROUP_ACK_STEP) ack(a, effects);
    ack(lastBlock, effects);
    return finish(next, 'complete', effects);
  }
  if (reception.master) {
    const newSinceAck = reception.count - group.countAtRequest;
    if (
      newSinceAck >= Math.ceil(state.windowsize / 2) ||
      block >= group.requestedFrom + state.windowsize - 1 ||
      block === lastBlock
    ) {
      return requestMissing(next, now, effects, true);
    }
    // The retransmission timer runs from the last ACK (armed by requestMissing), not from every block.
  }
  return { state: next, effects };
}
