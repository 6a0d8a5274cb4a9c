/**
 * TFTP packet codec: RFC 1350 (RRQ, WRQ, DATA, ACK, ERROR), RFC 2347 (OACK) and IBM's subnet-broadcast
 * BDATA packet (see SPEC.md §11 for the opcode choice).
 *
 * `decodeTftp` never throws: it returns a `DecodeResult` whose error code is one of `TFTP_DECODE_ERROR_CODES`
 * and whose offset lies within the input. Text fields are Latin-1 (byte = code point). Option names and the
 * transfer mode are case-insensitive on the wire and are lower-cased on decode; option values and file names
 * are kept byte for byte. Options keep their wire order (duplicates included: RFC 2347 allows each option
 * once, and `negotiateOptions` honours the first occurrence).
 */
import { fail, latin1Decode, ok } from '../wire.js';
import type { DecodeResult } from '../wire.js';

export const TFTP_OPCODES = {
  RRQ: 1,
  WRQ: 2,
  DATA: 3,
  ACK: 4,
  ERROR: 5,
  OACK: 6,
  /** Not confirmed by IBM's documentation; our choice, see SPEC.md §11. */
  BDATA: 7,
} as const;

export type TftpOpcodeName = keyof typeof TFTP_OPCODES;

/** ERROR packet codes, RFC 1350 §5 plus RFC 2347's code 8. */
export const TFTP_ERROR_CODES = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_NEGOTIATION: 8,
} as const;

/** Every code `decodeTftp` can return. Stable: callers and logs may match on them. */
export const TFTP_DECODE_ERROR_CODES = [
  'TFTP_TRUNCATED',
  'TFTP_BAD_OPCODE',
  'TFTP_MISSING_NUL',
  'TFTP_EMPTY_FILENAME',
  'TFTP_EMPTY_MODE',
  'TFTP_EMPTY_OPTION_NAME',
  'TFTP_ODD_OPTIONS',
  'TFTP_TRAILING_BYTES',
  'TFTP_DATA_BLOCK_ZERO',
] as const;

export type TftpDecodeErrorCode = (typeof TFTP_DECODE_ERROR_CODES)[number];

export const TFTP_DEFAULT_BLKSIZE = 512;
export const TFTP_MIN_BLKSIZE = 8;
export const TFTP_MAX_BLKSIZE = 65464;
export const TFTP_PORT = 69;
export const TFTP_MULTICAST_PORT = 1758;
export const TFTP_SBROADCAST_PORT = 247;

export interface TftpOption {
  /** Lower-case after decoding; emitted as given when encoding. */
  readonly name: string;
  readonly value: string;
}

/*
 * RRQ / WRQ (RFC 1350 §5, options RFC 2347 §2)
 *
 *   2 bytes    string    1 byte   string   1 byte   string  1 byte  string  1 byte
 *  +--------+-----------+------+----------+------+--------+------+--------+------+ ...
 *  | 01/02  | filename  |  0   |   mode   |  0   |  opt1  |  0   | value1 |  0   | ...
 *  +--------+-----------+------+----------+------+--------+------+--------+------+ ...
 */
export interface TftpRequestPacket {
  readonly opcode: 'RRQ' | 'WRQ';
  readonly filename: string;
  /** `netascii`, `octet` (or obsolete `mail`); lower-cased on decode. */
  readonly mode: string;
  readonly options: readonly TftpOption[];
}

/*
 * DATA (RFC 1350 §5)
 *
 *   2 bytes   2 bytes     n bytes (0..blksize; fewer than blksize ends the transfer)
 *  +--------+---------+------------------+
 *  |   03   | block # |       data       |
 *  +--------+---------+------------------+
 */
export interface TftpDataPacket {
  readonly opcode: 'DATA';
  /** Wire block number 0..65535 (0 only after a rollover). */
  readonly block: number;
  readonly data: Uint8Array;
}

/*
 * ACK (RFC 1350 §5)
 *
 *   2 bytes   2 bytes
 *  +--------+---------+
 *  |   04   | block # |
 *  +--------+---------+
 */
export interface TftpAckPacket {
  readonly opcode: 'ACK';
  readonly block: number;
}

/*
 * ERROR (RFC 1350 §5; code 8 from RFC 2347)
 *
 *   2 bytes   2 bytes      string     1 byte
 *  +--------+-----------+------------+------+
 *  |   05   | ErrorCode |   ErrMsg   |  0   |
 *  +--------+-----------+------------+------+
 */
export interface TftpErrorPacket {
  readonly opcode: 'ERROR';
  readonly errorCode: number;
  readonly errorMessage: string;
}

/*
 * OACK (RFC 2347 §2)
 *
 *   2 bytes   string   1 byte  string   1 byte
 *  +--------+--------+------+--------+------+ ...
 *  |   06   |  opt1  |  0   | value1 |  0   | ...
 *  +--------+--------+------+--------+------+ ...
 */
export interface TftpOackPacket {
  readonly opcode: 'OACK';
  readonly options: readonly TftpOption[];
}

/*
 * BDATA (IBM subnet broadcast, PROTOCOLS.md §4.2; opcode 7 is our choice, see SPEC.md §11)
 *
 *   2 bytes   2 bytes    4 bytes    n bytes (0..blksize)
 *  +--------+---------+-----------+------------------+
 *  |   07   | block # |   sbid    |       data       |
 *  +--------+---------+-----------+------------------+
 */
export interface TftpBdataPacket {
  readonly opcode: 'BDATA';
  readonly block: number;
  /** Subnet-broadcast transfer identifier, 0..4294967295. */
  readonly sbid: number;
  readonly data: Uint8Array;
}

export type TftpPacket =
  TftpRequestPacket | TftpDataPacket | TftpAckPacket | TftpErrorPacket | TftpOackPacket | TftpBdataPacket;

export interface TftpDecodeOptions {
  /**
   * Reject DATA/BDATA with block number 0 (`TFTP_DATA_BLOCK_ZERO`). Off by default because block 0 is the
   * block after 65535 once a transfer rolls over; the state machines judge block numbers in context.
   */
  readonly rejectBlockZero?: boolean;
}

const OPCODE_NAMES: readonly (TftpOpcodeName | undefined)[] = [
  undefined,
  'RRQ',
  'WRQ',
  'DATA',
  'ACK',
  'ERROR',
  'OACK',
  'BDATA',
];

type Strings =
  { readonly ok: true; readonly items: string[] } | { readonly ok: false; readonly offset: number };

/** Splits `bytes[start..end)` into NUL-terminated strings; fails at the first unterminated one. */
function readStrings(bytes: Uint8Array, start: number, end: number): Strings {
  const items: string[] = [];
  let at = start;
  while (at < end) {
    let nul = at;
    while (nul < end && bytes[nul] !== 0) nul++;
    if (nul >= end) return { ok: false, offset: at };
    items.push(latin1Decode(bytes, at, nul));
    at = nul + 1;
  }
  return { ok: true, items };
}

/** Pairs option strings into name/value options; `offsets[i]` is where string i starts (for errors). */
function pairOptions(items: readonly string[], offsets: readonly number[]): DecodeResult<TftpOption[]> {
  if (items.length % 2 !== 0) {
    return fail('TFTP_ODD_OPTIONS', offsets[items.length - 1]!, 'option name without a value');
  }
  const options: TftpOption[] = [];
  for (let i = 0; i < items.length; i += 2) {
    const name = items[i]!;
    if (name.length === 0) return fail('TFTP_EMPTY_OPTION_NAME', offsets[i]!, 'empty option name');
    options.push({ name: name.toLowerCase(), value: items[i + 1]! });
  }
  return ok(options);
}

function stringOffsets(items: readonly string[], start: number): number[] {
  const offsets: number[] = [];
  let at = start;
  for (const s of items) {
    offsets.push(at);
    at += s.length + 1;
  }
  return offsets;
}

/** Decodes one TFTP datagram (UDP payload). Never throws. */
export function decodeTftp(bytes: Uint8Array, options: TftpDecodeOptions = {}): DecodeResult<TftpPacket> {
  const end = bytes.length;
  if (end < 2) return fail('TFTP_TRUNCATED', 0, 'shorter than the 2-octet opcode');
  const code = (bytes[0]! << 8) | bytes[1]!;
  const opcode = OPCODE_NAMES[code];
  if (opcode === undefined) return fail('TFTP_BAD_OPCODE', 0, `unknown opcode ${code}`);
  switch (opcode) {
    case 'RRQ':
    case 'WRQ': {
      const strings = readStrings(bytes, 2, end);
      if (!strings.ok) return fail('TFTP_MISSING_NUL', strings.offset, 'string not NUL-terminated');
      const items = strings.items;
      if (items.length === 0) return fail('TFTP_TRUNCATED', 2, 'request without a file name');
      const offsets = stringOffsets(items, 2);
      if (items[0]!.length === 0) return fail('TFTP_EMPTY_FILENAME', 2, 'empty file name');
      if (items.length < 2) return fail('TFTP_TRUNCATED', end, 'request without a mode');
      if (items[1]!.length === 0) return fail('TFTP_EMPTY_MODE', offsets[1]!, 'empty mode');
      const opts = pairOptions(items.slice(2), offsets.slice(2));
      if (!opts.ok) return opts;
      return ok({ opcode, filename: items[0]!, mode: items[1]!.toLowerCase(), options: opts.value });
    }
    case 'DATA':
    case 'BDATA': {
      const header = opcode === 'DATA' ? 4 : 8;
      if (end < header)
        return fail('TFTP_TRUNCATED', end, `${opcode} shorter than its ${header}-octet header`);
      const block = (bytes[2]! << 8) | bytes[3]!;
      if (block === 0 && options.rejectBlockZero === true) {
        return fail('TFTP_DATA_BLOCK_ZERO', 2, `${opcode} with block number 0`);
      }
      const data = bytes.slice(header, end);
      if (opcode === 'DATA') return ok({ opcode, block, data });
      const sbid = ((bytes[4]! << 24) | (bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!) >>> 0;
      return ok({ opcode, block, sbid, data });
    }
    case 'ACK': {
      if (end < 4) return fail('TFTP_TRUNCATED', end, 'ACK shorter than 4 octets');
      if (end > 4) return fail('TFTP_TRAILING_BYTES', 4, 'octets after the ACK block number');
      return ok({ opcode, block: (bytes[2]! << 8) | bytes[3]! });
    }
    case 'ERROR': {
      if (end < 4) return fail('TFTP_TRUNCATED', end, 'ERROR shorter than 4 octets');
      let nul = 4;
      while (nul < end && bytes[nul] !== 0) nul++;
      if (nul >= end) return fail('TFTP_MISSING_NUL', 4, 'error message not NUL-terminated');
      if (nul + 1 < end) return fail('TFTP_TRAILING_BYTES', nul + 1, 'octets after the error message');
      return ok({
        opcode,
        errorCode: (bytes[2]! << 8) | bytes[3]!,
        errorMessage: latin1Decode(bytes, 4, nul),
      });
    }
    case 'OACK': {
      const strings = readStrings(bytes, 2, end);
      if (!strings.ok) return fail('TFTP_MISSING_NUL', strings.offset, 'string not NUL-terminated');
      const opts = pairOptions(strings.items, stringOffsets(strings.items, 2));
      if (!opts.ok) return opts;
      return ok({ opcode, options: opts.value });
    }
  }
}

/** Thrown by `encodeTftp` for packets that cannot be put on the wire (a programming error, not input). */
export class TftpEncodeError extends Error {
  constructor(
    readonly code: 'TFTP_ENCODE_BAD_TEXT' | 'TFTP_ENCODE_RANGE',
    message: string,
  ) {
    super(message);
    this.name = 'TftpEncodeError';
  }
}

function checkText(text: string, what: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || c > 0xff)
      throw new TftpEncodeError('TFTP_ENCODE_BAD_TEXT', `${what} has NUL or non-Latin-1`);
  }
}

function checkRange(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new TftpEncodeError('TFTP_ENCODE_RANGE', `${what} ${value} outside 0..${max}`);
  }
}

function optionsLength(options: readonly TftpOption[]): number {
  let n = 0;
  for (const o of options) n += o.name.length + o.value.length + 2;
  return n;
}

/** Number of octets `encodeTftp(packet)` produces. */
export function encodingLength(packet: TftpPacket): number {
  switch (packet.opcode) {
    case 'RRQ':
    case 'WRQ':
      return 2 + packet.filename.length + 1 + packet.mode.length + 1 + optionsLength(packet.options);
    case 'DATA':
      return 4 + packet.data.length;
    case 'BDATA':
      return 8 + packet.data.length;
    case 'ACK':
      return 4;
    case 'ERROR':
      return 4 + packet.errorMessage.length + 1;
    case 'OACK':
      return 2 + optionsLength(packet.options);
  }
}

/**
 * Encodes a packet into `target` at `offset` (a fresh buffer when omitted) and returns the encoded bytes
 * (a view of `target`). Throws `TftpEncodeError` on text containing NUL / non-Latin-1 or out-of-range numbers.
 */
export function encodeTftp(packet: TftpPacket, target?: Uint8Array, offset = 0): Uint8Array {
  const length = encodingLength(packet);
  const out = target ?? new Uint8Array(length);
  if (offset < 0 || offset + length > out.length) {
    throw new TftpEncodeError('TFTP_ENCODE_RANGE', 'target buffer too small');
  }
  let at = offset;
  const u16 = (v: number): void => {
    out[at++] = v >>> 8;
    out[at++] = v & 0xff;
  };
  const text = (s: string): void => {
    for (let i = 0; i < s.length; i++) out[at++] = s.charCodeAt(i);
    out[at++] = 0;
  };
  const opts = (options: readonly TftpOption[]): void => {
    for (const o of options) {
      if (o.name.length === 0) throw new TftpEncodeError('TFTP_ENCODE_BAD_TEXT', 'empty option name');
      checkText(o.name, 'option name');
      checkText(o.value, `option ${o.name} value`);
      text(o.name);
      text(o.value);
    }
  };
  u16(TFTP_OPCODES[packet.opcode]);
  switch (packet.opcode) {
    case 'RRQ':
    case 'WRQ':
      if (packet.filename.length === 0 || packet.mode.length === 0) {
        throw new TftpEncodeError('TFTP_ENCODE_BAD_TEXT', 'empty file name or mode');
      }
      checkText(packet.filename, 'filename');
      checkText(packet.mode, 'mode');
      text(packet.filename);
      text(packet.mode);
      opts(packet.options);
      break;
    case 'DATA':
    case 'BDATA':
      checkRange(packet.block, 0xffff, 'block');
      u16(packet.block);
      if (packet.opcode === 'BDATA') {
        checkRange(packet.sbid, 0xffffffff, 'sbid');
        u16(packet.sbid >>> 16);
        u16(packet.sbid & 0xffff);
      }
      out.set(packet.data, at);
      at += packet.data.length;
      break;
    case 'ACK':
      checkRange(packet.block, 0xffff, 'block');
      u16(packet.block);
      break;
    case 'ERROR':
      checkRange(packet.errorCode, 0xffff, 'error code');
      checkText(packet.errorMessage, 'error message');
      u16(packet.errorCode);
      text(packet.errorMessage);
      break;
    case 'OACK':
      opts(packet.options);
      break;
  }
  return out.subarray(offset, offset + length);
}
