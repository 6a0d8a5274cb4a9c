/**
 * The responder's view of one BOOTP/DHCP message, independent of the codec that produced it
 * (`codec.ts` adapts `@bootpt/protocol`). Addresses are unsigned 32-bit integers; options are raw bytes,
 * already concatenated per RFC 3396 and with overload (option 52) resolved.
 */

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const FLAG_BROADCAST = 0x8000;

export const DhcpType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;

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

export interface RequestView {
  readonly op: number;
  readonly htype: number;
  readonly hlen: number;
  readonly hops: number;
  readonly xid: number;
  readonly secs: number;
  readonly flags: number;
  readonly ciaddr: number;
  readonly yiaddr: number;
  readonly siaddr: number;
  readonly giaddr: number;
  /** 16 bytes as on the wire. */
  readonly chaddr: Uint8Array;
  readonly sname: string;
  readonly file: string;
  /** False for klibc-style 236-byte requests and for requests without the RFC 1497 cookie. */
  readonly hasCookie: boolean;
  readonly options: ReadonlyMap<number, Uint8Array>;
  /** Bytes on the wire. */
  readonly size: number;
}

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
