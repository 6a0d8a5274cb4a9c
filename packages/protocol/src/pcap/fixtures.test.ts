/**
 * The reader over the golden captures in packages/protocol/fixtures (made by scripts/capture-fixtures.sh
 * from real clients and servers). Expected counts were taken with tshark (`-Y udp`) when the files were made.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatIPv4, formatMac } from '../wire.js';
import { decodePcap } from './reader.js';
import type { PcapCapture, UdpRecord } from './reader.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url);

// [file, frames, UDP datagrams, link type]
const EXPECTED: readonly (readonly [string, number, number, number])[] = [
  ['bootp-bootpc-dnsmasq.pcap', 3, 2, 1],
  ['bootp-klibc-ipconfig-dnsmasq.pcap', 3, 2, 1],
  ['dhcp-dhclient-dnsmasq.pcap', 7, 5, 1],
  ['dhcp-dhcpcd-dnsmasq.pcap', 4, 4, 1],
  ['dhcp-tftp-ipxe-qemu-dnsmasq-nsec.pcap', 25, 18, 1],
  ['dhcp-udhcpc-dhcrelay-dnsmasq-sll2.pcap', 10, 8, 276],
  ['dhcp-udhcpc-dnsmasq.pcap', 4, 4, 1],
  ['tftp-atftp-blksize600-windowsize3-tsize-atftpd.pcap', 13, 11, 1],
  ['tftp-atftp-blksize600-windowsize3-tsize-dnsmasq.pcap', 17, 15, 1],
  ['tftp-atftp-multicast-atftpd.pcap', 11, 9, 1],
  ['tftp-busybox-blksize1024-atftpd.pcap', 11, 9, 1],
  ['tftp-busybox-blksize1024-dnsmasq.pcap', 11, 9, 1],
  ['tftp-curl-blksize1428-atftpd.pcap', 9, 9, 1],
  ['tftp-curl-blksize1428-dnsmasq.pcap', 10, 9, 1],
  ['tftp-tftphpa-atftpd.pcap', 16, 13, 1],
  ['tftp-tftphpa-dnsmasq-sll.pcap', 13, 13, 113],
  ['tftp-tftphpa-dnsmasq.pcap', 15, 13, 1],
  ['tftp-tftphpa-tftpdhpa.pcap', 15, 13, 1],
  ['tftp-curl-blksize1428-tftpdhpa.pcap', 9, 9, 1],
  ['tftp-busybox-blksize1024-tftpdhpa.pcap', 9, 9, 1],
  ['tftp-atftp-blksize600-windowsize3-tsize-tftpdhpa.pcap', 17, 15, 1],
];

function load(name: string): PcapCapture {
  const result = decodePcap(new Uint8Array(readFileSync(new URL(name, FIXTURES))));
  if (!result.ok) throw new Error(`${name}: ${result.error.code} at ${result.error.offset}`);
  return result.value;
}

const MAGIC_COOKIE = '99.130.83.99';
const hasCookie = (r: UdpRecord): boolean =>
  r.payload.length >= 240 && formatIPv4(r.payload, 236) === MAGIC_COOKIE;
const op = (r: UdpRecord): number => r.payload[0]!;
const tftpOpcode = (r: UdpRecord): number => (r.payload[0]! << 8) | r.payload[1]!;

describe('pcap fixtures', () => {
  it('has an expectation for every fixture file, and the directory stays small', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.pcap'));
    expect(files.sort()).toEqual(EXPECTED.map((e) => e[0]).sort());
    const total = files.reduce((n, f) => n + readFileSync(new URL(f, FIXTURES)).length, 0);
    expect(total).toBeLessThan(2_000_000);
  });

  it.each(EXPECTED)('%s: %i frames, %i UDP datagrams, link type %i', (name, frames, udpCount, linkType) => {
    const capture = load(name);
    expect(capture.truncated).toBeNull();
    expect(capture.header.linkType).toBe(linkType);
    expect(capture.frames).toBe(frames);
    expect(capture.udp).toHaveLength(udpCount);
    expect(capture.skipped).toHaveLength(frames - udpCount);
    // Only ARP and IGMP were left out of these captures (IPv6 is filtered at capture time).
    for (const s of capture.skipped) expect(['PCAP_NOT_IPV4', 'PCAP_NOT_UDP']).toContain(s.code);
    const timestamps = capture.udp.map((r) => r.ts);
    expect(timestamps).toEqual([...timestamps].sort((a, b) => a - b));
    expect(timestamps[0]).toBeGreaterThan(1.7e9);
  });

  it('klibc ipconfig sends a pure 236-byte BOOTREQUEST without the magic cookie', () => {
    const [request, reply] = load('bootp-klibc-ipconfig-dnsmasq.pcap').udp;
    expect(request).toMatchObject({ src: '0.0.0.0', srcPort: 68, dst: '255.255.255.255', dstPort: 67 });
    expect(request!.payload.length).toBe(236);
    expect(op(request!)).toBe(1);
    expect(formatMac(request!.payload, 28, 6)).toBe('02:b7:00:07:00:14');
    // dnsmasq answers with a BOOTREPLY (with a cookie) unicast to the offered address.
    expect(op(reply!)).toBe(2);
    expect(reply).toMatchObject({ src: '10.213.7.1', srcPort: 67, dstPort: 68 });
    expect(hasCookie(reply!)).toBe(true);
  });

  it('bootpc sends a BOOTREQUEST with the cookie but no DHCP message type, broadcast both ways', () => {
    const [request, reply] = load('bootp-bootpc-dnsmasq.pcap').udp;
    expect(request!.payload.length).toBe(300);
    expect(hasCookie(request!)).toBe(true);
    expect(request!.payload.subarray(240).includes(53)).toBe(false);
    expect(reply).toMatchObject({ dst: '255.255.255.255', dstPort: 68 });
  });

  it('the relayed exchange shows each message on both legs of dhcrelay, with giaddr set upstream', () => {
    const udp = load('dhcp-udhcpc-dhcrelay-dnsmasq-sll2.pcap').udp;
    const upstream = udp.filter((r) => r.src === '10.213.7.2' || r.dst === '10.213.8.1');
    expect(upstream).toHaveLength(4);
    for (const r of upstream) expect(formatIPv4(r.payload, 24)).toBe('10.213.8.1');
    expect(udp.filter((r) => r.dst === '10.213.7.1').every((r) => r.dstPort === 67 && r.srcPort === 67)).toBe(
      true,
    );
  });

  it('the iPXE capture keeps nanosecond timestamps and holds DHCP then two TFTP reads', () => {
    const capture = load('dhcp-tftp-ipxe-qemu-dnsmasq-nsec.pcap');
    expect(capture.header.timestampResolution).toBe('nanosecond');
    expect(capture.udp.some((r) => r.tsNsec % 1000 !== 0)).toBe(true);
    const dhcp = capture.udp.filter((r) => r.dstPort === 67 || r.dstPort === 68);
    expect(dhcp.map(op)).toEqual([1, 2, 1, 2]);
    const rrqs = capture.udp.filter((r) => r.dstPort === 69);
    expect(rrqs.map((r) => new TextDecoder().decode(r.payload.subarray(2, 11)))).toEqual([
      'boot.ipxe',
      'small.bin',
    ]);
  });

  it('atftp multicast: OACK names the group, DATA goes to 239.255.213.1:1758, ACKs come back unicast', () => {
    const udp = load('tftp-atftp-multicast-atftpd.pcap').udp;
    const data = udp.filter((r) => r.dst === '239.255.213.1');
    expect(data.map((r) => r.dstPort)).toEqual([1758, 1758, 1758]);
    expect(data.map((r) => r.payload.length)).toEqual([4 + 1024, 4 + 1024, 4 + 952]);
    const oack = udp.find((r) => tftpOpcode(r) === 6)!;
    expect(new TextDecoder().decode(oack.payload)).toContain('multicast\u0000239.255.213.1,1758,1\u0000');
  });

  it('windowsize: atftpd sends three DATA per ACK, dnsmasq and tftpd-hpa ignore it and go lock-step', () => {
    const dataPerAck = (name: string): number[] => {
      const runs: number[] = [];
      let run = 0;
      for (const r of load(name).udp) {
        if (tftpOpcode(r) === 3) run++;
        else if (tftpOpcode(r) === 4 && run > 0) {
          runs.push(run);
          run = 0;
        }
      }
      return runs;
    };
    expect(dataPerAck('tftp-atftp-blksize600-windowsize3-tsize-atftpd.pcap')).toEqual([3, 3]);
    expect(dataPerAck('tftp-atftp-blksize600-windowsize3-tsize-dnsmasq.pcap')).toEqual([1, 1, 1, 1, 1, 1]);
    expect(dataPerAck('tftp-atftp-blksize600-windowsize3-tsize-tftpdhpa.pcap')).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('payload views point at the same bytes in the file', () => {
    const bytes = new Uint8Array(readFileSync(new URL('dhcp-udhcpc-dnsmasq.pcap', FIXTURES)));
    const result = decodePcap(bytes);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    for (const r of result.value.udp)
      expect(bytes.subarray(r.offset, r.offset + r.payload.length)).toEqual(r.payload);
  });
});
