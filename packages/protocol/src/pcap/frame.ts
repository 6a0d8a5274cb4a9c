/**
 * One captured frame → the UDP datagram inside it, if any: link layer (Ethernet, Linux cooked SLL/SLL2),
 * IPv4, UDP. Checksums are not verified: captures taken on the sending host carry partial checksums when
 * the NIC (or veth) offloads them.
 */
import { formatIPv4 } from '../wire.js';
import type { PcapDecodeErrorCode } from './codes.js';
import { PCAP_LINKTYPE } from './codes.js';

export interface UdpDatagram {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  /** IPv4 time to live. */
  readonly ttl: number;
  /** Bytes after the UDP header, bounded by the UDP length field (a view into the input, not a copy). */
  readonly payload: Uint8Array;
  /** Offset of the payload within the frame. */
  readonly payloadOffset: number;
}

export type FrameResult =
  | { readonly ok: true; readonly value: UdpDatagram }
  | {
      readonly ok: false;
      readonly code: PcapDecodeErrorCode;
      readonly offset: number;
      readonly message: string;
    };

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const IPPROTO_UDP = 17;

function skip(code: PcapDecodeErrorCode, offset: number, message: string): FrameResult {
  return { ok: false, code, offset, message };
}

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

/**
 * Where the network-layer packet starts and which EtherType it carries, or a skip.
 *
 * Ethernet II (linktype 1):            dst(6) src(6) [0x8100 tci(2)]* type(2)
 * Linux cooked v1, SLL (linktype 113): pkttype(2) hatype(2) halen(2) addr(8) protocol(2)        = 16 bytes
 * Linux cooked v2, SLL2 (linktype 276): protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1)
 *                                       halen(1) addr(8)                                        = 20 bytes
 */
function linkLayer(linkType: number, frame: Uint8Array): { type: number; start: number } | FrameResult {
  switch (linkType) {
    case PCAP_LINKTYPE.ETHERNET: {
      let at = 12;
      // 802.1Q / 802.1ad tags (at most two, as on real wires).
      for (let tags = 0; ; tags++) {
        if (at + 2 > frame.length)
          return skip('PCAP_FRAME_TRUNCATED', Math.min(at, frame.length), 'Ethernet header cut short');
        const type = u16(frame, at);
        if ((type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) && tags < 2) {
          at += 4;
          continue;
        }
        return { type, start: at + 2 };
      }
    }
    case PCAP_LINKTYPE.LINUX_SLL:
      if (frame.length < 16) return skip('PCAP_FRAME_TRUNCATED', frame.length, 'SLL header needs 16 bytes');
      return { type: u16(frame, 14), start: 16 };
    case PCAP_LINKTYPE.LINUX_SLL2:
      if (frame.length < 20) return skip('PCAP_FRAME_TRUNCATED', frame.length, 'SLL2 header needs 20 bytes');
      return { type: u16(frame, 0), start: 20 };
    default:
      return skip('PCAP_UNSUPPORTED_LINKTYPE', 0, `link type ${linkType} not supported`);
  }
}

/**
 * IPv4 header (RFC 791 §3.1) and UDP header (RFC 768):
 *
 *   0       4       8               16      19                      31
 *  +-------+-------+---------------+-------------------------------+
 *  |Version|  IHL  |      TOS      |          Total Length         |
 *  |         Identification        |Flags|    Fragment Offset      |
 *  |  TTL          |   Protocol    |        Header Checksum        |
 *  |                        Source Address                         |
 *  |                     Destination Address                       |
 *  |                  Options (IHL > 5) ...                        |
 *  +---------------------------------------------------------------+
 *  |          Source Port          |       Destination Port        |
 *  |            Length             |           Checksum            |
 *  +---------------------------------------------------------------+
 */
export function decodeFrame(linkType: number, frame: Uint8Array): FrameResult {
  const link = linkLayer(linkType, frame);
  if ('ok' in link) return link;
  if (link.type !== ETHERTYPE_IPV4) {
    return skip(
      'PCAP_NOT_IPV4',
      link.start - 2,
      `EtherType 0x${link.type.toString(16).padStart(4, '0')} is not IPv4`,
    );
  }
  const ip = link.start;
  if (ip + 20 > frame.length) return skip('PCAP_IPV4_TRUNCATED', ip, 'IPv4 header cut short');
  const version = frame[ip]! >> 4;
  const ihl = (frame[ip]! & 0x0f) * 4;
  if (version !== 4) return skip('PCAP_IPV4_BAD_HEADER', ip, `IP version ${version}`);
  if (ihl < 20) return skip('PCAP_IPV4_BAD_HEADER', ip, `IHL ${ihl / 4} below 5`);
  const totalLength = u16(frame, ip + 2);
  if (totalLength < ihl)
    return skip('PCAP_IPV4_BAD_HEADER', ip + 2, `total length ${totalLength} below header length ${ihl}`);
  // Ethernet pads short frames to 60 bytes: the IP total length, not the frame, bounds the packet.
  const ipEnd = ip + totalLength;
  if (ipEnd > frame.length)
    return skip(
      'PCAP_IPV4_TRUNCATED',
      frame.length,
      `IPv4 packet of ${totalLength} bytes cut short (snaplen)`,
    );
  const flagsFragment = u16(frame, ip + 6);
  const moreFragments = (flagsFragment & 0x2000) !== 0;
  const fragmentOffset = flagsFragment & 0x1fff;
  if (moreFragments || fragmentOffset !== 0)
    return skip('PCAP_IPV4_FRAGMENT', ip + 6, `IPv4 fragment (offset ${fragmentOffset * 8})`);
  const protocol = frame[ip + 9]!;
  if (protocol !== IPPROTO_UDP) return skip('PCAP_NOT_UDP', ip + 9, `IP protocol ${protocol} is not UDP`);
  const udp = ip + ihl;
  if (udp + 8 > ipEnd) return skip('PCAP_UDP_BAD_LENGTH', udp, 'UDP header cut short');
  const udpLength = u16(frame, udp + 4);
  if (udpLength < 8 || udp + udpLength > ipEnd) {
    return skip('PCAP_UDP_BAD_LENGTH', udp + 4, `UDP length ${udpLength} outside 8..${ipEnd - udp}`);
  }
  return {
    ok: true,
    value: {
      src: formatIPv4(frame, ip + 12),
      dst: formatIPv4(frame, ip + 16),
      srcPort: u16(frame, udp),
      dstPort: u16(frame, udp + 2),
      ttl: frame[ip + 8]!,
      payload: frame.subarray(udp + 8, udp + udpLength),
      payloadOffset: udp + 8,
    },
  };
}
