import type { DecodeResult } from '../wire.js';
import { fail, formatIPv4, latin1Decode, ok, parseIPv4, utf8Decode, utf8Encode } from '../wire.js';
import { DhcpEncodeError, DhcpErrorCode } from './codes.js';

/**
 * Encapsulated sub-options (RFC 2132 §8.4 for option 43, RFC 3046 for option 82, iPXE for option 175):
 * the same code(1) len(1) data TLVs as top-level options, inside one (concatenated, RFC 3396) option
 * value. Error offsets are relative to the start of that value.
 */
export interface DhcpSubOption {
  readonly code: number;
  readonly data: Uint8Array;
}

export interface DhcpSubOptionFormat {
  /**
   * Whether code 0 is a one-octet Pad and 255 ends the list (RFC 2132 §8.4: true for 43, and iPXE
   * treats 175 the same). Option 82 sub-options are plain TLVs where every code has a length.
   */
  readonly padEnd: boolean;
}

const PAD_END: DhcpSubOptionFormat = { padEnd: true };
const PLAIN: DhcpSubOptionFormat = { padEnd: false };

/** Decodes a sub-option list. Pad is skipped; with `padEnd`, End stops decoding. Never throws. */
export function decodeDhcpSubOptions(
  data: Uint8Array,
  format: DhcpSubOptionFormat,
): DecodeResult<DhcpSubOption[]> {
  const out: DhcpSubOption[] = [];
  let i = 0;
  while (i < data.length) {
    const code = data[i]!;
    if (format.padEnd && code === 0) {
      i += 1;
      continue;
    }
    if (format.padEnd && code === 255) break;
    if (i + 1 >= data.length) {
      return fail(DhcpErrorCode.SUBOPTION_TRUNCATED, i, `sub-option ${code} has no length octet`);
    }
    const length = data[i + 1]!;
    if (i + 2 + length > data.length) {
      return fail(
        DhcpErrorCode.SUBOPTION_OVERRUN,
        i,
        `sub-option ${code} length ${length} runs past the option`,
      );
    }
    out.push({ code, data: data.slice(i + 2, i + 2 + length) });
    i += 2 + length;
  }
  return ok(out);
}

/** Encodes sub-options in the given order; `end` appends End (255). Throws `DhcpEncodeError`. */
export function encodeDhcpSubOptions(subs: readonly DhcpSubOption[], end = false): Uint8Array {
  let total = end ? 1 : 0;
  for (const s of subs) {
    if (!Number.isInteger(s.code) || s.code < 0 || s.code > 255)
      throw new DhcpEncodeError(`bad sub-option ${s.code}`);
    if (s.data.length > 255) throw new DhcpEncodeError(`sub-option ${s.code} is longer than 255 octets`);
    total += 2 + s.data.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const s of subs) {
    out[at++] = s.code;
    out[at++] = s.data.length;
    out.set(s.data, at);
    at += s.data.length;
  }
  if (end) out[at] = 255;
  return out;
}

export type DhcpSubOptionKind =
  | 'ipv4'
  | 'u8'
  | 'u16'
  | 'string'
  | 'bytes'
  | 'pxe-boot-servers'
  | 'pxe-boot-menu'
  | 'pxe-menu-prompt'
  | 'pxe-boot-item'
  | 'bus-id';

export interface DhcpSubOptionInfo {
  readonly code: number;
  readonly name: string;
  readonly kind: DhcpSubOptionKind;
}

function registry(
  rows: readonly (readonly [number, string, DhcpSubOptionKind])[],
): ReadonlyMap<number, DhcpSubOptionInfo> {
  return new Map(rows.map(([code, name, kind]) => [code, { code, name, kind }]));
}

/** Option 43 sub-options when the vendor class is `PXEClient` (PXE 2.1 spec; iPXE and EDK2 headers). */
export const PXE_SUBOPTIONS = registry([
  [1, 'mtftp-ip', 'ipv4'],
  [2, 'mtftp-client-port', 'u16'],
  [3, 'mtftp-server-port', 'u16'],
  [4, 'mtftp-timeout', 'u8'],
  [5, 'mtftp-delay', 'u8'],
  [6, 'discovery-control', 'u8'],
  [7, 'discovery-multicast-address', 'ipv4'],
  [8, 'boot-servers', 'pxe-boot-servers'],
  [9, 'boot-menu', 'pxe-boot-menu'],
  [10, 'menu-prompt', 'pxe-menu-prompt'],
  [71, 'boot-item', 'pxe-boot-item'],
]);

/** Option 82 sub-options (RFC 3046 and the RFCs that added to it). */
export const RELAY_AGENT_SUBOPTIONS = registry([
  [1, 'circuit-id', 'bytes'],
  [2, 'remote-id', 'bytes'],
  [4, 'docsis-device-class', 'bytes'],
  [5, 'link-selection', 'ipv4'],
  [6, 'subscriber-id', 'string'],
  [7, 'radius-attributes', 'bytes'],
  [8, 'authentication', 'bytes'],
  [9, 'vendor-specific', 'bytes'],
  [10, 'relay-agent-flags', 'u8'],
  [11, 'server-identifier-override', 'ipv4'],
  [12, 'relay-agent-identifier', 'bytes'],
  [151, 'virtual-subnet-selection', 'bytes'],
  [152, 'virtual-subnet-selection-control', 'bytes'],
]);

/**
 * Option 175 sub-options (iPXE `include/ipxe/dhcp.h` and `features.h`). 0x10–0x4f are feature flags
 * a client sends to say what it was built with, e.g. 175.19 (0x13) = HTTP; 175.177 (0xb1) is the bus id.
 */
export const IPXE_SUBOPTIONS = registry([
  [1, 'priority', 'u8'],
  [8, 'keep-san', 'u8'],
  [9, 'skip-san-boot', 'u8'],
  [16, 'pxe-ext', 'u8'],
  [17, 'iscsi', 'u8'],
  [18, 'aoe', 'u8'],
  [19, 'http', 'u8'],
  [20, 'https', 'u8'],
  [21, 'tftp', 'u8'],
  [22, 'ftp', 'u8'],
  [23, 'dns', 'u8'],
  [24, 'bzimage', 'u8'],
  [25, 'multiboot', 'u8'],
  [26, 'slam', 'u8'],
  [27, 'srp', 'u8'],
  [32, 'nbi', 'u8'],
  [33, 'pxe', 'u8'],
  [34, 'elf', 'u8'],
  [35, 'comboot', 'u8'],
  [36, 'efi', 'u8'],
  [37, 'fcoe', 'u8'],
  [38, 'vlan', 'u8'],
  [39, 'menu', 'u8'],
  [40, 'sdi', 'u8'],
  [41, 'nfs', 'u8'],
  [81, 'scriptlet', 'string'],
  [85, 'syslogs', 'string'],
  [90, 'trust', 'bytes'],
  [176, 'no-pxedhcp', 'u8'],
  [177, 'bus-id', 'bus-id'],
  [178, 'use-cached', 'u8'],
  [189, 'bios-drive', 'u8'],
  [190, 'username', 'string'],
  [191, 'password', 'string'],
  [192, 'reverse-username', 'string'],
  [193, 'reverse-password', 'string'],
  [235, 'version', 'string'],
]);

export const PXE_FORMAT = PAD_END;
export const IPXE_FORMAT = PAD_END;
export const RELAY_AGENT_FORMAT = PLAIN;

export function decodePxeOptions(data: Uint8Array): DecodeResult<DhcpSubOption[]> {
  return decodeDhcpSubOptions(data, PXE_FORMAT);
}
/** Option 43 value for PXE, terminated with End as PXE ROMs expect. */
export function encodePxeOptions(subs: readonly DhcpSubOption[]): Uint8Array {
  return encodeDhcpSubOptions(subs, true);
}
export function decodeRelayAgentInfo(data: Uint8Array): DecodeResult<DhcpSubOption[]> {
  return decodeDhcpSubOptions(data, RELAY_AGENT_FORMAT);
}
export function encodeRelayAgentInfo(subs: readonly DhcpSubOption[]): Uint8Array {
  return encodeDhcpSubOptions(subs, false);
}
export function decodeIpxeOptions(data: Uint8Array): DecodeResult<DhcpSubOption[]> {
  return decodeDhcpSubOptions(data, IPXE_FORMAT);
}
export function encodeIpxeOptions(subs: readonly DhcpSubOption[]): Uint8Array {
  return encodeDhcpSubOptions(subs, false);
}

function ipBytes(text: string): Uint8Array {
  const b = parseIPv4(text);
  if (!b) throw new DhcpEncodeError(`not a dotted-quad IPv4 address: ${JSON.stringify(text)}`);
  return b;
}

function u16(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new DhcpEncodeError(`${n} is not in 0..65535`);
  return Uint8Array.of(n >> 8, n & 0xff);
}

/** PXE 43.8: one entry per boot server type. */
export interface PxeBootServer {
  readonly type: number;
  readonly addresses: readonly string[];
}
/** PXE 43.9: one entry per menu item. */
export interface PxeMenuItem {
  readonly type: number;
  readonly description: string;
}

/** Decodes 43.8; null when malformed. */
export function decodePxeBootServers(d: Uint8Array): PxeBootServer[] | null {
  const out: PxeBootServer[] = [];
  let i = 0;
  while (i < d.length) {
    if (i + 3 > d.length) return null;
    const type = (d[i]! << 8) | d[i + 1]!;
    const count = d[i + 2]!;
    if (i + 3 + 4 * count > d.length) return null;
    const addresses: string[] = [];
    for (let k = 0; k < count; k++) addresses.push(formatIPv4(d, i + 3 + 4 * k));
    out.push({ type, addresses });
    i += 3 + 4 * count;
  }
  return out;
}

export function encodePxeBootServers(servers: readonly PxeBootServer[]): Uint8Array {
  const parts: number[] = [];
  for (const s of servers) {
    if (s.addresses.length > 255) throw new DhcpEncodeError('too many boot server addresses');
    parts.push(...u16(s.type), s.addresses.length);
    for (const a of s.addresses) parts.push(...ipBytes(a));
  }
  return Uint8Array.from(parts);
}

/** Decodes 43.9; null when malformed. */
export function decodePxeBootMenu(d: Uint8Array): PxeMenuItem[] | null {
  const out: PxeMenuItem[] = [];
  let i = 0;
  while (i < d.length) {
    if (i + 3 > d.length) return null;
    const n = d[i + 2]!;
    if (i + 3 + n > d.length) return null;
    out.push({ type: (d[i]! << 8) | d[i + 1]!, description: latin1Decode(d, i + 3, i + 3 + n) });
    i += 3 + n;
  }
  return out;
}

export function encodePxeBootMenu(items: readonly PxeMenuItem[]): Uint8Array {
  const parts: number[] = [];
  for (const item of items) {
    const text = utf8Encode(item.description);
    if (text.length > 255) throw new DhcpEncodeError('boot menu description is longer than 255 octets');
    parts.push(...u16(item.type), text.length, ...text);
  }
  return Uint8Array.from(parts);
}

/** Decodes 43.10: timeout (0 = boot first item at once, 255 = menu without timeout) and prompt text. */
export function decodePxeMenuPrompt(d: Uint8Array): { timeout: number; prompt: string } | null {
  if (d.length < 1) return null;
  return { timeout: d[0]!, prompt: utf8Decode(d.subarray(1)) };
}

export function encodePxeMenuPrompt(timeout: number, prompt: string): Uint8Array {
  if (!Number.isInteger(timeout) || timeout < 0 || timeout > 255)
    throw new DhcpEncodeError('timeout is not 0..255');
  return Uint8Array.from([timeout, ...utf8Encode(prompt)]);
}

/** Decodes 43.71 (boot item: server type and layer). */
export function decodePxeBootItem(d: Uint8Array): { type: number; layer: number } | null {
  if (d.length !== 4) return null;
  return { type: (d[0]! << 8) | d[1]!, layer: (d[2]! << 8) | d[3]! };
}

export function encodePxeBootItem(type: number, layer: number): Uint8Array {
  return Uint8Array.from([...u16(type), ...u16(layer)]);
}

/** What a PXE server usually puts in option 43; every field is optional. */
export interface PxeVendorConfig {
  readonly discoveryControl?: number;
  readonly multicastAddress?: string;
  readonly bootServers?: readonly PxeBootServer[];
  readonly bootMenu?: readonly PxeMenuItem[];
  readonly menuPrompt?: { readonly timeout: number; readonly prompt: string };
  readonly bootItem?: { readonly type: number; readonly layer: number };
}

/**
 * Option 43 value for a `PXEClient`: sub-options 6, 7, 8, 9, 10, 71 in that order, then End. The usual
 * "download the file in `file`/67 without a menu" answer is `{ discoveryControl: 8 }` (PROTOCOLS.md §2.6).
 */
export function buildPxeVendorOptions(config: PxeVendorConfig): Uint8Array {
  const subs: DhcpSubOption[] = [];
  if (config.discoveryControl !== undefined) {
    if (
      !Number.isInteger(config.discoveryControl) ||
      config.discoveryControl < 0 ||
      config.discoveryControl > 255
    ) {
      throw new DhcpEncodeError('discoveryControl is not 0..255');
    }
    subs.push({ code: 6, data: Uint8Array.of(config.discoveryControl) });
  }
  if (config.multicastAddress !== undefined) subs.push({ code: 7, data: ipBytes(config.multicastAddress) });
  if (config.bootServers) subs.push({ code: 8, data: encodePxeBootServers(config.bootServers) });
  if (config.bootMenu) subs.push({ code: 9, data: encodePxeBootMenu(config.bootMenu) });
  if (config.menuPrompt) {
    subs.push({ code: 10, data: encodePxeMenuPrompt(config.menuPrompt.timeout, config.menuPrompt.prompt) });
  }
  if (config.bootItem)
    subs.push({ code: 71, data: encodePxeBootItem(config.bootItem.type, config.bootItem.layer) });
  return encodePxeOptions(subs);
}

/** PXE 43.6 discovery-control bits. */
export const PxeDiscoveryControl = {
  NO_BROADCAST: 1,
  NO_MULTICAST: 2,
  ONLY_LISTED_SERVERS: 4,
  /** Download the boot file directly when one is given (skip discovery and prompt). */
  SKIP_DISCOVERY: 8,
} as const;
