import { formatIPv4, formatMac, latin1Encode, toHex, utf8Decode } from '../wire.js';
import { collectDhcpOptions, decodeUserClass, getDhcpMessageType, getVendorClass } from './options.js';
import type { DhcpOptionKind } from './registry.js';
import {
  CLIENT_ARCHITECTURES,
  DHCP_MESSAGE_TYPE_NAMES,
  DHCP_OPTION_REGISTRY,
  dhcpOptionName,
} from './registry.js';
import type { DhcpSubOptionInfo, DhcpSubOptionKind } from './suboptions.js';
import {
  IPXE_FORMAT,
  IPXE_SUBOPTIONS,
  PXE_FORMAT,
  PXE_SUBOPTIONS,
  RELAY_AGENT_FORMAT,
  RELAY_AGENT_SUBOPTIONS,
  decodePxeBootItem,
  decodePxeBootMenu,
  decodePxeBootServers,
  decodePxeMenuPrompt,
  decodeDhcpSubOptions,
} from './suboptions.js';
import type { DhcpSubOptionFormat } from './suboptions.js';
import type { BootpPacket } from './types.js';
import { bootpFieldText } from './types.js';

export type BootpJsonValue =
  string | number | boolean | null | BootpJsonValue[] | { [key: string]: BootpJsonValue };

export interface BootpJsonOption {
  readonly code: number;
  readonly name: string;
  readonly value: BootpJsonValue;
}

/** The JSON shape `bootpt-decode` prints for a BOOTP/DHCP packet. */
export interface BootpJson {
  readonly proto: 'bootp';
  readonly op: number;
  readonly htype: number;
  readonly hlen: number;
  readonly hops: number;
  /** `0x` and 8 lower-case hex digits. */
  readonly xid: string;
  readonly secs: number;
  readonly flags: number;
  readonly ciaddr: string;
  readonly yiaddr: string;
  readonly siaddr: string;
  readonly giaddr: string;
  /** First `hlen` octets of `chaddr`, `aa:bb:cc:dd:ee:ff`. */
  readonly chaddr: string;
  /** Text before the first NUL; empty when the field is overloaded with options. */
  readonly sname: string;
  readonly file: string;
  readonly msgType: number | null;
  readonly options: BootpJsonOption[];
}

function stripNuls(d: Uint8Array): Uint8Array {
  let n = d.length;
  while (n > 0 && d[n - 1] === 0) n--;
  return d.subarray(0, n);
}

function u(d: Uint8Array): number {
  let n = 0;
  for (const b of d) n = n * 256 + b;
  return n;
}

function ipList(d: Uint8Array): string[] | null {
  if (d.length % 4 !== 0) return null;
  const out: string[] = [];
  for (let i = 0; i < d.length; i += 4) out.push(formatIPv4(d, i));
  return out;
}

/** RFC 3442: width(1), ceil(width/8) significant destination octets, router(4); repeated. */
function classlessRoutes(d: Uint8Array): BootpJsonValue {
  const out: BootpJsonValue[] = [];
  let i = 0;
  while (i < d.length) {
    const width = d[i]!;
    const n = Math.ceil(width / 8);
    if (width > 32 || i + 1 + n + 4 > d.length) return null;
    const dest = new Uint8Array(4);
    dest.set(d.subarray(i + 1, i + 1 + n));
    out.push({ destination: `${formatIPv4(dest)}/${width}`, router: formatIPv4(d, i + 1 + n) });
    i += 1 + n + 4;
  }
  return out;
}

function guidText(g: Uint8Array): string {
  const h = toHex(g);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function subOptions(
  d: Uint8Array,
  format: DhcpSubOptionFormat,
  names: ReadonlyMap<number, DhcpSubOptionInfo> | null,
): BootpJsonValue {
  const decoded = decodeDhcpSubOptions(d, format);
  if (!decoded.ok) return null;
  return decoded.value.map((s) => {
    const info = names?.get(s.code);
    return {
      code: s.code,
      name: info?.name ?? 'unknown',
      value: subValue(info?.kind ?? 'bytes', s.data) ?? toHex(s.data),
    };
  });
}

function subValue(kind: DhcpSubOptionKind, d: Uint8Array): BootpJsonValue {
  switch (kind) {
    case 'ipv4':
      return d.length === 4 ? formatIPv4(d) : null;
    case 'u8':
      return d.length === 1 ? d[0]! : null;
    case 'u16':
      return d.length === 2 ? u(d) : null;
    case 'string':
      return utf8Decode(stripNuls(d));
    case 'bytes':
      return toHex(d);
    case 'pxe-boot-servers':
      return decodePxeBootServers(d)?.map((s) => ({ type: s.type, addresses: [...s.addresses] })) ?? null;
    case 'pxe-boot-menu':
      return decodePxeBootMenu(d)?.map((m) => ({ type: m.type, description: m.description })) ?? null;
    case 'pxe-menu-prompt':
      return decodePxeMenuPrompt(d);
    case 'pxe-boot-item':
      return decodePxeBootItem(d);
    case 'bus-id':
      return d.length === 5 && d[0] === 1
        ? { bus: 'pci', vendor: `0x${toHex(d.subarray(1, 3))}`, device: `0x${toHex(d.subarray(3, 5))}` }
        : null;
  }
}

/** JSON value of one (concatenated) option. Falls back to hex when the bytes do not fit the format. */
export function dhcpOptionJsonValue(
  code: number,
  data: Uint8Array,
  vendorClass: string | null = null,
): BootpJsonValue {
  const kind: DhcpOptionKind = DHCP_OPTION_REGISTRY.get(code)?.kind ?? 'bytes';
  return kindValue(kind, data, vendorClass) ?? toHex(data);
}

function kindValue(kind: DhcpOptionKind, d: Uint8Array, vendorClass: string | null): BootpJsonValue {
  switch (kind) {
    case 'ipv4':
      return d.length === 4 ? formatIPv4(d) : null;
    case 'ipv4-list':
      return d.length > 0 ? ipList(d) : null;
    case 'ipv4-pairs': {
      const ips = d.length % 8 === 0 && d.length > 0 ? ipList(d) : null;
      return ips ? ips.flatMap((ip, k) => (k % 2 === 0 ? [[ip, ips[k + 1]!]] : [])) : null;
    }
    case 'u8':
      return d.length === 1 ? d[0]! : null;
    case 'u16':
      return d.length === 2 ? u(d) : null;
    case 'u32':
      return d.length === 4 ? u(d) : null;
    case 'i32':
      return d.length === 4 ? new DataView(d.buffer, d.byteOffset, 4).getInt32(0) : null;
    case 'bool':
      return d.length === 1 && d[0]! <= 1 ? d[0] === 1 : null;
    case 'u16-list': {
      if (d.length % 2 !== 0 || d.length === 0) return null;
      const out: number[] = [];
      for (let i = 0; i < d.length; i += 2) out.push(u(d.subarray(i, i + 2)));
      return out;
    }
    case 'string':
      return utf8Decode(stripNuls(d));
    case 'bytes':
      return toHex(d);
    case 'codes':
      return [...d];
    case 'message-type':
      return d.length === 1 ? (DHCP_MESSAGE_TYPE_NAMES.get(d[0]!) ?? d[0]!) : null;
    case 'client-id':
      if (d.length < 2) return null;
      return { type: d[0]!, id: d[0] === 1 && d.length === 7 ? formatMac(d, 1, 6) : toHex(d.subarray(1)) };
    case 'user-class':
      return decodeUserClass(d);
    case 'client-arch': {
      if (d.length % 2 !== 0 || d.length === 0) return null;
      const out: BootpJsonValue[] = [];
      for (let i = 0; i < d.length; i += 2) {
        const arch = u(d.subarray(i, i + 2));
        out.push({ code: arch, name: CLIENT_ARCHITECTURES.get(arch) ?? 'unknown' });
      }
      return out;
    }
    case 'client-ndi':
      return d.length === 3 ? { type: d[0]!, major: d[1]!, minor: d[2]! } : null;
    case 'client-uuid':
      return d.length === 17 ? { type: d[0]!, guid: guidText(d.subarray(1)) } : null;
    case 'classless-routes':
      return classlessRoutes(d);
    case 'pxe-vendor':
      return subOptions(d, PXE_FORMAT, vendorClass?.startsWith('PXEClient') ? PXE_SUBOPTIONS : null);
    case 'relay-agent':
      return subOptions(d, RELAY_AGENT_FORMAT, RELAY_AGENT_SUBOPTIONS);
    case 'ipxe':
      return subOptions(d, IPXE_FORMAT, IPXE_SUBOPTIONS);
  }
}

/**
 * Human-readable JSON of a packet. Options appear once per code, in order of first appearance (parse
 * order: options field, `file`, `sname`), with RFC 3396 instances concatenated; Pad is left out. Values
 * follow the registry kind: IPv4 strings, numbers, text, nested sub-options for 43/82/175 (43 gets PXE
 * names only when option 60 starts with `PXEClient`), and lower-case hex for unknown or malformed values.
 */
export function renderBootpJson(packet: BootpPacket): BootpJson {
  const vendorClass = getVendorClass(packet);
  const options: BootpJsonOption[] = [];
  for (const [code, data] of collectDhcpOptions(packet)) {
    options.push({ code, name: dhcpOptionName(code), value: dhcpOptionJsonValue(code, data, vendorClass) });
  }
  return {
    proto: 'bootp',
    op: packet.op,
    htype: packet.htype,
    hlen: packet.hlen,
    hops: packet.hops,
    xid: `0x${packet.xid.toString(16).padStart(8, '0')}`,
    secs: packet.secs,
    flags: packet.flags,
    ciaddr: packet.ciaddr,
    yiaddr: packet.yiaddr,
    siaddr: packet.siaddr,
    giaddr: packet.giaddr,
    chaddr: formatMac(packet.chaddr, 0, Math.min(packet.hlen, packet.chaddr.length)),
    sname: utf8Decode(latin1Encode(bootpFieldText(packet.sname))),
    file: utf8Decode(latin1Encode(bootpFieldText(packet.file))),
    msgType: getDhcpMessageType(packet),
    options,
  };
}
