import { formatMac, parseMac } from '../wire.js';
import { DhcpEncodeError } from './codes.js';
import { BOOTP_CHADDR_LENGTH } from './types.js';

/** A 16-octet `chaddr` field holding `mac` (`aa:bb:cc:dd:ee:ff`) left-aligned (RFC 951 §3). */
export function chaddrFromMac(mac: string): Uint8Array {
  const bytes = parseMac(mac);
  if (!bytes) throw new DhcpEncodeError(`not a MAC address: ${JSON.stringify(mac)}`);
  const out = new Uint8Array(BOOTP_CHADDR_LENGTH);
  out.set(bytes);
  return out;
}

/** The client hardware address: the first `hlen` octets of `chaddr`, `aa:bb:cc:dd:ee:ff`. */
export function clientMac(packet: { readonly hlen: number; readonly chaddr: Uint8Array }): string {
  return formatMac(packet.chaddr, 0, Math.min(packet.hlen, packet.chaddr.length));
}
