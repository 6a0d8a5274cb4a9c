import type { BootpView } from '@bootpt/protocol/dhcp/index';

/**
 * Constants and small helpers of the responder: requests are read as the protocol codec's `BootpView`
 * (`RequestView` below), replies are described by a `ReplySpec` and encoded by `codec.ts`.
 */

export {
  BOOTREQUEST,
  BOOTREPLY,
  BOOTP_FLAG_BROADCAST as FLAG_BROADCAST,
  DhcpMessageType as DhcpType,
} from '@bootpt/protocol/dhcp/index';

export const Opt = {
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS: 6,
  HOSTNAME: 12,
  DOMAIN_NAME: 15,
  ROOT_PATH: 17,
  BROADCAST: 28,
  VENDOR_SPECIFIC: 43,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAM_REQUEST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_T1: 58,
  REBINDING_T2: 59,
  VENDOR_CLASS: 60,
  CLIENT_ID: 61,
  TFTP_SERVER: 66,
  BOOTFILE: 67,
  USER_CLASS: 77,
  RELAY_AGENT_INFO: 82,
  CLIENT_ARCH: 93,
  CLIENT_NDI: 94,
  CLIENT_UUID: 97,
  IPXE: 175,
} as const;

/**
 * A decoded request: the protocol codec's `BootpView` (addresses as numbers, options concatenated per
 * RFC 3396 with overload resolved, `sname`/`file` up to the first NUL; views into the datagram).
 */
export type RequestView = BootpView;

export interface ReplySpec {
  readonly htype: number;
  readonly hlen: number;
  readonly xid: number;
  readonly flags: number;
  readonly ciaddr: number;
  readonly yiaddr: number;
  readonly siaddr: number;
  readonly giaddr: number;
  readonly chaddr: Uint8Array;
  readonly sname: string;
  readonly file: string;
  /** Options in wire order, option 82 excluded (the encoder writes it last). */
  readonly options: readonly (readonly [number, Uint8Array])[];
  /** Echoed verbatim, written last (RFC 3046 §2.2). */
  readonly relayAgentInfo?: Uint8Array;
  /** `bootp`: a reply without option 53 (the handler sets `maxSize` 300: options in the vend area). */
  readonly format: 'bootp' | 'dhcp';
  /** Largest message to send (at least 300; a DHCP client's option 57 less IP/UDP headers, or 548). */
  readonly maxSize: number;
}

export function u32(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

export function u16(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 255, n & 255);
}

export function readU32(b: Uint8Array | undefined): number | undefined {
  if (!b || b.length !== 4) return undefined;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export function readU16(b: Uint8Array | undefined): number | undefined {
  if (!b || b.length < 2) return undefined;
  return (b[0]! << 8) | b[1]!;
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

const macTexts = new Map<number, string>();
const MAC_TEXTS_MAX = 65_536;

/**
 * The first six octets of `chaddr` as `aa:bb:cc:dd:ee:ff` (what `formatMac` gives). The strings of the
 * last 65,536 distinct MACs are kept: a returning client's MAC costs no new string, and its hash (for
 * the reservation and lease maps) is already computed.
 */
export function macText(chaddr: Uint8Array): string {
  const key =
    (((chaddr[0]! << 8) | chaddr[1]!) >>> 0) * 0x1_0000_0000 +
    (((chaddr[2]! << 24) | (chaddr[3]! << 16) | (chaddr[4]! << 8) | chaddr[5]!) >>> 0);
  let text = macTexts.get(key);
  if (text === undefined) {
    text = `${HEX[chaddr[0]!]}:${HEX[chaddr[1]!]}:${HEX[chaddr[2]!]}:${HEX[chaddr[3]!]}:${HEX[chaddr[4]!]}:${HEX[chaddr[5]!]}`;
    if (macTexts.size >= MAC_TEXTS_MAX) macTexts.clear();
    macTexts.set(key, text);
  }
  return text;
}

export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

export function latin1(b: Uint8Array | undefined): string | undefined {
  if (!b) return undefined;
  let s = '';
  for (const c of b) s += String.fromCharCode(c);
  return s.replace(/\0+$/, '');
}
