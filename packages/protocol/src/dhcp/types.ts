/**
 * Decoded BOOTP/DHCP packet model.
 *
 * The model is built so that `encodeBootp(decodeBootp(bytes))` reproduces `bytes` exactly for real-world
 * packets: options are kept as raw instances in parse order (pads and RFC 3396 split points included),
 * each tagged with the area that holds it, and everything a canonical encoder would not emit (missing End,
 * bytes after End, garbage after a NUL in `sname`/`file`, a vendor area that is not RFC 1497) is kept too.
 * A hand-built packet needs none of those details: absent means canonical.
 */

/** Where an option instance lives: the options field, or an overloaded `file` / `sname` field (RFC 2131 §4.1). */
export type BootpOptionArea = 'options' | 'file' | 'sname';

/**
 * One option instance as it appears on the wire. Pad (0) instances are kept so that alignment padding
 * between options survives a round trip; they carry no data. End (255) is never an instance: see
 * {@link BootpAreaEnding}. An RFC 3396 long option is several consecutive instances with the same code.
 */
export interface BootpOption {
  readonly code: number;
  readonly data: Uint8Array;
  /** Omitted for the options field; `'file'` or `'sname'` when the instance sits in an overloaded field. */
  readonly area?: 'file' | 'sname';
}

/** How an option area ends, when that differs from the canonical "End, then nothing". */
export interface BootpAreaEnding {
  /** `false` when the area has no End option and its options run to the end of the area. */
  readonly end: boolean;
  /**
   * Bytes after End. For the options field they are kept verbatim (typically zero padding up to 300
   * octets). For an overloaded `file`/`sname` field the zero fill up to the fixed field size is implied,
   * so trailing zero bytes are not stored.
   */
  readonly trailer: Uint8Array;
}

export interface BootpAreaEndings {
  readonly options?: BootpAreaEnding;
  readonly file?: BootpAreaEnding;
  readonly sname?: BootpAreaEnding;
}

/**
 * A BOOTP/DHCP message (RFC 951 §3, RFC 2131 §2). Field names follow the RFCs.
 *
 * `sname` and `file` are byte strings (one character per octet, U+0000–U+00FF) with trailing NULs
 * removed; everything after the first NUL is normally empty, but is kept if a client left garbage there.
 * Use {@link bootpFieldText} for the NUL-terminated text. When a field is overloaded with options it must be
 * the empty string.
 */
export interface BootpPacket {
  readonly op: number;
  readonly htype: number;
  readonly hlen: number;
  readonly hops: number;
  readonly xid: number;
  readonly secs: number;
  readonly flags: number;
  readonly ciaddr: string;
  readonly yiaddr: string;
  readonly siaddr: string;
  readonly giaddr: string;
  /** All 16 octets of the `chaddr` field; the hardware address is the first `hlen` of them. */
  readonly chaddr: Uint8Array;
  readonly sname: string;
  readonly file: string;
  /**
   * `true` when octets 236–239 hold the RFC 1497 magic cookie 99.130.83.99 and options follow.
   * `false` for a 236-octet request without a vendor area, or a vendor area in another format.
   */
  readonly magicCookie: boolean;
  /** The raw vendor area when `magicCookie` is false (empty for a 236-octet packet); ignored otherwise. */
  readonly vend?: Uint8Array;
  /** Option instances in parse order: options field, then `file`, then `sname` (RFC 2131 §4.1). */
  readonly options: readonly BootpOption[];
  /** Non-canonical area endings; omitted when every area ends canonically. */
  readonly endings?: BootpAreaEndings;
}

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
/** Bit 15 of `flags` (RFC 1542 §2.2). */
export const BOOTP_FLAG_BROADCAST = 0x8000;
export const BOOTP_SERVER_PORT = 67;
export const BOOTP_CLIENT_PORT = 68;
export const PXE_SERVER_PORT = 4011;

/** Size of the fixed header, op through file (RFC 951 §3). */
export const BOOTP_HEADER_LENGTH = 236;
/** Header plus the 64-octet `vend` field: the minimum BOOTP message (RFC 1542 §2.1). */
export const BOOTP_MIN_LENGTH = 300;
/** 99.130.83.99 (RFC 1497, RFC 2132 §2). */
export const DHCP_MAGIC_COOKIE: Uint8Array = Uint8Array.of(99, 130, 83, 99);
export const BOOTP_SNAME_OFFSET = 44;
export const BOOTP_SNAME_LENGTH = 64;
export const BOOTP_FILE_OFFSET = 108;
export const BOOTP_FILE_LENGTH = 128;
export const BOOTP_CHADDR_LENGTH = 16;
export const BOOTP_OPTIONS_OFFSET = 240;

export const DHCP_OPTION_PAD = 0;
export const DHCP_OPTION_END = 255;

export const DhcpMessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;
export type DhcpMessageType = (typeof DhcpMessageType)[keyof typeof DhcpMessageType];

/** Option 52 values (RFC 2132 §9.3). */
export const DhcpOverload = { FILE: 1, SNAME: 2, BOTH: 3 } as const;

/** Text of a fixed `sname`/`file` field: the characters before the first NUL. */
export function bootpFieldText(field: string): string {
  const nul = field.indexOf('\0');
  return nul < 0 ? field : field.slice(0, nul);
}
