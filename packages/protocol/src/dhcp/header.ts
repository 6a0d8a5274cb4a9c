import type { DecodeResult } from '../wire.js';
import { fail } from '../wire.js';
import { DhcpErrorCode } from './codes.js';
import {
  BOOTP_CHADDR_LENGTH,
  BOOTP_HEADER_LENGTH,
  BOOTP_OPTIONS_OFFSET,
  BOOTREPLY,
  BOOTREQUEST,
  DHCP_MAGIC_COOKIE,
} from './types.js';

/** Internal to the BOOTP decoders (`decodeBootp`, `decodeBootpView`): the fixed-header checks they share. */

const HEADER_FIELDS: readonly (readonly [name: string, offset: number, length: number])[] = [
  ['op', 0, 1],
  ['htype', 1, 1],
  ['hlen', 2, 1],
  ['hops', 3, 1],
  ['xid', 4, 4],
  ['secs', 8, 2],
  ['flags', 10, 2],
  ['ciaddr', 12, 4],
  ['yiaddr', 16, 4],
  ['siaddr', 20, 4],
  ['giaddr', 24, 4],
  ['chaddr', 28, 16],
  ['sname', 44, 64],
  ['file', 108, 128],
];

/** The error for a message that fails the fixed-header checks (length, op, hlen), or undefined. */
export function checkHeader(input: Uint8Array): DecodeResult<never> | undefined {
  if (input.length < BOOTP_HEADER_LENGTH) {
    const field = HEADER_FIELDS.find(([, offset, size]) => offset + size > input.length)!;
    return fail(
      DhcpErrorCode.TRUNCATED_HEADER,
      field[1],
      `BOOTP header needs ${BOOTP_HEADER_LENGTH} octets, got ${input.length}; ${field[0]} is incomplete`,
    );
  }
  const op = input[0]!;
  if (op !== BOOTREQUEST && op !== BOOTREPLY) {
    return fail(DhcpErrorCode.BAD_OP, 0, `op ${op} is neither BOOTREQUEST (1) nor BOOTREPLY (2)`);
  }
  const hlen = input[2]!;
  if (hlen > BOOTP_CHADDR_LENGTH) {
    return fail(
      DhcpErrorCode.BAD_HLEN,
      2,
      `hlen ${hlen} exceeds the ${BOOTP_CHADDR_LENGTH}-octet chaddr field`,
    );
  }
  return undefined;
}

/** Whether the vendor area starts with the DHCP magic cookie 99.130.83.99 (RFC 2131 §3). */
export function hasMagicCookie(b: Uint8Array): boolean {
  return (
    b.length >= BOOTP_OPTIONS_OFFSET &&
    b[236] === DHCP_MAGIC_COOKIE[0] &&
    b[237] === DHCP_MAGIC_COOKIE[1] &&
    b[238] === DHCP_MAGIC_COOKIE[2] &&
    b[239] === DHCP_MAGIC_COOKIE[3]
  );
}
