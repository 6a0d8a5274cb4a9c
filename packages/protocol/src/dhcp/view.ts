import type { DecodeResult } from '../wire.js';
import { fail, ok } from '../wire.js';
import { DhcpErrorCode } from './codes.js';
import { checkHeader, hasMagicCookie } from './header.js';
import type { BootpPacket } from './types.js';
import {
  BOOTP_FILE_LENGTH,
  BOOTP_FILE_OFFSET,
  BOOTP_OPTIONS_OFFSET,
  BOOTP_SNAME_LENGTH,
  BOOTP_SNAME_OFFSET,
  DHCP_OPTION_END,
  DHCP_OPTION_PAD,
} from './types.js';

/**
 * A read-only view of one BOOTP/DHCP message, for servers that answer requests rather than re-encode
 * them: addresses are unsigned 32-bit integers, options are already concatenated per code (RFC 3396, in
 * parse order: options field, then an overloaded `file`, then `sname`), and byte fields are views into
 * the input, not copies (`chaddr`: all 16 octets as on the wire).
 */
export interface BootpView extends Pick<
  BootpPacket,
  'op' | 'htype' | 'hlen' | 'hops' | 'xid' | 'secs' | 'flags' | 'chaddr' | 'magicCookie'
> {
  readonly ciaddr: number;
  readonly yiaddr: number;
  readonly siaddr: number;
  readonly giaddr: number;
  /** Text up to the first NUL, one character per octet; '' when the field is overloaded (option 52). */
  readonly sname: string;
  readonly file: string;
  /** Every option but Pad, values concatenated per code; views into the input unless an option repeats. */
  readonly options: ReadonlyMap<number, Uint8Array>;
}

/**
 * Decodes a message into a `BootpView`. Accepts and refuses exactly what `decodeBootp` does, with the
 * same error codes and offsets, but builds no `BootpPacket`: no copy of the input, no address strings, no
 * per-instance objects. The view shares memory with `input`, so the caller must not modify or reuse
 * `input` while it uses the view (Node's dgram gives every datagram a buffer of its own).
 */
export function decodeBootpView(input: Uint8Array): DecodeResult<BootpView> {
  const bad = checkHeader(input);
  if (bad) return bad;
  // A plain Uint8Array over the same memory: subarrays of a Node Buffer would be Buffers (slower to make).
  const b =
    input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, input.length);
  const hasCookie = hasMagicCookie(b);
  const options = new Map<number, Uint8Array>();
  let overload = 0;
  if (hasCookie) {
    const main = collect(b, BOOTP_OPTIONS_OFFSET, b.length, 'options', options);
    if (main !== undefined) return main;
    const o52 = overloadOf(b, options);
    if (o52 < 0) {
      return fail(DhcpErrorCode.BAD_OVERLOAD, -o52, 'option 52 must hold one octet with value 1, 2 or 3');
    }
    overload = o52;
    if (overload & 1) {
      const file = collect(b, BOOTP_FILE_OFFSET, BOOTP_FILE_OFFSET + BOOTP_FILE_LENGTH, 'file', options);
      if (file !== undefined) return file;
    }
    if (overload & 2) {
      const sname = collect(b, BOOTP_SNAME_OFFSET, BOOTP_SNAME_OFFSET + BOOTP_SNAME_LENGTH, 'sname', options);
      if (sname !== undefined) return sname;
    }
  }
  return ok({
    op: b[0]!,
    htype: b[1]!,
    hlen: b[2]!,
    hops: b[3]!,
    xid: u32(b, 4),
    secs: (b[8]! << 8) | b[9]!,
    flags: (b[10]! << 8) | b[11]!,
    ciaddr: u32(b, 12),
    yiaddr: u32(b, 16),
    siaddr: u32(b, 20),
    giaddr: u32(b, 24),
    chaddr: b.subarray(28, 44),
    sname: overload & 2 ? '' : text(b, BOOTP_SNAME_OFFSET, BOOTP_SNAME_LENGTH),
    file: overload & 1 ? '' : text(b, BOOTP_FILE_OFFSET, BOOTP_FILE_LENGTH),
    magicCookie: hasCookie,
    options,
  });
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function text(b: Uint8Array, offset: number, length: number): string {
  let s = '';
  for (let i = offset; i < offset + length; i++) {
    const c = b[i]!;
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Adds the options of area `[start, end)` to `out` (RFC 3396: a repeated code is appended to what is
 * there); the same errors, at the same offsets, as `decodeBootp`.
 */
function collect(
  b: Uint8Array,
  start: number,
  end: number,
  area: 'options' | 'file' | 'sname',
  out: Map<number, Uint8Array>,
): DecodeResult<never> | undefined {
  let i = start;
  while (i < end) {
    const code = b[i]!;
    if (code === DHCP_OPTION_PAD) {
      i += 1;
      continue;
    }
    if (code === DHCP_OPTION_END) return undefined;
    if (i + 1 >= end) {
      return fail(DhcpErrorCode.OPTION_TRUNCATED, i, `option ${code} in ${area} has no length octet`);
    }
    const length = b[i + 1]!;
    if (i + 2 + length > end) {
      return fail(
        DhcpErrorCode.OPTION_OVERRUN,
        i,
        `option ${code} length ${length} runs past the end of ${area} at ${end}`,
      );
    }
    const data = b.subarray(i + 2, i + 2 + length);
    const before = out.get(code);
    if (before === undefined) {
      out.set(code, data);
    } else {
      const joined = new Uint8Array(before.length + length);
      joined.set(before);
      joined.set(data, before.length);
      out.set(code, joined);
    }
    i += 2 + length;
  }
  return undefined;
}

/**
 * Option 52 of the options field: its value (0 when absent), or minus the offset of its first instance
 * when it does not hold exactly one octet with value 1, 2 or 3. Offsets start at 240, so never 0.
 */
function overloadOf(b: Uint8Array, options: ReadonlyMap<number, Uint8Array>): number {
  const value = options.get(52);
  if (value === undefined) return 0;
  if (value.length === 1 && value[0]! >= 1 && value[0]! <= 3) return value[0]!;
  let i = BOOTP_OPTIONS_OFFSET;
  while (b[i] !== 52) i += b[i] === DHCP_OPTION_PAD ? 1 : 2 + b[i + 1]!;
  return -i;
}
