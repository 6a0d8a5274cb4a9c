import {
  BOOTP_MIN_LENGTH,
  BOOTREPLY,
  DhcpErrorCode,
  decodeBootp,
  encodeBootp,
  type BootpOption,
  type BootpPacket,
} from '@bootpt/protocol/dhcp/index';
import type { ReplySpec, RequestView } from './packet.js';

/**
 * Adapts `@bootpt/protocol`'s BOOTP/DHCP codec (RFC 951 §3 layout, RFC 2132 options, RFC 3396
 * concatenation, option 52 overload) to the responder's `RequestView` / `ReplySpec`.
 *
 * Decoding never throws and does bounded work: anything over `MAX_REQUEST` octets is refused before the
 * codec sees it. 236-octet requests without a vend area (klibc ipconfig) and requests without the magic
 * cookie are accepted (then no options are read).
 *
 * Encoding never overloads `file`/`sname` (BOOTP clients and PXE ROMs read them as strings,
 * PROTOCOLS.md §2.5): options are written in the given order and one that does not fit is left out.
 */

/** Largest request accepted: an Ethernet MTU minus IPv4 and UDP headers. */
export const MAX_REQUEST = 1472;

export type DecodeFailure = 'too_short' | 'oversized' | 'malformed' | 'not_request';

export type DecodedRequest =
  { readonly ok: true; readonly value: RequestView } | { readonly ok: false; readonly reason: DecodeFailure };

export function decodeRequest(data: Uint8Array): DecodedRequest {
  if (data.length > MAX_REQUEST) return { ok: false, reason: 'oversized' };
  const decoded = decodeBootp(data);
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
  const p = decoded.value;
  // Header addresses straight from the wire (fixed RFC 951 offsets) rather than re-parsing the codec's
  // dotted-quad strings: this runs for every packet.
  const header = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return {
    ok: true,
    value: {
      op: p.op,
      htype: p.htype,
      hlen: p.hlen,
      hops: p.hops,
      xid: p.xid,
      secs: p.secs,
      flags: p.flags,
      ciaddr: header.getUint32(12),
      yiaddr: header.getUint32(16),
      siaddr: header.getUint32(20),
      giaddr: header.getUint32(24),
      chaddr: p.chaddr,
      sname: beforeNul(p.sname),
      file: beforeNul(p.file),
      hasCookie: p.magicCookie,
      options: p.magicCookie ? concatenated(p.options) : new Map(),
      size: data.length,
    },
  };
}

function beforeNul(field: string): string {
  const nul = field.indexOf('\0');
  return nul < 0 ? field : field.slice(0, nul);
}

/** Every option's value, instances of one code concatenated in parse order (RFC 3396); Pad skipped. */
function concatenated(options: readonly BootpOption[]): Map<number, Uint8Array> {
  const parts = new Map<number, Uint8Array[]>();
  for (const o of options) {
    if (o.code === 0) continue;
    const list = parts.get(o.code);
    if (list) list.push(o.data);
    else parts.set(o.code, [o.data]);
  }
  const out = new Map<number, Uint8Array>();
  for (const [code, list] of parts) {
    if (list.length === 1) {
      out.set(code, list[0]!);
      continue;
    }
    const joined = new Uint8Array(list.reduce((n, d) => n + d.length, 0));
    let at = 0;
    for (const d of list) {
      joined.set(d, at);
      at += d.length;
    }
    out.set(code, joined);
  }
  return out;
}

/** A value as consecutive instances of at most 255 octets (RFC 3396). */
function instances(code: number, value: Uint8Array): BootpOption[] {
  if (value.length <= 255) return [{ code, data: value }];
  const out: BootpOption[] = [];
  let offset = 0;
  do {
    out.push({ code, data: value.subarray(offset, offset + 255) });
    offset += 255;
  } while (offset < value.length);
  return out;
}

export interface EncodedReply {
  readonly bytes: Uint8Array;
  /** Option codes left out because they did not fit (logged; 53/54 come first so always fit). */
  readonly omitted: readonly number[];
}

const COOKIE_AND_END = 4 + 1;
const HEADER = 236;

function wireLength(parts: readonly BootpOption[]): number {
  let n = 0;
  for (const o of parts) n += 2 + o.data.length;
  return n;
}

/**
 * Encodes a BOOTREPLY of at most `maxSize` octets, padded to 300: a plain BOOTP reply gets
 * `maxSize = 300` (options only in the 64-octet vend area). Option 82 is written last when it fits.
 */
export function encodeReply(spec: ReplySpec): EncodedReply {
  const limit = Math.max(BOOTP_MIN_LENGTH, spec.maxSize);
  let room = limit - HEADER - COOKIE_AND_END;
  const relay = spec.relayAgentInfo ? instances(82, spec.relayAgentInfo) : [];
  const relayLength = wireLength(relay);
  const options: BootpOption[] = [];
  const omitted: number[] = [];
  for (const [code, value] of spec.options) {
    const parts = instances(code, value);
    const need = wireLength(parts);
    if (need + relayLength <= room) {
      options.push(...parts);
      room -= need;
    } else {
      omitted.push(code);
    }
  }
  if (relay.length > 0) {
    if (relayLength <= room) options.push(...relay);
    else omitted.push(82);
  }
  const packet: BootpPacket = {
    op: BOOTREPLY,
    htype: spec.htype,
    hlen: spec.hlen,
    hops: 0,
    xid: spec.xid,
    secs: 0,
    flags: spec.flags,
    // Written below straight into the fixed header (saves four format/parse round trips per reply).
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: spec.chaddr.subarray(0, 16),
    sname: spec.sname.slice(0, 63),
    file: spec.file.slice(0, 127),
    magicCookie: true,
    options,
  };
  const bytes = encodeBootp(packet, { minLength: BOOTP_MIN_LENGTH });
  const header = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  header.setUint32(12, spec.ciaddr);
  header.setUint32(16, spec.yiaddr);
  header.setUint32(20, spec.siaddr);
  header.setUint32(24, spec.giaddr);
  return { bytes, omitted };
}
