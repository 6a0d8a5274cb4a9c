import type { ReplySpec, RequestView } from './packet.js';
import { BOOTREPLY } from './packet.js';

/**
 * Wire ⇄ `RequestView`/`ReplySpec` for the responder (RFC 951 §3 layout, RFC 2132 options).
 *
 *   0       1       2       3
 *   op      htype   hlen    hops          (0)
 *   xid (4)                                (4)
 *   secs (2)        flags (2)              (8)
 *   ciaddr (4) yiaddr (4) siaddr (4) giaddr (4)   (12..27)
 *   chaddr (16)                           (28)
 *   sname (64)                            (44)
 *   file (128)                            (108)
 *   vend / options: 63 82 53 63, TLVs ... (236)
 *
 * Decoding never throws and does bounded work (one pass over at most `MAX_REQUEST` octets). It accepts
 * 236-octet requests without a vend area (klibc ipconfig) and requests without the magic cookie (then no
 * options are read). Repeated option codes are concatenated (RFC 3396); option 52 overload is honoured
 * (options, then `file`, then `sname`).
 */

export const MIN_REQUEST = 236;
/** Largest request accepted: an Ethernet MTU minus IPv4 and UDP headers. */
export const MAX_REQUEST = 1472;
const COOKIE = 0x63825363;

export type DecodeFailure = 'too_short' | 'oversized' | 'malformed';

export type DecodedRequest =
  { readonly ok: true; readonly value: RequestView } | { readonly ok: false; readonly reason: DecodeFailure };

export function decodeRequest(data: Uint8Array): DecodedRequest {
  if (data.length < MIN_REQUEST) return { ok: false, reason: 'too_short' };
  if (data.length > MAX_REQUEST) return { ok: false, reason: 'oversized' };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const hlen = data[2]!;
  if (hlen > 16) return { ok: false, reason: 'malformed' };
  const hasCookie = data.length >= 240 && view.getUint32(236) === COOKIE;

  const parts = new Map<number, Uint8Array[]>();
  let overload = 0;
  if (hasCookie) {
    if (!readOptions(data, 240, data.length, parts)) return { ok: false, reason: 'malformed' };
    const ov = parts.get(52)?.[0];
    overload = ov?.length === 1 ? ov[0]! : 0;
    if (overload & 1 && !readOptions(data, 108, 236, parts)) return { ok: false, reason: 'malformed' };
    if (overload & 2 && !readOptions(data, 44, 108, parts)) return { ok: false, reason: 'malformed' };
  }
  const options = new Map<number, Uint8Array>();
  for (const [code, chunks] of parts) options.set(code, chunks.length === 1 ? chunks[0]! : concat(chunks));

  return {
    ok: true,
    value: {
      op: data[0]!,
      htype: data[1]!,
      hlen,
      hops: data[3]!,
      xid: view.getUint32(4),
      secs: view.getUint16(8),
      flags: view.getUint16(10),
      ciaddr: view.getUint32(12),
      yiaddr: view.getUint32(16),
      siaddr: view.getUint32(20),
      giaddr: view.getUint32(24),
      chaddr: data.slice(28, 44),
      sname: overload & 2 ? '' : cString(data, 44, 108),
      file: overload & 1 ? '' : cString(data, 108, 236),
      hasCookie,
      options,
      size: data.length,
    },
  };
}

/** Reads TLVs in [start, end); false when an option runs past `end`. Stops at End (255). */
function readOptions(data: Uint8Array, start: number, end: number, into: Map<number, Uint8Array[]>): boolean {
  let at = start;
  while (at < end) {
    const code = data[at]!;
    if (code === 255) return true;
    if (code === 0) {
      at++;
      continue;
    }
    if (at + 1 >= end) return false;
    const len = data[at + 1]!;
    if (at + 2 + len > end) return false;
    const value = data.subarray(at + 2, at + 2 + len);
    const list = into.get(code);
    if (list) list.push(value);
    else into.set(code, [value]);
    at += 2 + len;
  }
  return true;
}

function cString(data: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end && data[i] !== 0; i++) s += String.fromCharCode(data[i]!);
  return s;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Bytes an option takes on the wire, split into 255-octet instances (RFC 3396). */
function optionLength(value: Uint8Array): number {
  const instances = Math.max(1, Math.ceil(value.length / 255));
  return value.length + 2 * instances;
}

function writeOption(out: Uint8Array, at: number, code: number, value: Uint8Array): number {
  let offset = 0;
  do {
    const len = Math.min(255, value.length - offset);
    out[at++] = code;
    out[at++] = len;
    out.set(value.subarray(offset, offset + len), at);
    at += len;
    offset += len;
  } while (offset < value.length);
  return at;
}

export interface EncodedReply {
  readonly bytes: Uint8Array;
  /** Option codes left out because they did not fit (logged; never 53/54 which come first). */
  readonly omitted: readonly number[];
}

/**
 * Encodes a BOOTREPLY. BOOTP format: exactly 300 octets, options only in the 64-octet vend area, no
 * overload (PROTOCOLS.md §1.1). DHCP format: at most `maxSize` octets, padded to 300. Options are written
 * in the given order; one that does not fit is left out; option 82 goes last when it fits.
 */
export function encodeReply(spec: ReplySpec): EncodedReply {
  const limit = spec.format === 'bootp' ? 300 : Math.max(300, spec.maxSize);
  const buffer = new Uint8Array(limit);
  const view = new DataView(buffer.buffer);
  buffer[0] = BOOTREPLY;
  buffer[1] = spec.htype;
  buffer[2] = spec.hlen;
  buffer[3] = 0;
  view.setUint32(4, spec.xid);
  view.setUint16(8, 0);
  view.setUint16(10, spec.flags);
  view.setUint32(12, spec.ciaddr);
  view.setUint32(16, spec.yiaddr);
  view.setUint32(20, spec.siaddr);
  view.setUint32(24, spec.giaddr);
  buffer.set(spec.chaddr.subarray(0, 16), 28);
  writeCString(buffer, 44, 64, spec.sname);
  writeCString(buffer, 108, 128, spec.file);
  view.setUint32(236, COOKIE);

  const omitted: number[] = [];
  const end = limit - 1; // room for End
  const relayLength = spec.relayAgentInfo ? optionLength(spec.relayAgentInfo) : 0;
  let at = 240;
  for (const [code, value] of spec.options) {
    const need = optionLength(value);
    if (at + need + relayLength <= end) at = writeOption(buffer, at, code, value);
    else omitted.push(code);
  }
  if (spec.relayAgentInfo) {
    if (at + relayLength <= end) at = writeOption(buffer, at, 82, spec.relayAgentInfo);
    else omitted.push(82);
  }
  buffer[at++] = 255;
  const length = Math.max(300, at);
  return { bytes: buffer.subarray(0, length), omitted };
}

function writeCString(out: Uint8Array, at: number, size: number, text: string): void {
  const n = Math.min(text.length, size - 1);
  for (let i = 0; i < n; i++) out[at + i] = text.charCodeAt(i) & 0xff;
}
