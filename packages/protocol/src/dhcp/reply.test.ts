import { describe, expect, it } from 'vitest';
import { toHex, utf8Encode } from '../wire.js';
import { BOOTP_236, PXE_DISCOVER, RELAYED_REQUEST, ascii, hex, zeros } from './golden.js';
import { VENDOR_CLASS_PXE } from './registry.js';
import { buildPxeVendorOptions } from './suboptions.js';
import {
  DhcpOption,
  getBootFileName,
  getDhcpMessageType,
  getDhcpOption,
  getServerIdentifier,
  dhcpOptionCodecs,
} from './options.js';
import { decodeBootp, encodeBootp, bootpEncodingLength } from './packet.js';
import { buildBootpReply, fitDhcpOptions, maxDhcpReplyLength } from './reply.js';
import type { BootpPacket } from './types.js';
import { BOOTP_MIN_LENGTH, DhcpMessageType } from './types.js';

function decoded(bytes: Uint8Array): BootpPacket {
  const r = decodeBootp(bytes);
  if (!r.ok) throw new Error(r.error.code);
  return r.value;
}

describe('buildBootpReply', () => {
  it('answers a PXE DISCOVER with a DHCPOFFER (RFC 2131 Table 3)', () => {
    const request = { ...decoded(PXE_DISCOVER), ciaddr: '10.9.9.9', hops: 2, secs: 30 };
    const reply = buildBootpReply(request, {
      messageType: DhcpMessageType.OFFER,
      serverId: '192.168.1.1',
      yiaddr: '192.168.1.50',
      siaddr: '192.168.1.1',
      file: 'ipxe.efi',
      options: [
        { code: DhcpOption.VENDOR_CLASS, data: utf8Encode('PXEClient') },
        { code: DhcpOption.LEASE_TIME, data: dhcpOptionCodecs.u32.encode(3600) },
      ],
    });
    expect(reply).toMatchObject({
      op: 2,
      htype: 1,
      hlen: 6,
      hops: 0,
      secs: 0,
      xid: 0x3c9a5e21,
      flags: 0x8000,
      ciaddr: '0.0.0.0',
      yiaddr: '192.168.1.50',
      siaddr: '192.168.1.1',
      giaddr: '0.0.0.0',
      file: 'ipxe.efi',
      magicCookie: true,
    });
    expect(reply.chaddr).toEqual(request.chaddr);
    expect(reply.options.map((o) => o.code)).toEqual([53, 54, 60, 51]);
    const bytes = encodeBootp(reply, { minLength: BOOTP_MIN_LENGTH });
    expect(bytes).toHaveLength(300);
    const back = decoded(bytes);
    expect(getDhcpMessageType(back)).toBe(2);
    expect(getServerIdentifier(back)).toBe('192.168.1.1');
    expect(getBootFileName(back)).toBe('ipxe.efi');
  });

  it('encodes a PXE DHCPOFFER to exactly these bytes', () => {
    const request = decoded(PXE_DISCOVER);
    const reply = buildBootpReply(request, {
      messageType: DhcpMessageType.OFFER,
      serverId: '192.168.1.1',
      yiaddr: '192.168.1.50',
      siaddr: '192.168.1.1',
      file: 'ipxe.efi',
      options: [
        { code: DhcpOption.LEASE_TIME, data: dhcpOptionCodecs.u32.encode(3600) },
        { code: DhcpOption.SUBNET_MASK, data: dhcpOptionCodecs.ipv4.encode('255.255.255.0') },
        { code: DhcpOption.ROUTER, data: dhcpOptionCodecs.ipv4List.encode(['192.168.1.1']) },
        { code: DhcpOption.VENDOR_CLASS, data: utf8Encode(VENDOR_CLASS_PXE) },
        { code: DhcpOption.VENDOR_SPECIFIC, data: buildPxeVendorOptions({ discoveryControl: 8 }) },
        { code: DhcpOption.CLIENT_UUID, data: getDhcpOption(request, DhcpOption.CLIENT_UUID)! },
      ],
    });
    const expected = hex`
      02 01 06 00 3c 9a 5e 21      # BOOTREPLY, xid copied
      00 00 80 00                  # secs 0, flags copied (B)
      00 00 00 00                  # ciaddr 0 in an OFFER
      c0 a8 01 32                  # yiaddr 192.168.1.50
      c0 a8 01 01                  # siaddr 192.168.1.1 (TFTP)
      00 00 00 00                  # giaddr copied
      52 54 00 12 34 56 ${zeros(10)}
      ${zeros(64)}                 # sname
      ${ascii('ipxe.efi')} ${zeros(120)}  # file
      63 82 53 63
      35 01 02                     # 53 DHCPOFFER
      36 04 c0 a8 01 01            # 54 server id
      33 04 00 00 0e 10            # 51 lease 3600
      01 04 ff ff ff 00            # 1 subnet mask
      03 04 c0 a8 01 01            # 3 router
      3c 09 ${ascii('PXEClient')}  # 60
      2b 04 06 01 08 ff            # 43: discovery control 8, End
      61 11 00 8b 2f 6a 40 c1 3e 47 11 9a 40 52 54 00 12 34 56  # 97 echoed
      ff                           # End; 304 octets, so no padding
    `;
    expect(toHex(encodeBootp(reply, { minLength: BOOTP_MIN_LENGTH }))).toBe(toHex(expected));
  });

  it('copies ciaddr into an ACK and echoes option 82 last', () => {
    const request = { ...decoded(RELAYED_REQUEST), ciaddr: '10.0.0.50' };
    const reply = buildBootpReply(request, {
      messageType: DhcpMessageType.ACK,
      serverId: '10.0.0.2',
      yiaddr: '10.0.0.50',
      options: [{ code: 1, data: Uint8Array.of(255, 255, 255, 0) }],
    });
    expect(reply.ciaddr).toBe('10.0.0.50');
    expect(reply.giaddr).toBe('10.0.0.1');
    expect(reply.options.map((o) => o.code)).toEqual([53, 54, 1, 82]);
    expect(getDhcpOption(reply, 82)).toEqual(getDhcpOption(request, 82));
    const noEcho = buildBootpReply(request, { messageType: DhcpMessageType.NAK, echoRelayAgentInfo: false });
    expect(noEcho.options.map((o) => o.code)).toEqual([53]);
    expect(noEcho.ciaddr).toBe('0.0.0.0');
  });

  it('answers a 236-octet BOOTP request with a plain 300-octet BOOTREPLY', () => {
    const reply = buildBootpReply(decoded(BOOTP_236), {
      yiaddr: '10.1.1.9',
      siaddr: '10.1.1.1',
      file: '/tftpboot/vmlinux',
    });
    expect(reply.options).toEqual([]);
    const bytes = encodeBootp(reply, { minLength: BOOTP_MIN_LENGTH });
    expect(bytes).toHaveLength(300);
    expect(Array.from(bytes.subarray(236, 241))).toEqual([99, 130, 83, 99, 255]);
    expect(getDhcpMessageType(decoded(bytes))).toBeNull();
  });

  it('rejects a bad server id', () => {
    expect(() => buildBootpReply(decoded(BOOTP_236), { serverId: 'host' })).toThrow(RangeError);
  });
});

describe('maxDhcpReplyLength', () => {
  it('uses option 57 for DHCP clients, else 548; 300 for BOOTP; capped by the MTU', () => {
    expect(maxDhcpReplyLength(decoded(PXE_DISCOVER))).toBe(1472 - 28);
    expect(maxDhcpReplyLength(decoded(RELAYED_REQUEST))).toBe(548);
    expect(maxDhcpReplyLength(decoded(BOOTP_236))).toBe(300);
    expect(maxDhcpReplyLength(decoded(PXE_DISCOVER), 1000)).toBe(972);
  });
});

describe('fitDhcpOptions', () => {
  const request = decoded(RELAYED_REQUEST);
  const big = buildBootpReply(request, {
    messageType: DhcpMessageType.OFFER,
    serverId: '10.0.0.2',
    options: [
      { code: 15, data: new Uint8Array(200).fill(0x61) },
      { code: 17, data: new Uint8Array(100).fill(0x62) },
      { code: 12, data: new Uint8Array(50).fill(0x63) },
    ],
  });

  it('leaves a packet that fits alone', () => {
    expect(fitDhcpOptions(big, 1000)).toBe(big);
  });

  it('moves trailing options into file and sname with option 52', () => {
    expect(bootpEncodingLength(big)).toBeGreaterThan(548);
    const fitted = fitDhcpOptions(big, 548)!;
    expect(fitted).not.toBeNull();
    expect(bootpEncodingLength(fitted)).toBeLessThanOrEqual(548);
    expect(fitted.options.map((o) => [o.code, o.area ?? 'options'])).toEqual([
      [53, 'options'],
      [54, 'options'],
      [15, 'options'],
      [52, 'options'],
      [82, 'options'],
      [17, 'file'],
      [12, 'sname'],
    ]);
    const back = decoded(encodeBootp(fitted));
    expect(back).toEqual(fitted);
    expect(getDhcpOption(back, 17)).toEqual(getDhcpOption(big, 17));
  });

  it('gives up when nothing can fit', () => {
    expect(fitDhcpOptions(big, 300)).toBeNull();
    expect(fitDhcpOptions(big, 548, false)).toBeNull();
    expect(fitDhcpOptions({ ...big, file: 'x', sname: 'y' }, 548)).toBeNull();
  });
});
