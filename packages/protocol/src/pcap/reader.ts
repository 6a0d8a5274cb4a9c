/**
 * Classic libpcap files (not pcapng), read from bytes: the UDP datagrams inside them with timestamps.
 * Never throws: a bad file header fails with a `PCAP_*` code; a damaged frame is skipped and reported; a
 * file cut short mid-record keeps everything before the cut and reports where it stopped.
 *
 * Global header (24 bytes), in the writer's byte order, recognised by its magic:
 *
 *  +---------------------------------------------------------------+
 *  | magic  a1b2c3d4 (µs) or a1b23c4d (ns)                         |  0
 *  | version_major (2)             | version_minor (4)             |  4
 *  | thiszone (GMT offset, ignored)                                |  8
 *  | sigfigs (ignored)                                             | 12
 *  | snaplen                                                       | 16
 *  | network: FCS bits(4) | reserved | link type (16 bits)         | 20
 *  +---------------------------------------------------------------+
 *
 * Each record: ts_sec(4) ts_frac(4: µs or ns) incl_len(4) orig_len(4), then incl_len captured bytes.
 */
import type { DecodeError } from '../wire.js';
import type { PcapDecodeErrorCode } from './codes.js';
import { isSupportedLinkType } from './codes.js';
import { decodeFrame } from './frame.js';

export interface PcapHeader {
  readonly byteOrder: 'little' | 'big';
  readonly timestampResolution: 'microsecond' | 'nanosecond';
  readonly versionMajor: number;
  readonly versionMinor: number;
  readonly snaplen: number;
  /** LINKTYPE_* value (low 16 bits of the `network` field). */
  readonly linkType: number;
}

export interface UdpRecord {
  /** 1-based frame number within the file (as Wireshark numbers them; counts skipped frames too). */
  readonly frame: number;
  /** Capture time in seconds since the epoch (fractional; see tsSec/tsNsec for exact values). */
  readonly ts: number;
  readonly tsSec: number;
  readonly tsNsec: number;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly ttl: number;
  /** UDP payload: a view into the input bytes, not a copy. */
  readonly payload: Uint8Array;
  /** Byte offset of the payload within the file. */
  readonly offset: number;
}

export interface PcapSkip {
  readonly frame: number;
  readonly code: PcapDecodeErrorCode;
  /** Byte offset within the file at which the frame was given up. */
  readonly offset: number;
  readonly message: string;
}

export interface PcapDecodeError extends DecodeError {
  readonly code: PcapDecodeErrorCode;
}

export interface PcapCapture {
  readonly header: PcapHeader;
  /** Number of complete records read. */
  readonly frames: number;
  readonly udp: readonly UdpRecord[];
  /** Frames that held no decodable UDP datagram (ARP, IPv6, fragments, TCP, damaged headers). */
  readonly skipped: readonly PcapSkip[];
  /** Set when the file ends mid-record; everything before it was read. */
  readonly truncated: PcapDecodeError | null;
}

/** A `DecodeResult` (see wire.ts) whose error code is one of PCAP_DECODE_ERROR_CODES. */
export type PcapResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: PcapDecodeError };

const MAGIC_MICRO = 0xa1b2c3d4;
const MAGIC_NANO = 0xa1b23c4d;
const PCAPNG_SECTION = 0x0a0d0d0a;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

function pcapFail(
  code: PcapDecodeErrorCode,
  offset: number,
  message: string,
): { readonly ok: false; readonly error: PcapDecodeError } {
  return { ok: false, error: { code, offset, message } };
}

function pcapError(code: PcapDecodeErrorCode, offset: number, message: string): PcapDecodeError {
  return { code, offset, message };
}

/** Decodes the 24-byte global header. */
export function decodePcapHeader(bytes: Uint8Array): PcapResult<PcapHeader> {
  if (bytes.length < GLOBAL_HEADER) {
    return pcapFail(
      'PCAP_TRUNCATED_HEADER',
      bytes.length,
      `pcap header needs ${GLOBAL_HEADER} bytes, got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, GLOBAL_HEADER);
  const big = view.getUint32(0, false);
  const little = view.getUint32(0, true);
  let le: boolean;
  let nano: boolean;
  if (big === MAGIC_MICRO || big === MAGIC_NANO) {
    le = false;
    nano = big === MAGIC_NANO;
  } else if (little === MAGIC_MICRO || little === MAGIC_NANO) {
    le = true;
    nano = little === MAGIC_NANO;
  } else if (big === PCAPNG_SECTION) {
    return pcapFail('PCAP_PCAPNG_UNSUPPORTED', 0, 'pcapng file: write classic pcap (tshark -F pcap)');
  } else {
    return pcapFail('PCAP_BAD_MAGIC', 0, `unknown magic 0x${big.toString(16).padStart(8, '0')}`);
  }
  const versionMajor = view.getUint16(4, le);
  const versionMinor = view.getUint16(6, le);
  if (versionMajor !== 2)
    return pcapFail('PCAP_UNSUPPORTED_VERSION', 4, `pcap version ${versionMajor}.${versionMinor}`);
  const linkType = view.getUint32(20, le) & 0xffff;
  if (!isSupportedLinkType(linkType)) {
    return pcapFail(
      'PCAP_UNSUPPORTED_LINKTYPE',
      20,
      `link type ${linkType} (supported: 1 Ethernet, 113 SLL, 276 SLL2)`,
    );
  }
  return {
    ok: true,
    value: {
      byteOrder: le ? 'little' : 'big',
      timestampResolution: nano ? 'nanosecond' : 'microsecond',
      versionMajor,
      versionMinor,
      snaplen: view.getUint32(16, le),
      linkType,
    },
  };
}

/** Reads every record of a classic pcap file and decodes the IPv4/UDP datagrams in it. Never throws. */
export function decodePcap(bytes: Uint8Array): PcapResult<PcapCapture> {
  const head = decodePcapHeader(bytes);
  if (!head.ok) return head;
  const header = head.value;
  const le = header.byteOrder === 'little';
  const nano = header.timestampResolution === 'nanosecond';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const udp: UdpRecord[] = [];
  const skipped: PcapSkip[] = [];
  let truncated: PcapDecodeError | null = null;
  let frames = 0;
  let at = GLOBAL_HEADER;
  while (at < bytes.length) {
    if (at + RECORD_HEADER > bytes.length) {
      truncated = pcapError(
        'PCAP_TRUNCATED_RECORD_HEADER',
        at,
        `record header needs ${RECORD_HEADER} bytes, ${bytes.length - at} left`,
      );
      break;
    }
    const tsSec = view.getUint32(at, le);
    const tsFrac = view.getUint32(at + 4, le);
    const inclLen = view.getUint32(at + 8, le);
    const dataStart = at + RECORD_HEADER;
    if (inclLen > bytes.length - dataStart) {
      truncated = pcapError(
        'PCAP_TRUNCATED_RECORD',
        at + 8,
        `record of ${inclLen} bytes, ${bytes.length - dataStart} left`,
      );
      break;
    }
    frames++;
    const frame = bytes.subarray(dataStart, dataStart + inclLen);
    const tsNsec = nano ? tsFrac : tsFrac * 1000;
    const decoded = decodeFrame(header.linkType, frame);
    if (decoded.ok) {
      const d = decoded.value;
      udp.push({
        frame: frames,
        ts: tsSec + tsNsec / 1e9,
        tsSec,
        tsNsec,
        src: d.src,
        srcPort: d.srcPort,
        dst: d.dst,
        dstPort: d.dstPort,
        ttl: d.ttl,
        payload: d.payload,
        offset: dataStart + d.payloadOffset,
      });
    } else {
      skipped.push({
        frame: frames,
        code: decoded.code,
        offset: dataStart + decoded.offset,
        message: decoded.message,
      });
    }
    at = dataStart + inclLen;
  }
  return { ok: true, value: { header, frames, udp, skipped, truncated } };
}
