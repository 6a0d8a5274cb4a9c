import { collectDhcpOptions, decodeBootp, encodeBootp } from '@bootpt/protocol/dhcp/index';
import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeReply, MAX_REQUEST } from './codec.js';
import type { ReplySpec } from './packet.js';

function request(options: number[] | null, size = 300): Uint8Array {
  const b = new Uint8Array(Math.max(size, options ? 240 + options.length : 236));
  b.set([1, 1, 6, 0, 0xde, 0xad, 0xbe, 0xef], 0);
  b.set([2, 0, 0, 0, 0, 1], 28);
  if (options) {
    b.set([99, 130, 83, 99], 236);
    b.set(options, 240);
  }
  return b;
}

describe('decodeRequest', () => {
  it('accepts a 236-octet BOOTP request without a vend area (klibc ipconfig)', () => {
    const r = decodeRequest(request(null, 236));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.magicCookie).toBe(false);
    expect(r.value.options.size).toBe(0);
    expect(r.value.xid).toBe(0xdeadbeef);
  });

  it('concatenates repeated options (RFC 3396) and stops at End', () => {
    const r = decodeRequest(request([53, 1, 1, 0, 0, 77, 2, 0x61, 0x62, 77, 1, 0x63, 255, 12, 9]));
    expect(r.ok && [...r.value.options.get(77)!]).toEqual([0x61, 0x62, 0x63]);
    expect(r.ok && r.value.options.has(12)).toBe(false);
  });

  it('reads options overloaded into file and sname, after the options field', () => {
    const b = request([52, 1, 3, 255]);
    b.set([67, 3, 0x61, 0x62, 0x63, 255], 108);
    b.set([12, 2, 0x68, 0x69, 255], 44);
    const r = decodeRequest(b);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.file).toBe('');
    expect(String.fromCharCode(...r.value.options.get(67)!)).toBe('abc');
    expect(String.fromCharCode(...r.value.options.get(12)!)).toBe('hi');
  });

  it.each([
    ['shorter than the fixed header', new Uint8Array(235), 'too_short'],
    ['larger than an Ethernet frame can carry', new Uint8Array(MAX_REQUEST + 1), 'oversized'],
    ['an option running past the end', request([53, 1, 1, 12, 200, 1, 2], 246), 'malformed'],
    ['a length octet missing at the very end', request([53, 1, 1, 12], 244), 'malformed'],
    [
      'hlen above 16',
      (() => {
        const b = request([255]);
        b[2] = 17;
        return b;
      })(),
      'malformed',
    ],
  ] as const)('rejects %s', (_name, bytes, reason) => {
    expect(decodeRequest(bytes)).toEqual({ ok: false, reason });
  });

  it('never throws on random bytes (seeded)', () => {
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (let i = 0; i < 2000; i++) {
      const b = new Uint8Array(200 + ((next() * 5) % 1400));
      for (let j = 0; j < b.length; j++) b[j] = next();
      if (i % 2 === 0) b.set([99, 130, 83, 99], 236);
      expect(() => decodeRequest(b)).not.toThrow();
    }
  });
});

const spec = (over: Partial<ReplySpec> = {}): ReplySpec => ({
  htype: 1,
  hlen: 6,
  xid: 7,
  flags: 0x8000,
  ciaddr: 0,
  yiaddr: 0x0a000005,
  siaddr: 0x0a000001,
  giaddr: 0,
  chaddr: new Uint8Array(16).fill(2),
  sname: 'boot',
  file: 'pxelinux.0',
  options: [],
  format: 'bootp',
  maxSize: 300,
  ...over,
});

describe('encodeReply', () => {
  it('writes a 300-octet BOOTREPLY with hops and secs zero', () => {
    const { bytes } = encodeReply(spec({ options: [[1, Uint8Array.of(255, 255, 255, 0)]] }));
    expect(bytes.length).toBe(300);
    expect([bytes[0], bytes[3], bytes[8], bytes[9]]).toEqual([2, 0, 0, 0]);
    expect([...bytes.subarray(236, 250)]).toEqual([99, 130, 83, 99, 1, 4, 255, 255, 255, 0, 255, 0, 0, 0]);
    expect(String.fromCharCode(...bytes.subarray(108, 118))).toBe('pxelinux.0');
    const back = decodeRequest(bytes);
    expect(back.ok && back.value.yiaddr).toBe(0x0a000005);
  });

  it('keeps BOOTP options inside the 64-octet vend area, leaving out what does not fit', () => {
    const big = new Uint8Array(40).fill(1);
    const { bytes, omitted } = encodeReply(
      spec({
        options: [
          [1, new Uint8Array(4)],
          [17, big],
          [12, new Uint8Array(20)],
        ],
      }),
    );
    expect(bytes.length).toBe(300);
    expect(omitted).toEqual([12]);
    expect(bytes[240 + 6 + 42]).toBe(255);
  });

  it('writes option 82 last and pads DHCP replies to 300 octets', () => {
    const { bytes } = encodeReply(
      spec({
        format: 'dhcp',
        options: [[53, Uint8Array.of(2)]],
        relayAgentInfo: Uint8Array.of(1, 2, 0xaa, 0xbb),
      }),
    );
    expect(bytes.length).toBe(300);
    expect([...bytes.subarray(240, 252)]).toEqual([53, 1, 2, 82, 4, 1, 2, 0xaa, 0xbb, 255, 0, 0]);
  });

  it('never exceeds the size the client accepts, and splits long options (RFC 3396)', () => {
    const { bytes, omitted } = encodeReply(
      spec({
        format: 'dhcp',
        maxSize: 548,
        options: [
          [224, new Uint8Array(300)],
          [225, new Uint8Array(1)],
        ],
      }),
    );
    expect(bytes.length).toBeLessThanOrEqual(548);
    expect(omitted).toEqual([]);
    expect([bytes[240], bytes[241], bytes[240 + 257], bytes[240 + 258]]).toEqual([224, 255, 224, 45]);
    const r = decodeRequest(bytes);
    expect(r.ok && r.value.options.get(224)?.length).toBe(300);
    const tooBig = encodeReply(spec({ format: 'dhcp', maxSize: 548, options: [[224, new Uint8Array(400)]] }));
    expect(tooBig.omitted).toEqual([224]);
  });
});

describe('encodeReply on random replies (seeded)', () => {
  it('writes well-formed messages holding exactly the options it did not omit, 82 last, within maxSize', () => {
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let run = 0; run < 500; run++) {
      const codes = [...new Set(Array.from({ length: next(12) }, () => 1 + next(220)))].filter(
        (c) => c !== 82,
      );
      const options = codes.map(
        (c) =>
          [c, Uint8Array.from({ length: next(5) === 0 ? next(600) : next(20) }, () => next(256))] as const,
      );
      const relay = next(3) === 0 ? Uint8Array.from({ length: next(40) }, () => next(256)) : undefined;
      const s = spec({
        format: 'dhcp',
        xid: next(0xffffff),
        maxSize: [300, 548, 576 - 28, 1472][next(4)]!,
        options,
        ...(relay ? { relayAgentInfo: relay } : {}),
      });
      const { bytes, omitted } = encodeReply(s);
      expect(bytes.length).toBeLessThanOrEqual(Math.max(300, s.maxSize));
      expect(bytes.length).toBeGreaterThanOrEqual(300);
      const full = decodeBootp(bytes);
      expect(full.ok).toBe(true);
      if (!full.ok) continue;
      expect(encodeBootp(full.value)).toEqual(new Uint8Array(bytes));
      expect(full.value.xid).toBe(s.xid);
      const kept = [...collectDhcpOptions(full.value)];
      const expectKept = options.filter(([c]) => !omitted.includes(c));
      if (relay && !omitted.includes(82)) expectKept.push([82, relay]);
      expect(kept.map(([c, v]) => [c, [...v]])).toEqual(expectKept.map(([c, v]) => [c, [...v]]));
      expect([...kept.map(([c]) => c), ...omitted].sort()).toEqual([...codes, ...(relay ? [82] : [])].sort());
    }
  });
});

describe('encodeReply buffers', () => {
  it('gives every reply bytes of its own: later replies (past a shared slab) never change or overlap it', () => {
    const first = encodeReply(
      spec({ format: 'dhcp', maxSize: 548, options: [[1, Uint8Array.of(255, 255, 0, 0)]] }),
    );
    const copy = Uint8Array.from(first.bytes);
    const taken: { buffer: ArrayBufferLike; from: number; to: number }[] = [];
    for (let i = 0; i < 400; i++) {
      // Options full of 0xff, sizes 300..1472: enough to go through many 16 KiB slabs.
      const { bytes } = encodeReply(
        spec({
          format: 'dhcp',
          maxSize: 1472,
          options: [[224, new Uint8Array(i % 5 === 0 ? 900 : 40).fill(0xff)]],
        }),
      );
      // Padding after End is zero: a region is never handed out twice.
      const end = bytes.lastIndexOf(255);
      expect(bytes.subarray(end + 1).every((b) => b === 0)).toBe(true);
      taken.push({ buffer: bytes.buffer, from: bytes.byteOffset, to: bytes.byteOffset + bytes.length });
    }
    expect(first.bytes).toEqual(copy);
    for (const a of taken) {
      const overlapping = taken.filter((b) => b.buffer === a.buffer && b.from < a.to && a.from < b.to);
      expect(overlapping).toHaveLength(1);
    }
  });
});
