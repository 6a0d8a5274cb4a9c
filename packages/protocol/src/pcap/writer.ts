/**
 * Writes classic pcap files and IPv4/UDP frames: for tests, golden files and tools that save what they
 * decoded. Output is deterministic (IP identification 0, DF clear, checksums computed).
 */
import { parseIPv4 } from '../wire.js';
import type { PcapLinkType } from './codes.js';
import { PCAP_LINKTYPE } from './codes.js';

export interface PcapWriteOptions {
  readonly linkType: PcapLinkType;
  readonly byteOrder?: 'little' | 'big';
  readonly timestampResolution?: 'microsecond' | 'nanosecond';
  readonly snaplen?: number;
}

export interface PcapWriteRecord {
  readonly tsSec: number;
  /** Nanoseconds; written as microseconds (truncated) in a microsecond file. */
  readonly tsNsec: number;
  readonly frame: Uint8Array;
  /** Original length on the wire; defaults to the frame length. */
  readonly origLen?: number;
}

export function encodePcap(options: PcapWriteOptions, records: readonly PcapWriteRecord[]): Uint8Array {
  const le = (options.byteOrder ?? 'little') === 'little';
  const nano = options.timestampResolution === 'nanosecond';
  let total = 24;
  for (const r of records) total += 16 + r.frame.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  view.setUint16(4, 2, le);
  view.setUint16(6, 4, le);
  view.setUint32(16, options.snaplen ?? 262144, le);
  view.setUint32(20, options.linkType, le);
  let at = 24;
  for (const r of records) {
    view.setUint32(at, r.tsSec >>> 0, le);
    view.setUint32(at + 4, nano ? r.tsNsec >>> 0 : Math.floor(r.tsNsec / 1000), le);
    view.setUint32(at + 8, r.frame.length, le);
    view.setUint32(at + 12, r.origLen ?? r.frame.length, le);
    out.set(r.frame, at + 16);
    at += 16 + r.frame.length;
  }
  return out;
}

export interface UdpFrameSpec {
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Uint8Array;
  readonly ttl?: number;
  readonly srcMac?: Uint8Array;
  readonly dstMac?: Uint8Array;
}

function checksum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) sum += (bytes[i]! << 8) | (i + 1 < end ? bytes[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** An IPv4 packet carrying one UDP datagram (RFC 791, RFC 768), with valid checksums. */
export function encodeIPv4Udp(spec: UdpFrameSpec): Uint8Array {
  const src = parseIPv4(spec.src);
  const dst = parseIPv4(spec.dst);
  if (!src || !dst) throw new RangeError(`bad IPv4 address: ${spec.src} / ${spec.dst}`);
  const udpLength = 8 + spec.payload.length;
  const out = new Uint8Array(20 + udpLength);
  const view = new DataView(out.buffer);
  out[0] = 0x45;
  view.setUint16(2, out.length);
  out[8] = spec.ttl ?? 64;
  out[9] = 17;
  out.set(src, 12);
  out.set(dst, 16);
  view.setUint16(10, ~checksum(out, 0, 20) & 0xffff);
  view.setUint16(20, spec.srcPort);
  view.setUint16(22, spec.dstPort);
  view.setUint16(24, udpLength);
  out.set(spec.payload, 28);
  const pseudo = checksum(out, 12, 20, 17 + udpLength);
  const udpSum = ~checksum(out, 20, out.length, pseudo) & 0xffff;
  view.setUint16(26, udpSum === 0 ? 0xffff : udpSum);
  return out;
}

/** Wraps an IPv4 packet in the link-layer header of `linkType` (EtherType/protocol 0x0800). */
export function encodeLinkFrame(
  linkType: PcapLinkType,
  ipPacket: Uint8Array,
  spec: Pick<UdpFrameSpec, 'srcMac' | 'dstMac'> = {},
): Uint8Array {
  const srcMac = spec.srcMac ?? Uint8Array.of(2, 0, 0, 0, 0, 1);
  const dstMac = spec.dstMac ?? Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
  switch (linkType) {
    case PCAP_LINKTYPE.ETHERNET: {
      const out = new Uint8Array(14 + ipPacket.length);
      out.set(dstMac, 0);
      out.set(srcMac, 6);
      out[12] = 0x08;
      out.set(ipPacket, 14);
      return out;
    }
    case PCAP_LINKTYPE.LINUX_SLL: {
      const out = new Uint8Array(16 + ipPacket.length);
      out[1] = 4; // sent by us
      out[3] = 1; // ARPHRD_ETHER
      out[5] = 6;
      out.set(srcMac, 6);
      out[14] = 0x08;
      out.set(ipPacket, 16);
      return out;
    }
    case PCAP_LINKTYPE.LINUX_SLL2: {
      const out = new Uint8Array(20 + ipPacket.length);
      out[0] = 0x08;
      out[7] = 2; // interface index
      out[9] = 1; // ARPHRD_ETHER
      out[10] = 4;
      out[11] = 6;
      out.set(srcMac, 12);
      out.set(ipPacket, 20);
      return out;
    }
  }
}
