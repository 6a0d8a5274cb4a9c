import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodePcap } from '../pcap/index.js';
import { encodeBootp, decodeBootp } from '../dhcp/index.js';
import { decodeTftp, encodeTftp } from '../tftp/index.js';
import { ConversationTracker, decodeHexString } from './decode.js';

const fixtures = new URL('../../fixtures/', import.meta.url);
const pcaps = readdirSync(fixtures).filter((f) => f.endsWith('.pcap'));

function decodeFixture(name: string) {
  const cap = decodePcap(readFileSync(new URL(name, fixtures)));
  if (!cap.ok) throw new Error(`${name}: ${cap.error.code}`);
  const tracker = new ConversationTracker();
  return cap.value.udp.map((rec) => ({ rec, out: tracker.decode(rec) }));
}

describe('golden captures from real peers: decode → encode byte for byte', () => {
  it('has captures of every peer the protocol must interoperate with', () => {
    const joined = pcaps.join(' ');
    for (const peer of [
      'udhcpc',
      'dhclient',
      'dhcpcd',
      'klibc-ipconfig',
      'bootpc',
      'ipxe-qemu',
      'dnsmasq',
      'dhcrelay',
      'atftpd',
      'atftp',
      'curl',
      'busybox',
      'tftphpa',
    ]) {
      expect(joined).toContain(peer);
    }
  });

  for (const name of pcaps) {
    it(name, () => {
      const records = decodeFixture(name);
      let bootp = 0;
      let tftp = 0;
      for (const { rec, out } of records) {
        if (!out) continue;
        expect(out.error, `${name} frame ${rec.frame}`).toBeUndefined();
        if (out.proto === 'bootp') {
          bootp++;
          const d = decodeBootp(rec.payload);
          if (!d.ok) throw new Error(d.error.code);
          expect(
            Buffer.from(encodeBootp(d.value)).equals(Buffer.from(rec.payload)),
            `${name} frame ${rec.frame}`,
          ).toBe(true);
        } else {
          tftp++;
          const d = decodeTftp(rec.payload);
          if (!d.ok) throw new Error(d.error.code);
          expect(
            Buffer.from(encodeTftp(d.value)).equals(Buffer.from(rec.payload)),
            `${name} frame ${rec.frame}`,
          ).toBe(true);
        }
      }
      if (name.startsWith('dhcp') || name.startsWith('bootp')) expect(bootp).toBeGreaterThanOrEqual(2);
      if (name.includes('tftp')) expect(tftp).toBeGreaterThanOrEqual(3);
    });
  }
});

describe('bootpt-decode records', () => {
  it('renders a klibc ipconfig 236-byte BOOTP request with no magic cookie', () => {
    const [first] = decodeFixture('bootp-klibc-ipconfig-dnsmasq.pcap').filter((r) => r.out);
    expect(first!.rec.payload.length).toBe(236);
    expect(first!.out).toMatchObject({ proto: 'bootp', op: 1, msgType: null, options: [] });
    expect(first!.out!.xid).toMatch(/^0x[0-9a-f]{8}$/);
    expect(first!.out!.chaddr).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  });

  it('follows a TFTP transfer to the server’s new port', () => {
    const recs = decodeFixture('tftp-tftphpa-dnsmasq.pcap').filter((r) => r.out);
    expect(recs[0]!.out).toMatchObject({ proto: 'tftp', opcode: 'RRQ', mode: 'octet' });
    expect(recs[0]!.rec.dstPort).toBe(69);
    const data = recs.find((r) => r.out!.opcode === 'DATA')!;
    expect(data.rec.srcPort).not.toBe(69);
    expect(data.out).toMatchObject({ block: 1, dataLength: 512 });
  });

  it('follows RFC 2090 multicast data to the group', () => {
    const recs = decodeFixture('tftp-atftp-multicast-atftpd.pcap').filter((r) => r.out);
    const oack = recs.find((r) => r.out!.opcode === 'OACK')!;
    expect((oack.out!.options as Record<string, string>).multicast).toMatch(/^\d+\.\d+\.\d+\.\d+,\d+,[01]$/);
    expect(recs.some((r) => r.out!.opcode === 'DATA' && /^2(2[4-9]|3\d)\./.test(r.rec.dst))).toBe(true);
  });

  it('prints an error with a stable code and offset for malformed input, and keeps going', () => {
    expect(decodeHexString('0101', 'bootp')).toMatchObject({
      proto: 'bootp',
      error: { offset: expect.any(Number) as number },
    });
    expect(decodeHexString('zz')).toMatchObject({ error: { code: 'HEX_MALFORMED' } });
    expect(decodeHexString('0009')).toMatchObject({
      proto: 'tftp',
      error: { code: 'TFTP_BAD_OPCODE', offset: 0 },
    });
    expect(decodeHexString('00040001')).toEqual({ proto: 'tftp', opcode: 'ACK', block: 1 });
  });
});
