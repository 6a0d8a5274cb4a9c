import { describe, expect, it } from 'vitest';
import { PCAP_DECODE_ERROR_CODES, PCAP_LINKTYPE } from './codes.js';
import type { PcapLinkType } from './codes.js';
import { decodeFrame } from './frame.js';
import { decodePcap, decodePcapHeader } from './reader.js';
import type { PcapCapture } from './reader.js';
import { encodeIPv4Udp, encodeLinkFrame, encodePcap } from './writer.js';

const payload = Uint8Array.of(1, 2, 3, 4, 5);
const ip = encodeIPv4Udp({
  src: '10.213.1.1',
  dst: '10.213.1.255',
  srcPort: 68,
  dstPort: 67,
  payload,
  ttl: 17,
});

function capture(bytes: Uint8Array): PcapCapture {
  const r = decodePcap(bytes);
  if (!r.ok) throw new Error(`${r.error.code} at ${r.error.offset}: ${r.error.message}`);
  return r.value;
}

function errorOf(bytes: Uint8Array): { code: string; offset: number } {
  const r = decodePcap(bytes);
  if (r.ok) throw new Error('expected a failure');
  return { code: r.error.code, offset: r.error.offset };
}

const ethernet = (ipPacket: Uint8Array) => encodeLinkFrame(PCAP_LINKTYPE.ETHERNET, ipPacket);
const single = (frame: Uint8Array, linkType: PcapLinkType = PCAP_LINKTYPE.ETHERNET) =>
  encodePcap({ linkType }, [{ tsSec: 1_700_000_000, tsNsec: 123_456_000, frame }]);

describe('pcap global header', () => {
  it.each([
    ['little', 'microsecond', 'd4c3b2a1'],
    ['big', 'microsecond', 'a1b2c3d4'],
    ['little', 'nanosecond', '4d3cb2a1'],
    ['big', 'nanosecond', 'a1b23c4d'],
  ] as const)('reads %s-endian %s files (magic bytes %s)', (byteOrder, timestampResolution, magic) => {
    const bytes = encodePcap({ linkType: 1, byteOrder, timestampResolution, snaplen: 65535 }, [
      { tsSec: 1_700_000_000, tsNsec: 987_654_321, frame: ethernet(ip) },
    ]);
    expect(Buffer.from(bytes.subarray(0, 4)).toString('hex')).toBe(magic);
    const c = capture(bytes);
    expect(c.header).toEqual({
      byteOrder,
      timestampResolution,
      versionMajor: 2,
      versionMinor: 4,
      snaplen: 65535,
      linkType: 1,
    });
    const nsec = timestampResolution === 'nanosecond' ? 987_654_321 : 987_654_000;
    expect(c.udp).toEqual([
      {
        frame: 1,
        ts: 1_700_000_000 + nsec / 1e9,
        tsSec: 1_700_000_000,
        tsNsec: nsec,
        src: '10.213.1.1',
        srcPort: 68,
        dst: '10.213.1.255',
        dstPort: 67,
        ttl: 17,
        payload,
        offset: 24 + 16 + 14 + 28,
      },
    ]);
  });

  it('reads a file with a header and no records', () => {
    expect(capture(encodePcap({ linkType: 113 }, []))).toMatchObject({
      frames: 0,
      udp: [],
      skipped: [],
      truncated: null,
    });
  });

  it.each([
    ['PCAP_TRUNCATED_HEADER', new Uint8Array(0), 0],
    ['PCAP_TRUNCATED_HEADER', single(ethernet(ip)).subarray(0, 23), 23],
    ['PCAP_BAD_MAGIC', new Uint8Array(24).fill(0x41), 0],
    ['PCAP_PCAPNG_UNSUPPORTED', Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, ...new Uint8Array(40)), 0],
  ] as const)('fails with %s', (code, bytes, offset) => {
    expect(errorOf(bytes)).toEqual({ code, offset });
  });

  it('rejects version 1 and unsupported link types, pointing at the field', () => {
    const v1 = single(ethernet(ip));
    v1[4] = 1;
    expect(errorOf(v1)).toEqual({ code: 'PCAP_UNSUPPORTED_VERSION', offset: 4 });
    const raw = encodePcap({ linkType: 101 as PcapLinkType }, []);
    expect(errorOf(raw)).toEqual({ code: 'PCAP_UNSUPPORTED_LINKTYPE', offset: 20 });
    expect(decodePcapHeader(raw).ok).toBe(false);
  });

  it('ignores the FCS bits in the upper part of the network field', () => {
    const bytes = single(ethernet(ip));
    bytes[23] = 0x10; // FCS length present (little-endian: high byte of the u32)
    expect(capture(bytes).header.linkType).toBe(1);
  });
});

describe('pcap records', () => {
  it('keeps everything before a record cut short and reports where it stopped', () => {
    const two = encodePcap({ linkType: 1 }, [
      { tsSec: 1, tsNsec: 0, frame: ethernet(ip) },
      { tsSec: 2, tsNsec: 0, frame: ethernet(ip) },
    ]);
    const secondRecord = 24 + 16 + ethernet(ip).length;
    const cutData = capture(two.subarray(0, two.length - 1));
    expect(cutData.udp).toHaveLength(1);
    expect(cutData.truncated).toMatchObject({ code: 'PCAP_TRUNCATED_RECORD', offset: secondRecord + 8 });
    const cutHeader = capture(two.subarray(0, secondRecord + 10));
    expect(cutHeader.frames).toBe(1);
    expect(cutHeader.truncated).toMatchObject({ code: 'PCAP_TRUNCATED_RECORD_HEADER', offset: secondRecord });
  });

  it('treats a huge incl_len as a truncated record, not an allocation', () => {
    const bytes = single(ethernet(ip));
    new DataView(bytes.buffer).setUint32(24 + 8, 0xffffffff, true);
    expect(capture(bytes).truncated?.code).toBe('PCAP_TRUNCATED_RECORD');
  });

  it('reads a file that arrives as a view into a larger buffer', () => {
    const inner = single(ethernet(ip));
    const outer = new Uint8Array(inner.length + 13);
    outer.set(inner, 7);
    expect(capture(outer.subarray(7, 7 + inner.length)).udp[0]?.payload).toEqual(payload);
  });

  it('numbers frames counting skipped ones and reports skip offsets within the file', () => {
    const arp = Uint8Array.of(...new Uint8Array(12), 0x08, 0x06, ...new Uint8Array(28));
    const bytes = encodePcap({ linkType: 1 }, [
      { tsSec: 1, tsNsec: 0, frame: arp },
      { tsSec: 2, tsNsec: 0, frame: ethernet(ip) },
    ]);
    const c = capture(bytes);
    expect(c.skipped).toHaveLength(1);
    expect(c.skipped[0]).toMatchObject({ frame: 1, code: 'PCAP_NOT_IPV4', offset: 24 + 16 + 12 });
    expect(c.skipped[0]?.message).toContain('0806');
    expect(c.udp[0]?.frame).toBe(2);
  });
});

describe('link layers', () => {
  it.each([
    ['Ethernet', PCAP_LINKTYPE.ETHERNET, 14],
    ['Linux cooked v1 (SLL)', PCAP_LINKTYPE.LINUX_SLL, 16],
    ['Linux cooked v2 (SLL2)', PCAP_LINKTYPE.LINUX_SLL2, 20],
  ] as const)('%s', (_name, linkType, headerLength) => {
    const c = capture(single(encodeLinkFrame(linkType, ip), linkType));
    expect(c.udp[0]).toMatchObject({
      src: '10.213.1.1',
      dstPort: 67,
      payload,
      offset: 40 + headerLength + 28,
    });
  });

  it('steps over one or two 802.1Q/802.1ad tags', () => {
    const frame = ethernet(ip);
    const tagged = Uint8Array.of(
      ...frame.subarray(0, 12),
      0x88,
      0xa8,
      0,
      5,
      0x81,
      0x00,
      0,
      7,
      ...frame.subarray(12),
    );
    expect(decodeFrame(1, tagged)).toMatchObject({
      ok: true,
      value: { payload, payloadOffset: 14 + 8 + 28 },
    });
    const three = Uint8Array.of(
      ...frame.subarray(0, 12),
      0x81,
      0,
      0,
      1,
      0x81,
      0,
      0,
      2,
      0x81,
      0,
      0,
      3,
      ...frame.subarray(12),
    );
    expect(decodeFrame(1, three)).toMatchObject({ ok: false, code: 'PCAP_NOT_IPV4' });
  });

  it('skips short link headers', () => {
    expect(decodeFrame(1, new Uint8Array(13))).toMatchObject({
      ok: false,
      code: 'PCAP_FRAME_TRUNCATED',
      offset: 12,
    });
    expect(decodeFrame(113, new Uint8Array(15))).toMatchObject({ ok: false, code: 'PCAP_FRAME_TRUNCATED' });
    expect(decodeFrame(276, new Uint8Array(19))).toMatchObject({ ok: false, code: 'PCAP_FRAME_TRUNCATED' });
    expect(decodeFrame(228, new Uint8Array(40))).toMatchObject({
      ok: false,
      code: 'PCAP_UNSUPPORTED_LINKTYPE',
    });
  });
});

describe('IPv4 and UDP', () => {
  /** The test packet with some of its IP/UDP bytes replaced: [index within the IP packet, value] pairs. */
  const mutate = (edits: readonly (readonly [number, number])[]): Uint8Array => {
    const copy = ip.slice();
    for (const [index, value] of edits) copy[index] = value;
    return ethernet(copy);
  };

  const cases: readonly (readonly [string, readonly (readonly [number, number])[], string, number])[] = [
    ['an IPv6 header behind an IPv4 EtherType', [[0, 0x60]], 'PCAP_IPV4_BAD_HEADER', 14],
    ['IHL below 5', [[0, 0x44]], 'PCAP_IPV4_BAD_HEADER', 14],
    [
      'total length below the header',
      [
        [2, 0],
        [3, 19],
      ],
      'PCAP_IPV4_BAD_HEADER',
      16,
    ],
    ['more-fragments flag', [[6, 0x20]], 'PCAP_IPV4_FRAGMENT', 20],
    ['a later fragment', [[7, 0x10]], 'PCAP_IPV4_FRAGMENT', 20],
    ['TCP', [[9, 6]], 'PCAP_NOT_UDP', 23],
    [
      'UDP length 7',
      [
        [24, 0],
        [25, 7],
      ],
      'PCAP_UDP_BAD_LENGTH',
      38,
    ],
    [
      'UDP length past the IP packet',
      [
        [24, 0],
        [25, 14],
      ],
      'PCAP_UDP_BAD_LENGTH',
      38,
    ],
  ];
  it.each(cases)('skips %s', (_name, edits, code, offset) => {
    expect(decodeFrame(1, mutate(edits))).toMatchObject({ ok: false, code, offset });
  });

  it('skips a packet cut by the snaplen and an IP header with options past the frame', () => {
    const frame = ethernet(ip);
    expect(decodeFrame(1, frame.subarray(0, frame.length - 1))).toMatchObject({
      ok: false,
      code: 'PCAP_IPV4_TRUNCATED',
    });
    expect(decodeFrame(1, frame.subarray(0, 14 + 19))).toMatchObject({
      ok: false,
      code: 'PCAP_IPV4_TRUNCATED',
      offset: 14,
    });
  });

  it('honours IP options (IHL 6) and ignores Ethernet padding after the IP packet', () => {
    const withOptions = new Uint8Array(ip.length + 4);
    withOptions.set(ip.subarray(0, 20));
    withOptions.set(ip.subarray(20), 24);
    withOptions[0] = 0x46;
    new DataView(withOptions.buffer).setUint16(2, withOptions.length);
    const padded = Uint8Array.of(...ethernet(withOptions), 0, 0, 0, 0, 0, 0);
    expect(decodeFrame(1, padded)).toMatchObject({
      ok: true,
      value: { payload, payloadOffset: 14 + 24 + 8 },
    });
  });

  it('bounds the payload by the UDP length, not the IP length', () => {
    const shorter = mutate([[25, 10]]);
    expect(decodeFrame(1, shorter)).toMatchObject({ ok: true, value: { payload: Uint8Array.of(1, 2) } });
  });

  it('exports every code it can produce', () => {
    expect(new Set(PCAP_DECODE_ERROR_CODES).size).toBe(PCAP_DECODE_ERROR_CODES.length);
    for (const c of PCAP_DECODE_ERROR_CODES) expect(c).toMatch(/^PCAP_[A-Z0-9_]+$/);
  });
});

describe('writer', () => {
  it('writes valid IPv4 and UDP checksums (verified by summing to 0xffff)', () => {
    const sum = (bytes: Uint8Array, initial = 0): number => {
      let s = initial;
      for (let i = 0; i < bytes.length; i += 2) s += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      return s;
    };
    expect(sum(ip.subarray(0, 20))).toBe(0xffff);
    const pseudo = Uint8Array.of(...ip.subarray(12, 20), 0, 17, 0, ip.length - 20);
    expect(sum(ip.subarray(20), sum(pseudo))).toBe(0xffff);
  });

  it('rejects malformed addresses', () => {
    expect(() => encodeIPv4Udp({ src: '10.0.0', dst: '1.2.3.4', srcPort: 1, dstPort: 2, payload })).toThrow(
      RangeError,
    );
  });
});
