/**
 * The logic behind `bootpt-decode`: turns captured UDP datagrams (or one hex string) into one JSON object
 * per BOOTP/DHCP or TFTP packet. Pure; the command in `src/bin/` does the file and console I/O.
 *
 * TFTP is followed as tshark follows it: a request to port 69 opens a conversation keyed by the client's
 * address and port, so DATA/ACK/OACK/ERROR between that client port and the server's new transfer port
 * (TID) are decoded as TFTP too; an OACK carrying RFC 2090 `multicast` or `sbroadcast` adds the group's
 * address and port.
 */
import { getTurboFromOptions, renderTurboResultJson } from '../turbo/index.js';
import { decodeBootp } from '../dhcp/packet.js';
import { renderBootpJson } from '../dhcp/json.js';
import { decodeTftp, getTftpOption, parseMulticastValue, tftpToJson } from '../tftp/index.js';
import type { DecodeError } from '../wire.js';
import { fromHex } from '../wire.js';

export const BOOTP_PORTS: ReadonlySet<number> = new Set([67, 68, 4011]);
export const TFTP_PORT = 69;

export interface Datagram {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly payload: Uint8Array;
}

export type DecodedRecord = Record<string, unknown>;

function errorRecord(error: DecodeError, extra: Record<string, unknown> = {}): DecodedRecord {
  return { ...extra, error: { code: error.code, offset: error.offset, message: error.message } };
}

export function decodeBootpRecord(payload: Uint8Array): DecodedRecord {
  const res = decodeBootp(payload);
  if (!res.ok) return errorRecord(res.error, { proto: 'bootp' });
  const json: DecodedRecord = { ...renderBootpJson(res.value) };
  const turbo = renderTurboResultJson(getTurboFromOptions(res.value.options));
  if (turbo) json.turbo = turbo;
  return json;
}

export function decodeTftpRecord(payload: Uint8Array): DecodedRecord {
  const res = decodeTftp(payload);
  if (!res.ok) return errorRecord(res.error, { proto: 'tftp' });
  return { ...tftpToJson(res.value) };
}

/** Guesses the protocol of a bare payload: a BOOTP header is at least 236 octets with op 1 or 2. */
export function decodeBare(payload: Uint8Array, proto?: 'bootp' | 'tftp'): DecodedRecord {
  const kind = proto ?? (payload.length >= 236 && (payload[0] === 1 || payload[0] === 2) ? 'bootp' : 'tftp');
  return kind === 'bootp' ? decodeBootpRecord(payload) : decodeTftpRecord(payload);
}

export function decodeHexString(text: string, proto?: 'bootp' | 'tftp'): DecodedRecord {
  const bytes = fromHex(text);
  if (!bytes)
    return { error: { code: 'HEX_MALFORMED', offset: 0, message: 'not an even-length hex string' } };
  return decodeBare(bytes, proto);
}

const endpoint = (addr: string, port: number) => `${addr}:${port}`;

/** Follows BOOTP and TFTP conversations through a capture, yielding one record per recognised datagram. */
export class ConversationTracker {
  private readonly tftpEndpoints = new Set<string>();

  classify(d: Datagram): 'bootp' | 'tftp' | null {
    if (BOOTP_PORTS.has(d.dstPort) || BOOTP_PORTS.has(d.srcPort)) {
      if (d.payload.length >= 236) return 'bootp';
    }
    if (d.dstPort === TFTP_PORT) {
      this.tftpEndpoints.add(endpoint(d.src, d.srcPort));
      return 'tftp';
    }
    if (
      this.tftpEndpoints.has(endpoint(d.src, d.srcPort)) ||
      this.tftpEndpoints.has(endpoint(d.dst, d.dstPort))
    ) {
      return 'tftp';
    }
    return null;
  }

  decode(d: Datagram): DecodedRecord | null {
    const kind = this.classify(d);
    if (kind === 'bootp') return decodeBootpRecord(d.payload);
    if (kind !== 'tftp') return null;
    const res = decodeTftp(d.payload);
    if (!res.ok) return errorRecord(res.error, { proto: 'tftp' });
    const packet = res.value;
    if (packet.opcode === 'OACK') {
      // RFC 2090: DATA then flows to the group; follow it. sbroadcast data goes to the client port.
      const mc = getTftpOption(packet.options, 'multicast');
      const parsed = mc !== undefined ? parseMulticastValue(mc) : null;
      if (parsed && parsed.address && parsed.port)
        this.tftpEndpoints.add(endpoint(parsed.address, parsed.port));
      this.tftpEndpoints.add(endpoint(d.src, d.srcPort));
    }
    return { ...tftpToJson(packet) };
  }
}
