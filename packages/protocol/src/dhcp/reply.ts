import { parseIPv4 } from '../wire.js';
import { DhcpEncodeError } from './codes.js';
import {
  DhcpOption,
  getMaxMessageSize,
  getDhcpMessageType,
  getDhcpOption,
  setDhcpOption,
} from './options.js';
import { bootpEncodingLength } from './packet.js';
import type { BootpOption, BootpPacket } from './types.js';
import {
  BOOTP_MIN_LENGTH,
  BOOTREPLY,
  BOOTP_CHADDR_LENGTH,
  DhcpMessageType,
  BOOTP_FILE_LENGTH,
  DHCP_OPTION_PAD,
  BOOTP_OPTIONS_OFFSET,
  BOOTP_SNAME_LENGTH,
} from './types.js';

export interface BootpReplyFields {
  /** Option 53. Omit for a plain BOOTP reply (no DHCP options added). */
  readonly messageType?: number;
  /** Option 54 (server identifier, RFC 2131 §4.1: MUST in OFFER/ACK/NAK). */
  readonly serverId?: string;
  readonly yiaddr?: string;
  /** Next server for the boot (TFTP), RFC 2131 §2. */
  readonly siaddr?: string;
  /** Default per RFC 2131 Table 3: 0 in OFFER/NAK, else copied from the request (RFC 1542 §5.3). */
  readonly ciaddr?: string;
  /** Default: copied from the request (RFC 2131 Table 3). */
  readonly flags?: number;
  readonly sname?: string;
  readonly file?: string;
  /** More options in the order to send them; values longer than 255 octets are split (RFC 3396). */
  readonly options?: readonly { readonly code: number; readonly data: Uint8Array }[];
  /** Echo the request's option 82 as the last option (RFC 3046 §2.2). Default true. */
  readonly echoRelayAgentInfo?: boolean;
}

/**
 * Builds a BOOTREPLY for `request` (RFC 2131 Table 3, RFC 1542 §5): copies `xid`, `flags`, `giaddr`,
 * `htype`, `hlen` and `chaddr`; zeroes `hops` and `secs`; sets option 53 and 54 first when given, then
 * `fields.options`, then the echoed option 82. Encode with `{ minLength: 300 }` (BOOTP_MIN_LENGTH).
 */
export function buildBootpReply(request: BootpPacket, fields: BootpReplyFields = {}): BootpPacket {
  const type = fields.messageType;
  const zeroCiaddr = type === DhcpMessageType.OFFER || type === DhcpMessageType.NAK;
  const chaddr = new Uint8Array(BOOTP_CHADDR_LENGTH);
  chaddr.set(request.chaddr.subarray(0, BOOTP_CHADDR_LENGTH));
  const options: BootpOption[] = [];
  if (type !== undefined) options.push({ code: DhcpOption.MESSAGE_TYPE, data: Uint8Array.of(type) });
  if (fields.serverId !== undefined) {
    const id = parseIPv4(fields.serverId);
    if (!id) throw new DhcpEncodeError(`serverId is not a dotted-quad IPv4 address: ${fields.serverId}`);
    options.push({ code: DhcpOption.SERVER_ID, data: id });
  }
  const relayInfo = getDhcpOption(request, DhcpOption.RELAY_AGENT_INFO);
  if (relayInfo && fields.echoRelayAgentInfo !== false) {
    options.push({ code: DhcpOption.RELAY_AGENT_INFO, data: relayInfo });
  }
  let reply: BootpPacket = {
    op: BOOTREPLY,
    htype: request.htype,
    hlen: request.hlen,
    hops: 0,
    xid: request.xid,
    secs: 0,
    flags: fields.flags ?? request.flags,
    ciaddr: fields.ciaddr ?? (zeroCiaddr ? '0.0.0.0' : request.ciaddr),
    yiaddr: fields.yiaddr ?? '0.0.0.0',
    siaddr: fields.siaddr ?? '0.0.0.0',
    giaddr: request.giaddr,
    chaddr,
    sname: fields.sname ?? '',
    file: fields.file ?? '',
    magicCookie: true,
    options,
  };
  for (const o of fields.options ?? []) reply = setDhcpOption(reply, o.code, o.data);
  return reply;
}

/** Size of a UDP + IPv4 header without IP options. */
const IP_UDP_OVERHEAD = 28;
const DHCP_DEFAULT_MAX_MESSAGE = 576;

/**
 * Largest BOOTP/DHCP payload to send to this client. A BOOTP client (no option 53) gets 300 octets: its
 * options must fit the 64-octet `vend` area (PROTOCOLS.md §1.1, as dnsmasq does). A DHCP client gets
 * option 57 (which counts the IP and UDP headers) or else the 576-octet datagram every DHCP client must
 * accept (RFC 2131 §2: a 312-octet options field), so 548 by default; both capped by the path MTU.
 */
export function maxDhcpReplyLength(request: BootpPacket, mtu = 1500): number {
  if (getDhcpMessageType(request) === null) return BOOTP_MIN_LENGTH;
  const asked = getMaxMessageSize(request);
  const datagram = Math.max(DHCP_DEFAULT_MAX_MESSAGE, asked ?? DHCP_DEFAULT_MAX_MESSAGE);
  return Math.min(datagram, mtu) - IP_UDP_OVERHEAD;
}

const PINNED = new Set<number>([
  DhcpOption.OVERLOAD,
  DhcpOption.MESSAGE_TYPE,
  DhcpOption.SERVER_ID,
  DhcpOption.RELAY_AGENT_INFO,
]);

function size(o: BootpOption): number {
  return o.code === DHCP_OPTION_PAD ? 1 : 2 + o.data.length;
}

/**
 * Returns `packet` if it encodes to at most `maxLength` octets; otherwise moves options from the end of
 * the options field into empty `file` then `sname` fields with option 52 (RFC 2131 §4.1, RFC 2132 §9.3),
 * keeping 52, 53, 54 and 82 in the options field and the parse order of everything else. Returns null
 * when the options cannot fit. Pass `allowOverload: false` for BOOTP clients and for ROMs that read
 * `file` as a string (PROTOCOLS.md §2.5); when you do overload, put the boot file in option 67.
 */
export function fitDhcpOptions(
  packet: BootpPacket,
  maxLength: number,
  allowOverload = true,
): BootpPacket | null {
  if (bootpEncodingLength(packet) <= maxLength) return packet;
  if (
    !allowOverload ||
    !packet.magicCookie ||
    packet.options.some((o) => o.area !== undefined || o.code === DhcpOption.OVERLOAD)
  ) {
    return null;
  }
  const areas: { name: 'file' | 'sname'; room: number; bit: number }[] = [];
  if (packet.file === '') areas.push({ name: 'file', room: BOOTP_FILE_LENGTH - 1, bit: 1 });
  if (packet.sname === '') areas.push({ name: 'sname', room: BOOTP_SNAME_LENGTH - 1, bit: 2 });
  const real = packet.options.filter((o) => o.code !== DHCP_OPTION_PAD);
  const movable = real.filter((o) => !PINNED.has(o.code));
  const mainBudget =
    maxLength - BOOTP_OPTIONS_OFFSET - 1 - (packet.endings?.options?.trailer.length ?? 0) - 3;
  for (let k = 1; k <= movable.length; k++) {
    const moved = new Set(movable.slice(movable.length - k));
    const main = real.filter((o) => !moved.has(o));
    if (main.reduce((n, o) => n + size(o), 0) > mainBudget) continue;
    const placed: BootpOption[] = [];
    let overload = 0;
    let area = 0;
    let used = 0;
    let fits = true;
    for (const o of movable.slice(movable.length - k)) {
      while (area < areas.length && used + size(o) > areas[area]!.room) {
        area++;
        used = 0;
      }
      const target = areas[area];
      if (!target) {
        fits = false;
        break;
      }
      placed.push({ code: o.code, data: o.data, area: target.name });
      overload |= target.bit;
      used += size(o);
    }
    if (!fits) continue;
    const overloadOption: BootpOption = { code: DhcpOption.OVERLOAD, data: Uint8Array.of(overload) };
    const relayAt = main.findIndex((o) => o.code === DhcpOption.RELAY_AGENT_INFO);
    const head = relayAt < 0 ? main : main.slice(0, relayAt);
    const tail = relayAt < 0 ? [] : main.slice(relayAt);
    const { endings, ...rest } = packet;
    const kept = endings?.options ? { endings: { options: endings.options } } : {};
    return { ...rest, ...kept, options: [...head, overloadOption, ...tail, ...placed] };
  }
  return null;
}
