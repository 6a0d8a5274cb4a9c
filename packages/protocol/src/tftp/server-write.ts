/**
 * Server side of a write transfer (WRQ). The server is read-only by default (refuse WRQ with ERROR 2 before
 * creating this machine); this is for deployments that enable uploads.
 *
 *   createServerWrite ──► OACK (options) or ACK 0 (none) ──DATA…──► final short DATA ──► dally ──► done
 *
 * RFC 2347 §2: after an OACK to a WRQ the client confirms by sending DATA 1 directly. Receiving follows
 * `receive.ts` (window ACKs, one ACK per gap, re-ACK of a repeated newest block). On timeout the last
 * OACK/ACK is sent again with backoff. `maxBytes` (e.g. the accepted tsize or a quota) ends the transfer
 * with ERROR 3 when exceeded. Received octets leave as `data` effects; the caller should commit the file
 * only on `done` with outcome 'complete'.
 */
import { TFTP_ERROR_CODES } from './packet.js';
import type { TftpOption, TftpPacket } from './packet.js';
import { backoff, wireBlock } from './machine.js';
import type { RetryPolicy, TftpEffect, TftpOutcome, TftpStep } from './machine.js';
import { INITIAL_RECEIVE_WINDOW, receiveData } from './receive.js';

export interface ServerWriteConfig {
  readonly blksize: number;
  readonly windowsize: number;
  readonly retry: RetryPolicy;
  /** OACK options from `negotiateOptions`; empty = answer with ACK 0. */
  readonly oack: readonly TftpOption[];
  readonly dallyMs: number;
  readonly maxBytes?: number;
}

export type ServerWriteEvent =
  | { readonly type: 'packet'; readonly packet: TftpPacket }
  | { readonly type: 'malformed'; readonly reason: string }
  | { readonly type: 'timer' }
  | { readonly type: 'abort'; readonly reason: string };

export interface ServerWriteState {
  readonly config: ServerWriteConfig;
  readonly phase: 'receive' | 'dally' | 'done';
  readonly received: number;
  readonly sinceAck: number;
  readonly gapAcked: boolean;
  readonly bytes: number;
  readonly retries: number;
  readonly deadline: number;
}

type Step = TftpStep<ServerWriteState>;

export function createServerWrite(config: ServerWriteConfig, now: number): Step {
  const deadline = now + backoff(config.retry, 0);
  const state: ServerWriteState = {
    config,
    phase: 'receive',
    ...INITIAL_RECEIVE_WINDOW,
    bytes: 0,
    retries: 0,
    deadline,
  };
  return {
    state,
    effects: [
      { type: 'send', packet: firstReply(config) },
      { type: 'setTimer', at: deadline },
    ],
  };
}

function firstReply(config: ServerWriteConfig): TftpPacket {
  return config.oack.length > 0 ? { opcode: 'OACK', options: config.oack } : { opcode: 'ACK', block: 0 };
}

function finish(
  state: ServerWriteState,
  outcome: TftpOutcome,
  effects: TftpEffect[],
  error?: { code: number; message: string },
): Step {
  effects.push({
    type: 'done',
    outcome,
    bytes: state.bytes,
    blocks: state.received,
    ...(error ? { error } : {}),
  });
  return { state: { ...state, phase: 'done' }, effects };
}

function fail(
  state: ServerWriteState,
  code: number,
  message: string,
  effects: TftpEffect[],
  outcome: TftpOutcome,
): Step {
  effects.push({ type: 'send', packet: { opcode: 'ERROR', errorCode: code, errorMessage: message } });
  return finish(state, outcome, effects, { code, message });
}

function arm(state: ServerWriteState, at: number, effects: TftpEffect[]): ServerWriteState {
  effects.push({ type: 'setTimer', at });
  return { ...state, deadline: at };
}

export function serverWriteStep(state: ServerWriteState, event: ServerWriteEvent, now: number): Step {
  if (state.phase === 'done') return { state, effects: [] };
  const effects: TftpEffect[] = [];
  switch (event.type) {
    case 'abort':
      return fail(state, TFTP_ERROR_CODES.NOT_DEFINED, event.reason, effects, 'aborted');
    case 'malformed':
      return fail(
        state,
        TFTP_ERROR_CODES.ILLEGAL_OPERATION,
        `malformed packet: ${event.reason}`,
        effects,
        'error',
      );
    case 'timer': {
      if (now < state.deadline) return { state, effects };
      if (state.phase === 'dally') return finish(state, 'complete', effects);
      const retries = state.retries + 1;
      if (retries > state.config.retry.maxRetries) return finish(state, 'timeout', effects);
      effects.push({
        type: 'send',
        packet:
          state.received === 0
            ? firstReply(state.config)
            : { opcode: 'ACK', block: wireBlock(state.received) },
      });
      const next = { ...state, retries, gapAcked: false, sinceAck: 0 };
      return { state: arm(next, now + backoff(state.config.retry, retries), effects), effects };
    }
    case 'packet':
      return onPacket(state, event.packet, now, effects);
  }
}

function onPacket(state: ServerWriteState, packet: TftpPacket, now: number, effects: TftpEffect[]): Step {
  if (packet.opcode === 'ERROR') {
    return finish(state, 'error', effects, { code: packet.errorCode, message: packet.errorMessage });
  }
  if (packet.opcode !== 'DATA') {
    return fail(
      state,
      TFTP_ERROR_CODES.ILLEGAL_OPERATION,
      `unexpected ${packet.opcode} during a write`,
      effects,
      'error',
    );
  }
  const { config } = state;
  if (state.phase === 'dally') {
    if (packet.block === wireBlock(state.received)) {
      effects.push({ type: 'send', packet: { opcode: 'ACK', block: packet.block } });
    }
    return { state, effects };
  }
  const verdict = receiveData(state, packet.block, packet.data.length, config.blksize, config.windowsize);
  switch (verdict.kind) {
    case 'ignore':
      return { state, effects };
    case 'oversize':
      return fail(state, TFTP_ERROR_CODES.ILLEGAL_OPERATION, 'DATA longer than blksize', effects, 'error');
    case 'reack':
      effects.push({ type: 'send', packet: { opcode: 'ACK', block: wireBlock(verdict.block) } });
      return { state: { ...state, ...verdict.rx }, effects };
    case 'take': {
      const bytes = state.bytes + packet.data.length;
      if (config.maxBytes !== undefined && bytes > config.maxBytes) {
        return fail(state, TFTP_ERROR_CODES.DISK_FULL, 'disk full or allocation exceeded', effects, 'error');
      }
      effects.push({ type: 'data', block: verdict.block, offset: state.bytes, data: packet.data });
      if (verdict.ack)
        effects.push({ type: 'send', packet: { opcode: 'ACK', block: wireBlock(verdict.block) } });
      const next: ServerWriteState = { ...state, ...verdict.rx, bytes, retries: 0 };
      if (verdict.last) {
        if (config.dallyMs <= 0) return finish(next, 'complete', effects);
        return { state: arm({ ...next, phase: 'dally' }, now + config.dallyMs, effects), effects };
      }
      return { state: arm(next, now + backoff(config.retry, 0), effects), effects };
    }
  }
}
