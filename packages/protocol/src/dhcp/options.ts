import { formatIPv4, parseIPv4, utf8Decode, utf8Encode } from '../wire.js';
import { DhcpEncodeError } from './codes.js';
import type { BootpOption, BootpPacket } from './types.js';
import { DHCP_OPTION_PAD, bootpFieldText } from './types.js';

/** Option codes the boot server works with (RFC 2132 and later RFCs; see `registry.ts` for the full table). */
export const DhcpOption = {
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS_SERVERS: 6,
  HOST_NAME: 12,
  BOOT_FILE_SIZE: 13,
  DOMAIN_NAME: 15,
  ROOT_PATH: 17,
  BROADCAST_ADDRESS: 28,
  VENDOR_SPECIFIC: 43,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_REQUEST_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  VENDOR_CLASS: 60,
  CLIENT_ID: 61,
  TFTP_SERVER_NAME: 66,
  BOOTFILE_NAME: 67,
  USER_CLASS: 77,
  RELAY_AGENT_INFO: 82,
  CLIENT_ARCH: 93,
  CLIENT_NDI: 94,
  CLIENT_UUID: 97,
  IPXE: 175,
} as const;

const EMPTY = new Uint8Array(0);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The value of option `code`: all its instances concatenated in parse order (RFC 3396), or null when the
 * packet does not carry it. Pad (0) is not an option and always gives null.
 */
export function getDhcpOption(packet: BootpPacket, code: number): Uint8Array | null {
  if (code === DHCP_OPTION_PAD) return null;
  const parts: Uint8Array[] = [];
  for (const o of packet.options) if (o.code === code) parts.push(o.data);
  return parts.length === 0 ? null : concat(parts);
}

export function hasDhcpOption(packet: BootpPacket, code: number): boolean {
  return code !== DHCP_OPTION_PAD && packet.options.some((o) => o.code === code);
}

/** Every option's concatenated value (RFC 3396), keyed by code, in order of first appearance; no Pad. */
export function collectDhcpOptions(packet: BootpPacket): Map<number, Uint8Array> {
  const parts = new Map<number, Uint8Array[]>();
  for (const o of packet.options) {
    if (o.code === DHCP_OPTION_PAD) continue;
    const list = parts.get(o.code);
    if (list) list.push(o.data);
    else parts.set(o.code, [o.data]);
  }
  const out = new Map<number, Uint8Array>();
  for (const [code, list] of parts) out.set(code, concat(list));
  return out;
}

/**
 * Splits a value into consecutive instances of at most 255 octets (RFC 3396). An empty value is one
 * empty instance (e.g. rapid commit, option 80).
 */
export function splitDhcpOption(code: number, data: Uint8Array, area?: 'file' | 'sname'): BootpOption[] {
  if (!Number.isInteger(code) || code < 1 || code > 254)
    throw new DhcpEncodeError(`option code ${code} is not 1..254`);
  const out: BootpOption[] = [];
  let at = 0;
  do {
    const chunk = new Uint8Array(data.subarray(at, at + 255));
    out.push(area ? { code, data: chunk, area } : { code, data: chunk });
    at += 255;
  } while (at < data.length);
  return out;
}

const RELAY_AGENT_INFO = 82;

/**
 * Returns a packet with option `code` set to `data` (split per RFC 3396 when longer than 255 octets).
 * Existing instances are replaced in place (in the area of the first one); a new option goes after the
 * last option of the options field, but before option 82, which stays last (RFC 3046 §2.1).
 */
export function setDhcpOption(packet: BootpPacket, code: number, data: Uint8Array): BootpPacket {
  const first = packet.options.findIndex((o) => o.code === code);
  if (first >= 0) {
    const chunks = splitDhcpOption(code, data, packet.options[first]!.area);
    const options: BootpOption[] = [];
    packet.options.forEach((o, k) => {
      if (k === first) options.push(...chunks);
      else if (o.code !== code) options.push(o);
    });
    return { ...packet, options };
  }
  let at = 0;
  for (let k = 0; k < packet.options.length; k++) {
    const o = packet.options[k]!;
    if (o.area !== undefined) break;
    if (o.code !== DHCP_OPTION_PAD && (o.code !== RELAY_AGENT_INFO || code === RELAY_AGENT_INFO)) at = k + 1;
  }
  const options = [...packet.options];
  options.splice(at, 0, ...splitDhcpOption(code, data));
  return { ...packet, options };
}

/** Returns a packet without any instance of option `code`. */
export function removeDhcpOption(packet: BootpPacket, code: number): BootpPacket {
  if (!hasDhcpOption(packet, code)) return packet;
  return { ...packet, options: packet.options.filter((o) => o.code !== code) };
}

/** Typed view of an option value: `decode` returns null when the bytes do not fit the format. */
export interface DhcpOptionCodec<T> {
  decode(data: Uint8Array): T | null;
  encode(value: T): Uint8Array;
}

function uint(width: 1 | 2 | 4): DhcpOptionCodec<number> {
  const max = 2 ** (8 * width) - 1;
  return {
    decode: (d) => {
      if (d.length !== width) return null;
      let n = 0;
      for (const b of d) n = n * 256 + b;
      return n;
    },
    encode: (v) => {
      if (!Number.isInteger(v) || v < 0 || v > max) throw new DhcpEncodeError(`${v} is not in 0..${max}`);
      const out = new Uint8Array(width);
      for (let i = width - 1, n = v; i >= 0; i--, n = Math.floor(n / 256)) out[i] = n % 256;
      return out;
    },
  };
}

function ipv4Bytes(text: string): Uint8Array {
  const b = parseIPv4(text);
  if (!b) throw new DhcpEncodeError(`not a dotted-quad IPv4 address: ${JSON.stringify(text)}`);
  return b;
}

function list<T>(width: number, item: DhcpOptionCodec<T>): DhcpOptionCodec<T[]> {
  return {
    decode: (d) => {
      if (d.length % width !== 0) return null;
      const out: T[] = [];
      for (let i = 0; i < d.length; i += width) out.push(item.decode(d.subarray(i, i + width))!);
      return out;
    },
    encode: (v) => concat(v.length === 0 ? [EMPTY] : v.map((x) => item.encode(x))),
  };
}

const ipv4: DhcpOptionCodec<string> = {
  decode: (d) => (d.length === 4 ? formatIPv4(d) : null),
  encode: ipv4Bytes,
};

/** Strips the trailing NULs some clients send (RFC 2132 §2: receivers must tolerate them). */
function stripNuls(d: Uint8Array): Uint8Array {
  let n = d.length;
  while (n > 0 && d[n - 1] === 0) n--;
  return d.subarray(0, n);
}

/** Value formats for `readDhcpOption` / `writeDhcpOption`. Multi-octet numbers are big-endian. */
export const dhcpOptionCodecs = {
  ipv4,
  ipv4List: list(4, ipv4),
  u8: uint(1),
  u16: uint(2),
  u32: uint(4),
  i32: {
    decode: (d) => (d.length === 4 ? new DataView(d.buffer, d.byteOffset, 4).getInt32(0) : null),
    encode: (v) => {
      if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31)
        throw new DhcpEncodeError(`${v} is not an int32`);
      const out = new Uint8Array(4);
      new DataView(out.buffer).setInt32(0, v);
      return out;
    },
  } satisfies DhcpOptionCodec<number>,
  bool: {
    decode: (d) => (d.length === 1 && d[0]! <= 1 ? d[0] === 1 : null),
    encode: (v) => Uint8Array.of(v ? 1 : 0),
  } satisfies DhcpOptionCodec<boolean>,
  u8List: list(1, uint(1)),
  u16List: list(2, uint(2)),
  /** NVT ASCII / UTF-8 text; trailing NULs are stripped on decode and never written. */
  string: {
    decode: (d) => utf8Decode(stripNuls(d)),
    encode: (v) => utf8Encode(v),
  } satisfies DhcpOptionCodec<string>,
  bytes: { decode: (d) => d, encode: (v) => v } satisfies DhcpOptionCodec<Uint8Array>,
} as const;

/** Reads option `code` through `codec`; null when absent or malformed. */
export function readDhcpOption<T>(packet: BootpPacket, code: number, codec: DhcpOptionCodec<T>): T | null {
  const data = getDhcpOption(packet, code);
  return data === null ? null : codec.decode(data);
}

/** Returns a packet with option `code` set to `codec.encode(value)` (see `setDhcpOption`). */
export function writeDhcpOption<T>(
  packet: BootpPacket,
  code: number,
  codec: DhcpOptionCodec<T>,
  value: T,
): BootpPacket {
  return setDhcpOption(packet, code, codec.encode(value));
}

/** Option 53, or null for a plain BOOTP message (RFC 1534 §2). */
export function getDhcpMessageType(packet: BootpPacket): number | null {
  return readDhcpOption(packet, DhcpOption.MESSAGE_TYPE, dhcpOptionCodecs.u8);
}

export function isDhcp(packet: BootpPacket): boolean {
  return getDhcpMessageType(packet) !== null;
}

/** Option 52 value from the options field (0 = no overload). */
export function getDhcpOverload(packet: BootpPacket): number {
  for (const o of packet.options)
    if (o.code === DhcpOption.OVERLOAD && o.area === undefined) return o.data[0] ?? 0;
  return 0;
}

export function getServerIdentifier(packet: BootpPacket): string | null {
  return readDhcpOption(packet, DhcpOption.SERVER_ID, dhcpOptionCodecs.ipv4);
}

export function getRequestedIp(packet: BootpPacket): string | null {
  return readDhcpOption(packet, DhcpOption.REQUESTED_IP, dhcpOptionCodecs.ipv4);
}

export function getParameterRequestList(packet: BootpPacket): number[] | null {
  return readDhcpOption(packet, DhcpOption.PARAMETER_REQUEST_LIST, dhcpOptionCodecs.u8List);
}

export function getMaxMessageSize(packet: BootpPacket): number | null {
  return readDhcpOption(packet, DhcpOption.MAX_MESSAGE_SIZE, dhcpOptionCodecs.u16);
}

export function getVendorClass(packet: BootpPacket): string | null {
  return readDhcpOption(packet, DhcpOption.VENDOR_CLASS, dhcpOptionCodecs.string);
}

/** Option 61 (RFC 2132 §9.14): type octet (1 = Ethernet) and identifier. */
export function getClientId(packet: BootpPacket): { type: number; id: Uint8Array } | null {
  const d = getDhcpOption(packet, DhcpOption.CLIENT_ID);
  if (!d || d.length < 2) return null;
  return { type: d[0]!, id: d.slice(1) };
}

/** Option 93 (RFC 4578 §2.1): client system architecture codes (see `CLIENT_ARCHITECTURES`). */
export function getClientArch(packet: BootpPacket): number[] | null {
  const list = readDhcpOption(packet, DhcpOption.CLIENT_ARCH, dhcpOptionCodecs.u16List);
  return list && list.length > 0 ? list : null;
}

/** Option 94 (RFC 4578 §2.2): network interface type (1 = UNDI) and version. */
export function getClientNdi(packet: BootpPacket): { type: number; major: number; minor: number } | null {
  const d = getDhcpOption(packet, DhcpOption.CLIENT_NDI);
  if (!d || d.length !== 3) return null;
  return { type: d[0]!, major: d[1]!, minor: d[2]! };
}

/** Option 97 (RFC 4578 §2.3): type 0 and a 16-octet GUID, kept in wire order (byte order is not defined). */
export function getClientUuid(packet: BootpPacket): { type: number; guid: Uint8Array } | null {
  const d = getDhcpOption(packet, DhcpOption.CLIENT_UUID);
  if (!d || d.length !== 17) return null;
  return { type: d[0]!, guid: d.slice(1) };
}

/**
 * Option 77 user classes. RFC 3004 form (`len data` instances) when the value parses that way exactly;
 * otherwise the whole value as one class, which is what iPXE (`iPXE`) and dhclient send.
 */
export function decodeUserClass(d: Uint8Array): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < d.length) {
    const n = d[i]!;
    if (n === 0 || i + 1 + n > d.length) return [utf8Decode(stripNuls(d))];
    out.push(utf8Decode(d.subarray(i + 1, i + 1 + n)));
    i += 1 + n;
  }
  return out.length > 0 ? out : [''];
}

export function getUserClass(packet: BootpPacket): string[] | null {
  const d = getDhcpOption(packet, DhcpOption.USER_CLASS);
  return d ? decodeUserClass(d) : null;
}

/** iPXE identifies itself with user class `iPXE` or with option 175 (PROTOCOLS.md §6.4). */
export function isIpxe(packet: BootpPacket): boolean {
  return hasDhcpOption(packet, DhcpOption.IPXE) || (getUserClass(packet)?.includes('iPXE') ?? false);
}

/** Vendor class starts with `PXEClient` (PXE ROMs and iPXE). */
export function isPxeClient(packet: BootpPacket): boolean {
  return getVendorClass(packet)?.startsWith('PXEClient') ?? false;
}

/** Vendor class starts with `HTTPClient` (UEFI HTTP boot). */
export function isHttpClient(packet: BootpPacket): boolean {
  return getVendorClass(packet)?.startsWith('HTTPClient') ?? false;
}

/** Boot file: option 67 if present (it replaces an overloaded `file`), else the `file` text. */
export function getBootFileName(packet: BootpPacket): string {
  return (
    readDhcpOption(packet, DhcpOption.BOOTFILE_NAME, dhcpOptionCodecs.string) ?? bootpFieldText(packet.file)
  );
}

/** TFTP server name: option 66 if present, else the `sname` text. */
export function getServerName(packet: BootpPacket): string {
  return (
    readDhcpOption(packet, DhcpOption.TFTP_SERVER_NAME, dhcpOptionCodecs.string) ??
    bootpFieldText(packet.sname)
  );
}
