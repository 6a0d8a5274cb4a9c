/**
 * TFTP option names and value formats: blksize (RFC 2348), timeout and tsize (RFC 2349), windowsize
 * (RFC 7440), multicast (RFC 2090) and IBM's sbroadcast (PROTOCOLS.md §4.2, SPEC.md §11).
 */
import { parseIPv4 } from '../wire.js';
import type { TftpOption } from './packet.js';

export const TFTP_OPTION_NAMES = {
  blksize: 'blksize',
  timeout: 'timeout',
  tsize: 'tsize',
  windowsize: 'windowsize',
  multicast: 'multicast',
  sbroadcast: 'sbroadcast',
} as const;

export type TftpKnownOptionName = keyof typeof TFTP_OPTION_NAMES;

/** Value of the first option called `name` (case-insensitive), or undefined. */
export function getTftpOption(options: readonly TftpOption[], name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const o of options) if (o.name.toLowerCase() === wanted) return o.value;
  return undefined;
}

/** Strict unsigned decimal (digits only, no sign or spaces) within [min, max]; null otherwise. */
export function parseDecimal(value: string, min: number, max: number): number | null {
  if (!/^[0-9]{1,15}$/.test(value)) return null;
  const n = Number(value);
  return n >= min && n <= max ? n : null;
}

/*
 * RFC 2090 OACK value:  addr "," port "," mc     e.g. "224.100.100.100,1758,1"
 * Later OACKs to the same client may leave addr and port empty:  ",,1"
 */
export interface MulticastValue {
  readonly address: string | null;
  readonly port: number | null;
  /** `mc` = 1: this client is the master client and sends ACKs. */
  readonly master: boolean;
}

export function parseMulticastValue(value: string): MulticastValue | null {
  const parts = value.split(',');
  if (parts.length !== 3) return null;
  const [addr, port, mc] = parts as [string, string, string];
  if (addr !== '' && parseIPv4(addr) === null) return null;
  const portNumber = port === '' ? null : parseDecimal(port, 1, 65535);
  if (port !== '' && portNumber === null) return null;
  if (mc !== '0' && mc !== '1') return null;
  return { address: addr === '' ? null : addr, port: portNumber, master: mc === '1' };
}

export function formatMulticastValue(v: MulticastValue): string {
  return `${v.address ?? ''},${v.port ?? ''},${v.master ? 1 : 0}`;
}

/*
 * sbroadcast OACK value:  port "," sbid "," master     e.g. "247,3735928559,1"
 * port may be empty in later OACKs; master is "1"/"0" like RFC 2090's mc (our choice, SPEC.md §11).
 */
export interface SbroadcastValue {
  readonly port: number | null;
  readonly sbid: number;
  readonly master: boolean;
}

export function parseSbroadcastValue(value: string): SbroadcastValue | null {
  const parts = value.split(',');
  if (parts.length !== 3) return null;
  const [port, sbid, master] = parts as [string, string, string];
  const portNumber = port === '' ? null : parseDecimal(port, 1, 65535);
  if (port !== '' && portNumber === null) return null;
  const id = parseDecimal(sbid, 0, 0xffffffff);
  if (id === null) return null;
  if (master !== '0' && master !== '1') return null;
  return { port: portNumber, sbid: id, master: master === '1' };
}

export function formatSbroadcastValue(v: SbroadcastValue): string {
  return `${v.port ?? ''},${v.sbid},${v.master ? 1 : 0}`;
}

/** A contiguous netmask in dotted-quad form (the sbroadcast request value), or null. */
export function parseSubnetMask(value: string): string | null {
  const b = parseIPv4(value);
  if (!b) return null;
  const n = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const inverted = ~n >>> 0;
  // Contiguous iff the host part is all ones from the bottom: inverted + 1 is a power of two.
  if ((inverted & (inverted + 1)) !== 0) return null;
  return value;
}
