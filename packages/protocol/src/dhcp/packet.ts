import type { DecodeResult } from '../wire.js';
import { fail, formatIPv4, ipv4ToInt, latin1Decode, ok } from '../wire.js';
import { DhcpEncodeError, DhcpErrorCode } from './codes.js';
import { checkHeader, hasMagicCookie } from './header.js';
import type {
  BootpAreaEnding,
  BootpAreaEndings,
  BootpOption,
  BootpPacket,
  BootpOptionArea,
} from './types.js';
import {
  BOOTP_HEADER_LENGTH,
  BOOTP_CHADDR_LENGTH,
  BOOTP_FILE_LENGTH,
  BOOTP_FILE_OFFSET,
  DHCP_MAGIC_COOKIE,
  DHCP_OPTION_END,
  DHCP_OPTION_PAD,
  BOOTP_OPTIONS_OFFSET,
  BOOTP_SNAME_LENGTH,
  BOOTP_SNAME_OFFSET,
} from './types.js';

/*
 * BOOTP/DHCP message (RFC 951 §3, RFC 1542 §2, RFC 2131 §2), all numbers big-endian:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------+---------------+---------------+---------------+
 *  |     op (1)    |   htype (1)   |   hlen (1)    |   hops (1)    |   0
 *  +---------------+---------------+---------------+---------------+
 *  |                            xid (4)                            |   4
 *  +-------------------------------+-------------------------------+
 *  |           secs (2)            |           flags (2)           |   8  (flags bit 15 = B)
 *  +-------------------------------+-------------------------------+
 *  |                          ciaddr  (4)                          |  12
 *  |                          yiaddr  (4)                          |  16
 *  |                          siaddr  (4)                          |  20
 *  |                          giaddr  (4)                          |  24
 *  +---------------------------------------------------------------+
 *  |                          chaddr  (16)                         |  28
 *  |                          sname   (64)                         |  44  (options if 52 has bit 2)
 *  |                          file    (128)                        | 108  (options if 52 has bit 1)
 *  +---------------------------------------------------------------+
 *  |          vend / options (variable; 64 in RFC 951)             | 236
 *  +---------------------------------------------------------------+
 *
 * The options field starts with the magic cookie 63 82 53 63 and holds TLV options: Pad (0) and End
 * (255) are one octet, every other option is code(1) len(1) data(len) (RFC 2132 §2). Parse order is
 * options field, then `file`, then `sname` (RFC 2131 §4.1); repeated codes are concatenated in that order
 * (RFC 3396). A 236-octet request with no vendor area is accepted (klibc ipconfig sends them).
 */

const EMPTY = new Uint8Array(0);

/**
 * Parses one option area `[start, end)` of the decoder's private copy (so views into it are safe to
 * hand out); errors carry absolute offsets.
 */
function parseArea(
  bytes: Uint8Array,
  start: number,
  end: number,
  area: BootpOptionArea,
  out: BootpOption[],
): DecodeResult<BootpAreaEnding> {
  const tag = area === 'options' ? undefined : area;
  let i = start;
  while (i < end) {
    const code = bytes[i]!;
    if (code === DHCP_OPTION_PAD) {
      out.push(tag ? { code, data: EMPTY, area: tag } : { code, data: EMPTY });
      i += 1;
      continue;
    }
    if (code === DHCP_OPTION_END) return ok({ end: true, trailer: bytes.subarray(i + 1, end) });
    if (i + 1 >= end) {
      return fail(DhcpErrorCode.OPTION_TRUNCATED, i, `option ${code} in ${area} has no length octet`);
    }
    const length = bytes[i + 1]!;
    if (i + 2 + length > end) {
      return fail(
        DhcpErrorCode.OPTION_OVERRUN,
        i,
        `option ${code} length ${length} runs past the end of ${area} at ${end}`,
      );
    }
    const data = bytes.subarray(i + 2, i + 2 + length);
    out.push(tag ? { code, data, area: tag } : { code, data });
    i += 2 + length;
  }
  return ok({ end: false, trailer: EMPTY });
}

function isCanonical(ending: BootpAreaEnding): boolean {
  return ending.end && ending.trailer.length === 0;
}

function trimZeros(bytes: Uint8Array): Uint8Array {
  let n = bytes.length;
  while (n > 0 && bytes[n - 1] === 0) n--;
  return n === bytes.length ? bytes : bytes.subarray(0, n);
}

/** A fixed text field as a byte string with trailing NULs removed (lossless given the fixed size). */
function readField(bytes: Uint8Array, offset: number, length: number): string {
  let n = length;
  while (n > 0 && bytes[offset + n - 1] === 0) n--;
  return latin1Decode(bytes, offset, offset + n);
}

/**
 * The value of option 52 found in the options field, or 0. Instances in `file`/`sname` do not count
 * (RFC 2131 §4.1: option 52 MUST be in the options field).
 */
function overloadOf(options: readonly BootpOption[]): { value: number; valid: boolean; index: number } {
  let index = -1;
  let length = 0;
  let value = 0;
  for (let k = 0; k < options.length; k++) {
    const o = options[k]!;
    if (o.code !== 52 || o.area !== undefined) continue;
    if (index < 0) index = k;
    length += o.data.length;
    if (o.data.length > 0) value = o.data[0]!;
  }
  if (index < 0) return { value: 0, valid: true, index };
  return { value, valid: length === 1 && value >= 1 && value <= 3, index };
}

/**
 * Decodes a BOOTP/DHCP message. Never throws; see `DhcpErrorCode` for the errors. The packet's byte
 * fields are views into one private copy of `input`, so later changes to `input` do not affect it.
 */
export function decodeBootp(input: Uint8Array): DecodeResult<BootpPacket> {
  const bad = checkHeader(input);
  if (bad) return bad;
  // A real copy: Buffer#slice (Node) would share memory with a socket buffer that gets reused.
  return decodeValidHeader(new Uint8Array(input));
}

type Building = { -readonly [K in keyof BootpPacket]: BootpPacket[K] };

/** The packet with every field but `vend`/`endings`, as one literal (no spreads: this runs per packet). */
function packetOf(
  bytes: Uint8Array,
  sname: string,
  file: string,
  magicCookie: boolean,
  options: BootpOption[],
): Building {
  return {
    op: bytes[0]!,
    htype: bytes[1]!,
    hlen: bytes[2]!,
    hops: bytes[3]!,
    xid: ((bytes[4]! << 24) | (bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!) >>> 0,
    secs: (bytes[8]! << 8) | bytes[9]!,
    flags: (bytes[10]! << 8) | bytes[11]!,
    ciaddr: formatIPv4(bytes, 12),
    yiaddr: formatIPv4(bytes, 16),
    siaddr: formatIPv4(bytes, 20),
    giaddr: formatIPv4(bytes, 24),
    chaddr: bytes.subarray(28, 28 + BOOTP_CHADDR_LENGTH),
    sname,
    file,
    magicCookie,
    options,
  };
}

function decodeValidHeader(bytes: Uint8Array): DecodeResult<BootpPacket> {
  const hasCookie = hasMagicCookie(bytes);
  if (!hasCookie) {
    const vend = bytes.subarray(BOOTP_HEADER_LENGTH);
    const packet = packetOf(
      bytes,
      readField(bytes, BOOTP_SNAME_OFFSET, BOOTP_SNAME_LENGTH),
      readField(bytes, BOOTP_FILE_OFFSET, BOOTP_FILE_LENGTH),
      false,
      [],
    );
    if (vend.length > 0) packet.vend = vend;
    return ok(packet);
  }

  const options: BootpOption[] = [];
  const main = parseArea(bytes, BOOTP_OPTIONS_OFFSET, bytes.length, 'options', options);
  if (!main.ok) return main;
  const overload = overloadOf(options);
  if (!overload.valid) {
    let offset = BOOTP_OPTIONS_OFFSET;
    for (const o of options.slice(0, overload.index)) offset += instanceLength(o);
    return fail(DhcpErrorCode.BAD_OVERLOAD, offset, 'option 52 must hold one octet with value 1, 2 or 3');
  }
  let endings: { -readonly [K in keyof BootpAreaEndings]: BootpAreaEnding } | undefined;
  if (!isCanonical(main.value)) endings = { options: main.value };
  if (overload.value & 1) {
    const file = parseArea(bytes, BOOTP_FILE_OFFSET, BOOTP_FILE_OFFSET + BOOTP_FILE_LENGTH, 'file', options);
    if (!file.ok) return file;
    const ending = { end: file.value.end, trailer: trimZeros(file.value.trailer) };
    if (!isCanonical(ending)) (endings ??= {}).file = ending;
  }
  if (overload.value & 2) {
    const sname = parseArea(
      bytes,
      BOOTP_SNAME_OFFSET,
      BOOTP_SNAME_OFFSET + BOOTP_SNAME_LENGTH,
      'sname',
      options,
    );
    if (!sname.ok) return sname;
    const ending = { end: sname.value.end, trailer: trimZeros(sname.value.trailer) };
    if (!isCanonical(ending)) (endings ??= {}).sname = ending;
  }
  const packet = packetOf(
    bytes,
    overload.value & 2 ? '' : readField(bytes, BOOTP_SNAME_OFFSET, BOOTP_SNAME_LENGTH),
    overload.value & 1 ? '' : readField(bytes, BOOTP_FILE_OFFSET, BOOTP_FILE_LENGTH),
    true,
    options,
  );
  if (endings) packet.endings = endings;
  return ok(packet);
}

export interface BootpEncodeOptions {
  /**
   * Pad the message with zero octets up to this length. Use 300 (`BOOTP_MIN_LENGTH`) for every reply:
   * BOOTP clients require it (RFC 1542 §2.1) and DHCP clients accept it. Padding lands after End, so a
   * decoded padded packet re-encodes to the same bytes.
   */
  readonly minLength?: number;
  /** Write into this buffer instead of allocating one; the written part is returned as a subarray. */
  readonly buffer?: Uint8Array;
  /** Offset into `buffer` (default 0). */
  readonly offset?: number;
}

const AREA_RANK: Record<BootpOptionArea, number> = { options: 0, file: 1, sname: 2 };
const DEFAULT_ENDING: BootpAreaEnding = { end: true, trailer: EMPTY };

function instanceLength(o: BootpOption): number {
  return o.code === DHCP_OPTION_PAD ? 1 : 2 + o.data.length;
}

interface Layout {
  readonly overload: number;
  readonly mainLength: number;
  /** ciaddr, yiaddr, siaddr, giaddr as unsigned 32-bit numbers. */
  readonly addresses: readonly [number, number, number, number];
}

function ipValue(name: string, text: string): number {
  const value = ipv4ToInt(text);
  if (value === null)
    throw new DhcpEncodeError(`${name} is not a dotted-quad IPv4 address: ${JSON.stringify(text)}`);
  return value;
}

function checkText(name: string, text: string, size: number): void {
  if (text.length > size) throw new DhcpEncodeError(`${name} is longer than ${size} octets`);
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0xff)
      throw new DhcpEncodeError(`${name} must be a byte string (U+0000..U+00FF)`);
  }
}

function checkInt(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new DhcpEncodeError(`${name} must be an integer in 0..${max}, got ${value}`);
  }
}

function areaLength(options: readonly BootpOption[], area: BootpOptionArea, ending: BootpAreaEnding): number {
  let n = 0;
  for (const o of options) if ((o.area ?? 'options') === area) n += instanceLength(o);
  return n + (ending.end ? 1 : 0) + ending.trailer.length;
}

/** Validates what the byte layout depends on; throws `DhcpEncodeError`. */
function layoutOf(packet: BootpPacket): Layout {
  checkInt('op', packet.op, 255);
  checkInt('htype', packet.htype, 255);
  checkInt('hlen', packet.hlen, 255);
  checkInt('hops', packet.hops, 255);
  checkInt('xid', packet.xid, 0xffffffff);
  checkInt('secs', packet.secs, 0xffff);
  checkInt('flags', packet.flags, 0xffff);
  const addresses = [
    ipValue('ciaddr', packet.ciaddr),
    ipValue('yiaddr', packet.yiaddr),
    ipValue('siaddr', packet.siaddr),
    ipValue('giaddr', packet.giaddr),
  ] as const;
  if (packet.chaddr.length > BOOTP_CHADDR_LENGTH)
    throw new DhcpEncodeError('chaddr is longer than 16 octets');
  checkText('sname', packet.sname, BOOTP_SNAME_LENGTH);
  checkText('file', packet.file, BOOTP_FILE_LENGTH);
  if (packet.magicCookie && packet.vend !== undefined) {
    throw new DhcpEncodeError('vend is only for magicCookie: false; put options in options');
  }
  if (!packet.magicCookie) {
    if (packet.options.length > 0) throw new DhcpEncodeError('options need magicCookie: true');
    const vend = packet.vend ?? EMPTY;
    if (vend.length >= 4 && DHCP_MAGIC_COOKIE.every((b, i) => vend[i] === b)) {
      throw new DhcpEncodeError('vend starts with the magic cookie; use magicCookie: true and options');
    }
    return { overload: 0, mainLength: 0, addresses };
  }
  let rank = 0;
  for (const o of packet.options) {
    checkInt('option code', o.code, 254);
    if (o.code === DHCP_OPTION_PAD ? o.data.length !== 0 : o.data.length > 255) {
      throw new DhcpEncodeError(`option ${o.code} has ${o.data.length} data octets`);
    }
    const r = AREA_RANK[o.area ?? 'options'];
    if (r === undefined) throw new DhcpEncodeError(`option ${o.code} has an unknown area`);
    if (r < rank) throw new DhcpEncodeError('options must be in parse order: options field, file, sname');
    rank = r;
  }
  const overload = overloadOf(packet.options);
  if (!overload.valid) throw new DhcpEncodeError('option 52 must hold one octet with value 1, 2 or 3');
  const hasFile = packet.options.some((o) => o.area === 'file');
  const hasSname = packet.options.some((o) => o.area === 'sname');
  if ((hasFile && !(overload.value & 1)) || (hasSname && !(overload.value & 2))) {
    throw new DhcpEncodeError('options in file/sname need option 52 in the options field to say so');
  }
  if (overload.value & 1 && packet.file !== '')
    throw new DhcpEncodeError('file is overloaded; it must be ""');
  if (overload.value & 2 && packet.sname !== '')
    throw new DhcpEncodeError('sname is overloaded; it must be ""');
  for (const [area, size] of [
    ['file', BOOTP_FILE_LENGTH],
    ['sname', BOOTP_SNAME_LENGTH],
  ] as const) {
    if (!(overload.value & (area === 'file' ? 1 : 2))) continue;
    const ending = packet.endings?.[area] ?? DEFAULT_ENDING;
    const n = areaLength(packet.options, area, ending);
    if (n > size || (!ending.end && n !== size)) {
      throw new DhcpEncodeError(`${area} options take ${n} octets; the field holds exactly ${size}`);
    }
  }
  return {
    overload: overload.value,
    mainLength: areaLength(packet.options, 'options', packet.endings?.options ?? DEFAULT_ENDING),
    addresses,
  };
}

function rawLength(packet: BootpPacket, layout: Layout): number {
  if (!packet.magicCookie) return BOOTP_HEADER_LENGTH + (packet.vend?.length ?? 0);
  return BOOTP_OPTIONS_OFFSET + layout.mainLength;
}

/** Number of octets `encodeBootp(packet, opts)` writes. Throws `DhcpEncodeError` like the encoder. */
export function bootpEncodingLength(packet: BootpPacket, opts: BootpEncodeOptions = {}): number {
  return Math.max(rawLength(packet, layoutOf(packet)), opts.minLength ?? 0);
}

function writeU32(out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24;
  out[at + 1] = (n >>> 16) & 255;
  out[at + 2] = (n >>> 8) & 255;
  out[at + 3] = n & 255;
}

function writeText(out: Uint8Array, offset: number, text: string): void {
  for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i);
}

function writeArea(
  out: Uint8Array,
  at: number,
  packet: BootpPacket,
  area: BootpOptionArea,
  ending: BootpAreaEnding,
): number {
  for (const o of packet.options) {
    if ((o.area ?? 'options') !== area) continue;
    out[at++] = o.code;
    if (o.code === DHCP_OPTION_PAD) continue;
    out[at++] = o.data.length;
    out.set(o.data, at);
    at += o.data.length;
  }
  if (ending.end) out[at++] = DHCP_OPTION_END;
  out.set(ending.trailer, at);
  return at + ending.trailer.length;
}

/**
 * Encodes a packet. Deterministic: the same packet always gives the same bytes, and a decoded packet
 * gives back the bytes it was decoded from. Throws `DhcpEncodeError` for a packet that cannot be put on
 * the wire (field out of range, option longer than 255 octets, overloaded field too small, ...).
 */
export function encodeBootp(packet: BootpPacket, opts: BootpEncodeOptions = {}): Uint8Array {
  const layout = layoutOf(packet);
  const length = Math.max(rawLength(packet, layout), opts.minLength ?? 0);
  const offset = opts.offset ?? 0;
  let out: Uint8Array;
  if (opts.buffer) {
    if (offset < 0 || offset + length > opts.buffer.length) throw new DhcpEncodeError('buffer is too small');
    out = opts.buffer.subarray(offset, offset + length);
    out.fill(0);
  } else {
    out = new Uint8Array(length);
  }
  out[0] = packet.op;
  out[1] = packet.htype;
  out[2] = packet.hlen;
  out[3] = packet.hops;
  writeU32(out, 4, packet.xid);
  out[8] = packet.secs >>> 8;
  out[9] = packet.secs & 255;
  out[10] = packet.flags >>> 8;
  out[11] = packet.flags & 255;
  for (let k = 0; k < 4; k++) writeU32(out, 12 + 4 * k, layout.addresses[k]!);
  out.set(packet.chaddr, 28);
  if (layout.overload & 2)
    writeArea(out, BOOTP_SNAME_OFFSET, packet, 'sname', packet.endings?.sname ?? DEFAULT_ENDING);
  else writeText(out, BOOTP_SNAME_OFFSET, packet.sname);
  if (layout.overload & 1)
    writeArea(out, BOOTP_FILE_OFFSET, packet, 'file', packet.endings?.file ?? DEFAULT_ENDING);
  else writeText(out, BOOTP_FILE_OFFSET, packet.file);
  if (!packet.magicCookie) {
    if (packet.vend) out.set(packet.vend, BOOTP_HEADER_LENGTH);
    return out;
  }
  out.set(DHCP_MAGIC_COOKIE, BOOTP_HEADER_LENGTH);
  writeArea(out, BOOTP_OPTIONS_OFFSET, packet, 'options', packet.endings?.options ?? DEFAULT_ENDING);
  return out;
}
