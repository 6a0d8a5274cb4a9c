/**
 * Shared wire helpers for every codec in this package.
 *
 * Decoding wire bytes never throws: decoders return a `DecodeResult` whose error carries a stable
 * machine-readable `code` (SCREAMING_SNAKE, prefixed by the codec: `BOOTP_`, `DHCP_`, `TFTP_`, `TURBO_`,
 * `PCAP_`, ...) and the byte `offset` at which decoding gave up.
 */

export interface DecodeError {
  readonly code: string;
  readonly offset: number;
  readonly message: string;
}

export type DecodeResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: DecodeError };

export function ok<T>(value: T): DecodeResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: string, offset: number, message: string): DecodeResult<T> {
  return { ok: false, error: { code, offset, message } };
}

/** Formats 4 bytes at `offset` as dotted-quad IPv4. The caller has checked bounds. */
export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a dotted-quad IPv4 address into 4 bytes; returns null when malformed. */
export function parseIPv4(text: string): Uint8Array | null {
  const m = IPV4_RE.exec(text);
  if (!m) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const n = Number(m[i + 1]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/**
 * IPv4 address as an unsigned 32-bit integer (host arithmetic on addresses, e.g. pools and CIDRs); null
 * when malformed. Accepts exactly what `parseIPv4` accepts, without a regex or an array: the DHCP encoder
 * calls it four times per packet.
 */
export function ipv4ToInt(text: string): number | null {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
    } else if (c === 46 && digits > 0 && part <= 255 && dots < 4) {
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else {
      return null;
    }
  }
  return dots === 4 ? value : null;
}

export function intToIPv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Formats hardware address bytes as lower-case colon-separated hex (`aa:bb:cc:dd:ee:ff`). */
export function formatMac(bytes: Uint8Array, offset = 0, length = bytes.length - offset): string {
  const parts: string[] = [];
  for (let i = 0; i < length; i++) parts.push(bytes[offset + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

const MAC_RE = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i;

/** Parses `aa:bb:cc:dd:ee:ff` (or `-` separated) into 6 bytes; returns null when malformed. */
export function parseMac(text: string): Uint8Array | null {
  if (!MAC_RE.test(text)) return null;
  return Uint8Array.from(text.split(/[:-]/).map((h) => parseInt(h, 16)));
}

/** Normalises a MAC address string to lower-case colon form, or null when malformed. */
export function normalizeMac(text: string): string | null {
  const b = parseMac(text.trim());
  return b ? formatMac(b) : null;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Parses hex (whitespace and `:` ignored); returns null on odd length or a non-hex character. */
export function fromHex(text: string): Uint8Array | null {
  const clean = text.replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return null;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
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

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Latin-1 (byte = code point) string of bytes, used for wire text fields such as TFTP file names. */
export function latin1Decode(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

export function latin1Encode(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}
