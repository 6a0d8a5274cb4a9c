import { describe, expect, it } from 'vitest';
import { parseIPv4, toHex } from '../wire.js';
import { DHCP_ERROR_CODES, DhcpEncodeError } from './codes.js';
import {
  BOOTP_236,
  GOLDEN_PACKETS,
  OVERLOADED_OFFER,
  PXE_DISCOVER,
  QUIRKY_DISCOVER,
  RELAYED_REQUEST,
  SPLIT_43_ACK,
  SPLIT_43_VALUE,
  hex,
  zeros,
} from './golden.js';
import { decodeBootp, encodeBootp, bootpEncodingLength } from './packet.js';
import type { BootpPacket } from './types.js';

function decoded(bytes: Uint8Array): BootpPacket {
  const r = decodeBootp(bytes);
  if (!r.ok) throw new Error(`${r.error.code} at ${r.error.offset}: ${r.error.message}`);
  return r.value;
}

describe('golden packets', () => {
  it.each(Object.entries(GOLDEN_PACKETS))('%s re-encodes byte for byte', (_name, bytes) => {
    const packet = decoded(bytes);
    expect(toHex(encodeBootp(packet))).toBe(toHex(bytes));
    expect(bootpEncodingLength(packet)).toBe(bytes.length);
    expect(decoded(encodeBootp(packet))).toEqual(packet);
  });

  it('decodes a PXE DHCPDISCOVER', () => {
    const p = decoded(PXE_DISCOVER);
    expect(p).toMatchObject({
      op: 1,
      htype: 1,
      hlen: 6,
      hops: 0,
      xid: 0x3c9a5e21,
      secs: 4,
      flags: 0x8000,
      ciaddr: '0.0.0.0',
      giaddr: '0.0.0.0',
      sname: '',
      file: '',
      magicCookie: true,
    });
    expect(p.endings).toBeUndefined();
    expect(toHex(p.chaddr)).toBe('525400123456' + '00'.repeat(10));
    expect(p.options.map((o) => o.code)).toEqual([53, 57, 93, 94, 97, 55, 60]);
    expect(p.options.every((o) => o.area === undefined)).toBe(true);
  });

  it('accepts a 236-octet BOOTREQUEST without vendor area', () => {
    const p = decoded(BOOTP_236);
    expect(p.magicCookie).toBe(false);
    expect(p.vend).toBeUndefined();
    expect(p.options).toEqual([]);
    expect(p.xid).toBe(0x11223344);
  });

  it('keeps a vendor area that is not RFC 1497 verbatim', () => {
    const bytes = new Uint8Array(300);
    bytes.set(BOOTP_236);
    bytes.set([1, 2, 3, 4, 5], 236);
    const p = decoded(bytes);
    expect(p.magicCookie).toBe(false);
    expect(p.vend).toHaveLength(64);
    expect(encodeBootp(p)).toEqual(bytes);
  });

  it('decodes option overload: options field, then file, then sname', () => {
    const p = decoded(OVERLOADED_OFFER);
    expect(p.file).toBe('');
    expect(p.sname).toBe('');
    expect(p.options.map((o) => [o.code, o.area ?? 'options'])).toEqual([
      [53, 'options'],
      [54, 'options'],
      [52, 'options'],
      [51, 'options'],
      [1, 'options'],
      [3, 'options'],
      [67, 'file'],
      [12, 'file'],
      [66, 'sname'],
    ]);
    expect(p.endings).toEqual({ options: { end: true, trailer: new Uint8Array(29) } });
  });

  it('keeps RFC 3396 split points', () => {
    const p = decoded(SPLIT_43_ACK);
    const parts = p.options.filter((o) => o.code === 43);
    expect(parts.map((o) => o.data.length)).toEqual([255, SPLIT_43_VALUE.length - 255]);
    expect(p.file).toBe('boot/x64/ipxe.efi');
  });

  it('decodes relay agent information and hops', () => {
    const p = decoded(RELAYED_REQUEST);
    expect(p.hops).toBe(1);
    expect(p.giaddr).toBe('10.0.0.1');
    expect(p.options.at(-1)?.code).toBe(82);
  });

  it('keeps pads, NUL garbage in file and bytes after End', () => {
    const p = decoded(QUIRKY_DISCOVER);
    expect(p.file).toBe('old\0junk');
    expect(p.options.filter((o) => o.code === 0)).toHaveLength(2);
    expect(toHex(p.endings!.options!.trailer.subarray(0, 2))).toBe('dead');
  });

  it('handles a main area without End and an overloaded field without End', () => {
    const fileOptions = hex`0c 7e ${'41'.repeat(126)}`; // 12 host-name filling all 128 octets of file
    const bytes = hex`
      02 01 06 00 00 00 00 01 00 00 00 00 ${zeros(16)} ${zeros(16)} ${zeros(64)}
      ${toHex(fileOptions)}
      63 82 53 63 35 01 05 34 01 01 00 00`;
    const p = decoded(bytes);
    expect(p.endings).toEqual({
      options: { end: false, trailer: new Uint8Array(0) },
      file: { end: false, trailer: new Uint8Array(0) },
    });
    expect(p.options.map((o) => o.code)).toEqual([53, 52, 0, 0, 12]);
    expect(encodeBootp(p)).toEqual(bytes);
  });
});

describe('encoding', () => {
  const base = decoded(RELAYED_REQUEST);

  it('pads to minLength after End and stays stable on re-encode', () => {
    const bytes = encodeBootp(base, { minLength: 300 });
    expect(bytes).toHaveLength(300);
    expect(bootpEncodingLength(base, { minLength: 300 })).toBe(300);
    expect(bytes.subarray(285)).toEqual(new Uint8Array(15));
    expect(encodeBootp(decoded(bytes))).toEqual(bytes);
    expect(encodeBootp(decoded(bytes), { minLength: 300 })).toEqual(bytes);
  });

  it('encodes at an offset into a caller buffer', () => {
    const buffer = new Uint8Array(400).fill(0xee);
    const out = encodeBootp(base, { buffer, offset: 7 });
    expect(out).toEqual(RELAYED_REQUEST);
    expect(buffer[6]).toBe(0xee);
    expect(buffer.subarray(7, 7 + RELAYED_REQUEST.length)).toEqual(RELAYED_REQUEST);
    expect(buffer[7 + RELAYED_REQUEST.length]).toBe(0xee);
    expect(() => encodeBootp(base, { buffer, offset: 200 })).toThrow(DhcpEncodeError);
  });

  it.each<[string, Partial<BootpPacket>]>([
    ['xid out of range', { xid: 2 ** 32 }],
    ['bad ciaddr', { ciaddr: '1.2.3' }],
    ['chaddr too long', { chaddr: new Uint8Array(17) }],
    ['sname too long', { sname: 'x'.repeat(65) }],
    ['non-byte file', { file: 'é€' }],
    ['option too long', { options: [{ code: 12, data: new Uint8Array(256) }] }],
    ['End as an instance', { options: [{ code: 255, data: new Uint8Array(0) }] }],
    ['pad with data', { options: [{ code: 0, data: Uint8Array.of(1) }] }],
    ['file option without 52', { options: [{ code: 12, data: Uint8Array.of(65), area: 'file' }] }],
    [
      'areas out of parse order',
      {
        options: [
          { code: 52, data: Uint8Array.of(3) },
          { code: 12, data: Uint8Array.of(65), area: 'sname' },
          { code: 13, data: Uint8Array.of(0, 1), area: 'file' },
        ],
      },
    ],
    ['bad overload value', { options: [{ code: 52, data: Uint8Array.of(4) }] }],
    ['overloaded file not empty', { file: 'x', options: [{ code: 52, data: Uint8Array.of(1) }] }],
    [
      'file area overflow',
      {
        options: [
          { code: 52, data: Uint8Array.of(1) },
          { code: 12, data: new Uint8Array(126).fill(65), area: 'file' },
        ],
      },
    ],
    ['options without cookie', { magicCookie: false }],
    ['vend with cookie', { vend: Uint8Array.of(1) }],
  ])('rejects %s', (_name, change) => {
    expect(() => encodeBootp({ ...base, ...change })).toThrow(DhcpEncodeError);
    expect(() => bootpEncodingLength({ ...base, ...change })).toThrow(DhcpEncodeError);
  });
});

describe('address fields', () => {
  it('accepts exactly the dotted quads parseIPv4 accepts, and writes the same octets (seeded)', () => {
    const base = decoded(PXE_DISCOVER);
    let seed = 99;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const alphabet = '0123456789....25 a';
    const samples = [
      '1.2.3.4',
      '255.255.255.255',
      '010.1.1.1',
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.',
      '',
      '1..2.3',
    ];
    for (let i = 0; i < 20_000; i++) {
      const text =
        i < samples.length
          ? samples[i]!
          : i % 2
            ? Array.from({ length: 4 }, () => String(next(300))).join('.')
            : Array.from({ length: next(16) }, () => alphabet[next(alphabet.length)]).join('');
      const want = parseIPv4(text);
      let got: Uint8Array | null;
      try {
        got = encodeBootp({ ...base, giaddr: text }).subarray(24, 28);
      } catch (err) {
        expect(err).toBeInstanceOf(DhcpEncodeError);
        got = null;
      }
      expect(got && [...got], text).toEqual(want && [...want]);
    }
  });
});

describe('malformed input', () => {
  function withBytes(base: Uint8Array, patch: Record<number, number>): Uint8Array {
    const out = base.slice();
    for (const [at, value] of Object.entries(patch)) out[Number(at)] = value;
    return out;
  }

  it.each<[string, Uint8Array, string, number]>([
    ['empty input', new Uint8Array(0), 'BOOTP_TRUNCATED_HEADER', 0],
    ['3 octets', Uint8Array.of(1, 1, 6), 'BOOTP_TRUNCATED_HEADER', 3],
    ['header cut in xid', PXE_DISCOVER.subarray(0, 6), 'BOOTP_TRUNCATED_HEADER', 4],
    ['header cut in chaddr', PXE_DISCOVER.subarray(0, 40), 'BOOTP_TRUNCATED_HEADER', 28],
    ['header cut in file', PXE_DISCOVER.subarray(0, 235), 'BOOTP_TRUNCATED_HEADER', 108],
    ['op 0', withBytes(PXE_DISCOVER, { 0: 0 }), 'BOOTP_BAD_OP', 0],
    ['op 3', withBytes(PXE_DISCOVER, { 0: 3 }), 'BOOTP_BAD_OP', 0],
    ['hlen 17', withBytes(PXE_DISCOVER, { 2: 17 }), 'BOOTP_BAD_HLEN', 2],
    ['option length past end', PXE_DISCOVER.subarray(0, PXE_DISCOVER.length - 3), 'DHCP_OPTION_OVERRUN', 312],
    [
      'option code without length',
      hex`${toHex(BOOTP_236)} 63825363 35 01 01 0c`,
      'DHCP_OPTION_TRUNCATED',
      243,
    ],
    ['52 too long', hex`${toHex(BOOTP_236)} 63825363 35 01 01 34 02 01 01 ff`, 'DHCP_BAD_OVERLOAD', 243],
    ['52 value 0', hex`${toHex(BOOTP_236)} 63825363 34 01 00 ff`, 'DHCP_BAD_OVERLOAD', 240],
    ['52 value 7', hex`${toHex(BOOTP_236)} 63825363 00 34 01 07 ff`, 'DHCP_BAD_OVERLOAD', 241],
    [
      'overloaded sname option crossing into file',
      withBytes(OVERLOADED_OFFER, { 45: 0x3f }),
      'DHCP_OPTION_OVERRUN',
      44,
    ],
    [
      'overloaded file with code at its last octet',
      withBytes(OVERLOADED_OFFER, { 127: 0, 235: 12 }),
      'DHCP_OPTION_TRUNCATED',
      235,
    ],
  ])('%s', (_name, bytes, code, offset) => {
    const r = decodeBootp(bytes);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(code);
    expect(r.error.offset).toBe(offset);
    expect(DHCP_ERROR_CODES).toContain(r.error.code);
  });

  it('accepts hlen 16 and hlen 0 (IPoIB uses 0 with a client id)', () => {
    expect(decodeBootp(withBytes(PXE_DISCOVER, { 2: 16 })).ok).toBe(true);
    expect(decodeBootp(withBytes(PXE_DISCOVER, { 2: 0 })).ok).toBe(true);
  });

  it('copies its input: later writes to a (Node Buffer) input do not change the packet', () => {
    const input = Buffer.from(RELAYED_REQUEST);
    const p = decoded(input);
    input.fill(0);
    expect(p.giaddr).toBe('10.0.0.1');
    expect(p.options[0]!.data).toEqual(Uint8Array.of(3));
    expect(p.chaddr[0]).toBe(0);
    expect(p.chaddr[1]).toBe(0x11);
    expect(encodeBootp(p)).toEqual(RELAYED_REQUEST);
  });

  it('reads the header from a subarray at a non-zero byteOffset', () => {
    const big = new Uint8Array(PXE_DISCOVER.length + 3);
    big.set(PXE_DISCOVER, 3);
    expect(decoded(big.subarray(3)).xid).toBe(0x3c9a5e21);
  });
});
