/**
 * Stable error codes of the pcap reader. File-level codes end reading (`decodePcap` fails, or stops early
 * and reports `truncated`); frame-level codes only skip one frame (reported in `skipped`).
 */
export const PCAP_DECODE_ERROR_CODES = [
  // file level
  'PCAP_TRUNCATED_HEADER',
  'PCAP_BAD_MAGIC',
  'PCAP_PCAPNG_UNSUPPORTED',
  'PCAP_UNSUPPORTED_VERSION',
  'PCAP_UNSUPPORTED_LINKTYPE',
  'PCAP_TRUNCATED_RECORD_HEADER',
  'PCAP_TRUNCATED_RECORD',
  // frame level
  'PCAP_FRAME_TRUNCATED',
  'PCAP_NOT_IPV4',
  'PCAP_IPV4_BAD_HEADER',
  'PCAP_IPV4_TRUNCATED',
  'PCAP_IPV4_FRAGMENT',
  'PCAP_NOT_UDP',
  'PCAP_UDP_BAD_LENGTH',
] as const;

export type PcapDecodeErrorCode = (typeof PCAP_DECODE_ERROR_CODES)[number];

/** Link-layer header types (tcpdump.org/linktypes.html) this reader understands. */
export const PCAP_LINKTYPE = {
  ETHERNET: 1,
  LINUX_SLL: 113,
  LINUX_SLL2: 276,
} as const;

export type PcapLinkType = (typeof PCAP_LINKTYPE)[keyof typeof PCAP_LINKTYPE];

export function isSupportedLinkType(linkType: number): linkType is PcapLinkType {
  return (
    linkType === PCAP_LINKTYPE.ETHERNET ||
    linkType === PCAP_LINKTYPE.LINUX_SLL ||
    linkType === PCAP_LINKTYPE.LINUX_SLL2
  );
}
