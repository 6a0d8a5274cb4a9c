/**
 * Stable error codes of the BOOTP/DHCP codec. Decoders return them in a `DecodeError` together with the
 * byte offset at which decoding gave up; offsets of sub-option errors are relative to the option value.
 */
export const DhcpErrorCode = {
  /** The input ends inside the 236-octet fixed header; offset = first field that does not fit. */
  TRUNCATED_HEADER: 'BOOTP_TRUNCATED_HEADER',
  /** `op` is neither BOOTREQUEST (1) nor BOOTREPLY (2); offset 0. RFC 1542 §2.1: discard. */
  BAD_OP: 'BOOTP_BAD_OP',
  /** `hlen` exceeds the 16-octet `chaddr` field; offset 2. */
  BAD_HLEN: 'BOOTP_BAD_HLEN',
  /** An option code (other than Pad/End) is the last octet of its area, with no length octet. */
  OPTION_TRUNCATED: 'DHCP_OPTION_TRUNCATED',
  /** An option's length runs past the end of its area (packet end, or the end of `file`/`sname`). */
  OPTION_OVERRUN: 'DHCP_OPTION_OVERRUN',
  /** Option 52 in the options field does not hold exactly one octet with value 1, 2 or 3. */
  BAD_OVERLOAD: 'DHCP_BAD_OVERLOAD',
  /** A sub-option code is the last octet of the encapsulating option, with no length octet. */
  SUBOPTION_TRUNCATED: 'DHCP_SUBOPTION_TRUNCATED',
  /** A sub-option's length runs past the end of the encapsulating option. */
  SUBOPTION_OVERRUN: 'DHCP_SUBOPTION_OVERRUN',
} as const;
export type DhcpErrorCode = (typeof DhcpErrorCode)[keyof typeof DhcpErrorCode];

/** Every code `decodeBootp` and the sub-option decoders can return. */
export const DHCP_ERROR_CODES: readonly DhcpErrorCode[] = Object.values(DhcpErrorCode);

/**
 * Thrown by encoders when a packet cannot be represented on the wire (a programming error in the caller,
 * never caused by received bytes).
 */
export class DhcpEncodeError extends RangeError {
  readonly code = 'DHCP_ENCODE_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'DhcpEncodeError';
  }
}
