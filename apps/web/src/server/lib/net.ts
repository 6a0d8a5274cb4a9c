/**
 * IPv4, CIDR and MAC helpers for inventory validation. Pure: no I/O. Addresses are handled as unsigned
 * 32-bit numbers so containment and range checks are plain comparisons.
 */

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIpv4(text: string): number | null {
  const parts = text.trim().split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return null;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  network: number;
  prefix: number;
  /** Last address of the block (the directed broadcast address for prefixes up to /30). */
  last: number;
}

export type CidrResult = { ok: true; cidr: Cidr } | { ok: false; reason: string };

/** Parses `a.b.c.d/n`; the host bits must be zero (a network, not an interface address). */
export function parseCidr(text: string): CidrResult {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) return { ok: false, reason: 'must be an IPv4 network in CIDR notation, e.g. 10.0.0.0/24' };
  const addr = parseIpv4(m[1]!);
  const prefix = Number(m[2]);
  if (addr === null) return { ok: false, reason: `${m[1]} is not an IPv4 address` };
  if (prefix < 1 || prefix > 32) return { ok: false, reason: 'prefix length must be between 1 and 32' };
  const size = 2 ** (32 - prefix);
  if (addr % size !== 0) {
    const network = addr - (addr % size);
    return { ok: false, reason: `host bits are set: did you mean ${formatIpv4(network)}/${prefix}?` };
  }
  return { ok: true, cidr: { network: addr, prefix, last: addr + size - 1 } };
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.network)}/${c.prefix}`;
}

export function contains(c: Cidr, addr: number): boolean {
  return addr >= c.network && addr <= c.last;
}

/** Usable host addresses exclude the network and broadcast addresses (except on /31 and /32). */
export function isUsableHost(c: Cidr, addr: number): boolean {
  if (!contains(c, addr)) return false;
  if (c.prefix >= 31) return true;
  return addr !== c.network && addr !== c.last;
}

const MULTICAST = { network: 0xe0000000, prefix: 4, last: 0xefffffff };

export function isMulticast(addr: number): boolean {
  return contains(MULTICAST, addr);
}

/**
 * Normalises a 48-bit MAC written as `aa:bb:cc:dd:ee:ff`, `aa-bb-…`, `aabb.ccdd.eeff` or 12 hex digits
 * to lower-case colon form; null when it is not one.
 */
export function normalizeMac(text: string): string | null {
  const hex = text.trim().toLowerCase();
  let digits: string;
  if (/^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/.test(hex)) digits = hex.replace(/[:-]/g, '');
  else if (/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/.test(hex)) digits = hex.replace(/\./g, '');
  else if (/^[0-9a-f]{12}$/.test(hex)) digits = hex;
  else return null;
  return digits.match(/../g)!.join(':');
}

/** RFC 1123 host name: labels of letters, digits and hyphens, not starting or ending with a hyphen. */
export function isHostname(text: string): boolean {
  if (text.length < 1 || text.length > 253) return false;
  return text.split('.').every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(l));
}
