import {
  BOOTP_MIN_LENGTH,
  BOOTREPLY,
  DhcpEncodeError,
  DhcpErrorCode,
  decodeBootpView,
} from '@bootpt/protocol/dhcp/index';
import type { ReplySpec, RequestView } from './packet.js';

/**
 * Adapts `@bootpt/protocol`'s BOOTP/DHCP codec (RFC 951 §3 layout, RFC 2132 options, RFC 3396
 * concatenation, option 52 overload) to the responder's `RequestView` / `ReplySpec`.
 *
 * Decoding never throws and does bounded work: anything over `MAX_REQUEST` octets is refused before the
 * codec sees it. It uses the codec's `decodeBootpView` (no copy of the datagram, no address strings: the
 * request's option values are views into the datagram's own buffer). 236-octet requests without a vend
 * area (klibc ipconfig) and requests without the magic cookie are accepted (then no options are read).
 *
 * Encoding writes the reply in one pass into a buffer of its final size. It never overloads
 * `file`/`sname` (BOOTP clients and PXE ROMs read them as strings, PROTOCOLS.md §2.5): options are
 * written in the given order, split per RFC 3396 when longer than 255 octets, and one that does not fit
 * is left out.
 */

/** Largest request accepted: an Ethernet MTU minus IPv4 and UDP headers. */
export const MAX_REQUEST = 1472;

export type DecodeFailure = 'too_short' | 'oversized' | 'malformed' | 'not_request';

export type DecodedRequest =
  { readonly ok: true; readonly value: RequestView } | { readonly ok: false; readonly reason: DecodeFailure };

export function decodeRequest(data: Uint8Array): DecodedRequest {
  if (data.length > MAX_REQUEST) return { ok: false, reason: 'oversized' };
  const decoded = decodeBootpView(data);
  if (!decoded.ok) {
    switch (decoded.error.code) {
      case DhcpErrorCode.TRUNCATED_HEADER:
        return { ok: false, reason: 'too_short' };
      case DhcpErrorCode.BAD_OP:
        return { ok: false, reason: 'not_request' };
      default:
        return { ok: false, reason: 'malformed' };
    }
  }
  return decoded;
}

export interface EncodedReply {
  readonly bytes: Uint8Array;
  /** Option codes left out because they did not fit (logged; 53/54 come first so always fit). */
  readonly omitted: readonly number[];
}

const COOKIE_AND_END = 4 + 1;
const HEADER = 236;
const OPTIONS_AT = HEADER + 4;

/** Octets `value` takes as option instances of at most 255 octets each (RFC 3396; empty: one instance). */
function wireLength(value: Uint8Array): number {
  return value.length + 2 * Math.max(1, Math.ceil(value.length / 255));
}

function writeInstances(out: Uint8Array, at: number, code: number, value: Uint8Array): number {
  if (value.length <= 16) {
    // Most values are a few octets: a loop beats `set` (and a subarray) at that size.
    out[at] = code;
    out[at + 1] = value.length;
    for (let i = 0; i < value.length; i++) out[at + 2 + i] = value[i]!;
    return at + 2 + value.length;
  }
  let offset = 0;
  do {
    const n = Math.min(255, value.length - offset);
    out[at] = code;
    out[at + 1] = n;
    out.set(n === value.length ? value : value.subarray(offset, offset + n), at + 2);
    at += 2 + n;
    offset += 255;
  } while (offset < value.length);
  return at;
}

function writeText(out: Uint8Array, at: number, name: string, text: string, max: number): void {
  const n = Math.min(text.length, max);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new DhcpEncodeError(`${name} must be a byte string (U+0000..U+00FF)`);
    out[at + i] = c;
  }
}

/**
 * Encodes a BOOTREPLY of at most `maxSize` octets, padded to 300: a plain BOOTP reply gets
 * `maxSize = 300` (options only in the 64-octet vend area). Option 82 is written last when it fits;
 * room for it is kept while the other options are placed. `sname`/`file` keep a terminating NUL.
 */
export function encodeReply(spec: ReplySpec): EncodedReply {
  const limit = Math.max(BOOTP_MIN_LENGTH, spec.maxSize);
  const relay = spec.relayAgentInfo;
  const relayLength = relay ? wireLength(relay) : 0;
  // Pass 1: which options fit (in order, each leaving room for option 82).
  let room = limit - HEADER - COOKIE_AND_END;
  let omitted: number[] | undefined;
  for (const [code, value] of spec.options) {
    if (!Number.isInteger(code) || code < 1 || code > 254)
      throw new DhcpEncodeError(`option code ${code} is not 1..254`);
    const need = wireLength(value);
    if (need + relayLength <= room) room -= need;
    else (omitted ??= []).push(code);
  }
  const withRelay = relay !== undefined && relayLength <= room;
  if (relay !== undefined && !withRelay) (omitted ??= []).push(82);
  const used = limit - HEADER - COOKIE_AND_END - room + (withRelay ? relayLength : 0);
  const out = replyBytes(Math.max(BOOTP_MIN_LENGTH, OPTIONS_AT + used + 1));

  out[0] = BOOTREPLY;
  out[1] = spec.htype;
  out[2] = spec.hlen;
  writeU32(out, 4, spec.xid);
  out[10] = (spec.flags >>> 8) & 255;
  out[11] = spec.flags & 255;
  writeU32(out, 12, spec.ciaddr);
  writeU32(out, 16, spec.yiaddr);
  writeU32(out, 20, spec.siaddr);
  writeU32(out, 24, spec.giaddr);
  out.set(spec.chaddr.length > 16 ? spec.chaddr.subarray(0, 16) : spec.chaddr, 28);
  writeText(out, 44, 'sname', spec.sname, 63);
  writeText(out, 108, 'file', spec.file, 127);
  out[236] = 99;
  out[237] = 130;
  out[238] = 83;
  out[239] = 99;

  // Pass 2: write what pass 1 placed (the same decisions, recomputed rather than stored).
  let at = OPTIONS_AT;
  room = limit - HEADER - COOKIE_AND_END;
  for (const [code, value] of spec.options) {
    const need = wireLength(value);
    if (need + relayLength > room) continue;
    room -= need;
    at = writeInstances(out, at, code, value);
  }
  if (withRelay) at = writeInstances(out, at, 82, relay);
  out[at] = 255;
  return { bytes: out, omitted: omitted ?? NONE };
}

const NONE: readonly number[] = [];

/**
 * Reply buffers are carved from shared zero-filled slabs, front to back, and a region is never handed
 * out twice: a reply is a view that keeps its slab alive until the reply itself is garbage, so a send
 * still queued in the kernel path cannot see its bytes change. A `new Uint8Array` per reply would give
 * every reply its own ArrayBuffer (over 64 octets, typed arrays are stored off the heap), and each
 * young ArrayBuffer costs the next scavenge a sweep and a free(): at 1,000 exchanges/s that sweep was
 * the largest part of the longest scavenge pauses. A slab serves 25-50 replies; 16 KiB keeps what a
 * held reply pins small: a paced offer or one waiting for a lease write keeps its whole slab until it is
 * sent, so held replies pin at most `maxInFlight` slabs (16 MiB at the default 1024; far fewer in
 * practice, as the replies encoded meanwhile fill the same slabs).
 */
const SLAB_SIZE = 16 * 1024;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabUsed = 0;

function replyBytes(size: number): Uint8Array {
  if (size > SLAB_SIZE) return new Uint8Array(size);
  if (slabUsed + size > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, size);
  // The next reply starts on an 8-octet boundary.
  slabUsed += (size + 7) & ~7;
  return out;
}

function writeU32(out: Uint8Array, at: number, n: number): void {
  out[at] = (n >>> 24) & 255;
  out[at + 1] = (n >>> 16) & 255;
  out[at + 2] = (n >>> 8) & 255;
  out[at + 3] = n & 255;
}
