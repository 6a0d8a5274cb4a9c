import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIPv4, latin1Decode } from '../wire.js';
import { renderBootpJson } from './json.js';
import { collectDhcpOptions } from './options.js';
import { decodeBootp, encodeBootp, bootpEncodingLength } from './packet.js';
import { fitDhcpOptions } from './reply.js';
import type { BootpAreaEnding, BootpOption, BootpPacket } from './types.js';
import { DHCP_MAGIC_COOKIE } from './types.js';

const SEED = 42;
const EMPTY = new Uint8Array(0);

const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const ip = fc.tuple(u8, u8, u8, u8).map((b) => formatIPv4(Uint8Array.from(b)));

/** A fixed text field in decoded form: byte string without trailing NULs. */
const bootpFieldText = (max: number) =>
  fc.uint8Array({ maxLength: max }).map((b) => {
    let n = b.length;
    while (n > 0 && b[n - 1] === 0) n--;
    return latin1Decode(b, 0, n);
  });

const optionCode = fc.integer({ min: 1, max: 254 }).filter((c) => c !== 52);

function instance(area: 'file' | 'sname' | undefined, maxData: number): fc.Arbitrary<BootpOption> {
  return fc
    .oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: optionCode })
    .chain((code) =>
      (code === 0 ? fc.constant(EMPTY) : fc.uint8Array({ maxLength: maxData })).map((data) =>
        area ? { code, data, area } : { code, data },
      ),
    );
}

function size(options: readonly BootpOption[]): number {
  return options.reduce((n, o) => n + (o.code === 0 ? 1 : 2 + o.data.length), 0);
}

/** Options for an overloaded field that, with End and a trailer, fit in `room` octets. */
function fixedArea(area: 'file' | 'sname', room: number) {
  return fc
    .tuple(fc.array(instance(area, 30), { maxLength: 6 }), fc.uint8Array({ maxLength: 8 }))
    .map(([options, rawTrailer]) => {
      const kept: BootpOption[] = [];
      for (const o of options) if (size(kept) + size([o]) + 1 + rawTrailer.length <= room) kept.push(o);
      let n = rawTrailer.length;
      while (n > 0 && rawTrailer[n - 1] === 0) n--;
      const trailer = rawTrailer.slice(0, n);
      const ending: BootpAreaEnding | undefined = trailer.length > 0 ? { end: true, trailer } : undefined;
      return { options: kept, ending };
    });
}

const mainEnding: fc.Arbitrary<BootpAreaEnding | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constant({ end: false, trailer: EMPTY }),
  fc.uint8Array({ minLength: 1, maxLength: 80 }).map((trailer) => ({ end: true, trailer })),
);

const header = fc.record({
  op: fc.constantFrom(1, 2),
  htype: u8,
  hlen: fc.integer({ min: 0, max: 16 }),
  hops: u8,
  xid: fc.integer({ min: 0, max: 0xffffffff }),
  secs: u16,
  flags: u16,
  ciaddr: ip,
  yiaddr: ip,
  siaddr: ip,
  giaddr: ip,
  chaddr: fc.uint8Array({ minLength: 16, maxLength: 16 }),
});

const withoutCookie: fc.Arbitrary<BootpPacket> = fc
  .tuple(header, bootpFieldText(64), bootpFieldText(128), fc.uint8Array({ maxLength: 100 }))
  .filter(([, , , vend]) => !(vend.length >= 4 && DHCP_MAGIC_COOKIE.every((b, i) => vend[i] === b)))
  .map(([h, sname, file, vend]) => ({
    ...h,
    sname,
    file,
    magicCookie: false,
    ...(vend.length > 0 ? { vend } : {}),
    options: [],
  }));

const withCookie: fc.Arbitrary<BootpPacket> = fc
  .tuple(
    header,
    fc.constantFrom(0, 0, 1, 2, 3),
    bootpFieldText(64),
    bootpFieldText(128),
    fc.array(instance(undefined, 255), { maxLength: 12 }),
    fixedArea('file', 128),
    fixedArea('sname', 64),
    mainEnding,
  )
  .map(([h, overload, sname, file, main, fileArea, snameArea, ending]) => {
    const options: BootpOption[] = [...main];
    const endings: { options?: BootpAreaEnding; file?: BootpAreaEnding; sname?: BootpAreaEnding } = {};
    if (ending) endings.options = ending;
    if (overload) options.unshift({ code: 52, data: Uint8Array.of(overload) });
    if (overload & 1) {
      options.push(...fileArea.options);
      if (fileArea.ending) endings.file = fileArea.ending;
    }
    if (overload & 2) {
      options.push(...snameArea.options);
      if (snameArea.ending) endings.sname = snameArea.ending;
    }
    return {
      ...h,
      sname: overload & 2 ? '' : sname,
      file: overload & 1 ? '' : file,
      magicCookie: true,
      options,
      ...(Object.keys(endings).length > 0 ? { endings } : {}),
    };
  });

/** Packets in the form the decoder produces, so decode(encode(x)) must give back x. */
const bootpPacket: fc.Arbitrary<BootpPacket> = fc.oneof(
  { weight: 1, arbitrary: withoutCookie },
  { weight: 4, arbitrary: withCookie },
);

describe('property: round trip', () => {
  it('decode(encode(x)) = x, length = bootpEncodingLength, re-encode stable, encode at an offset', () => {
    fc.assert(
      fc.property(
        bootpPacket,
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 9 }),
        (x, min, at) => {
          const bytes = encodeBootp(x);
          expect(bytes.length).toBe(bootpEncodingLength(x));
          const back = decodeBootp(bytes);
          expect(back).toEqual({ ok: true, value: x });
          if (!back.ok) return;
          expect(encodeBootp(back.value)).toEqual(bytes);
          const padded = encodeBootp(x, { minLength: min });
          expect(padded.length).toBe(Math.max(bytes.length, min));
          expect(padded.subarray(0, bytes.length)).toEqual(bytes);
          const buffer = new Uint8Array(at + padded.length + 3).fill(0xa5);
          expect(encodeBootp(x, { minLength: min, buffer, offset: at })).toEqual(padded);
          const again = decodeBootp(padded);
          expect(again.ok && encodeBootp(again.value)).toEqual(padded);
        },
      ),
      { seed: SEED, numRuns: 250 },
    );
  }, 30_000);

  it('renders JSON for every packet', () => {
    fc.assert(
      fc.property(bootpPacket, (x) => {
        const json = renderBootpJson(x);
        expect(json.options.length).toBe(collectDhcpOptions(x).size);
        expect(() => JSON.stringify(json)).not.toThrow();
      }),
      { seed: SEED, numRuns: 200 },
    );
  }, 30_000);
});

describe('property: arbitrary bytes', () => {
  const bytesAfterHeader = fc
    .tuple(
      fc.constantFrom(1, 2),
      fc.integer({ min: 0, max: 16 }),
      fc.uint8Array({ minLength: 232, maxLength: 232 }),
      fc.boolean(),
      fc.uint8Array({ maxLength: 120 }),
    )
    .map(([op, hlen, rest, cookie, tail]) => {
      const head = Uint8Array.from([op, 1, hlen, ...rest]);
      const out = new Uint8Array(236 + (cookie ? 4 : 0) + tail.length);
      out.set(head);
      if (cookie) out.set(DHCP_MAGIC_COOKIE, 236);
      out.set(tail, cookie ? 240 : 236);
      return out;
    });

  it('decode never throws; whatever decodes re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), bytesAfterHeader), (bytes) => {
        const r = decodeBootp(bytes);
        if (r.ok) expect(encodeBootp(r.value)).toEqual(bytes);
        else expect(r.error.offset).toBeLessThanOrEqual(bytes.length);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  }, 30_000);
});

describe('property: fitDhcpOptions', () => {
  it('fits within the limit and keeps every option value', () => {
    const reply = fc
      .array(
        fc.tuple(
          optionCode.filter((c) => c !== 53 && c !== 54 && c !== 82),
          fc.uint8Array({ maxLength: 120 }),
        ),
        {
          maxLength: 10,
        },
      )
      .map((list) => {
        const seen = new Set<number>();
        const options: BootpOption[] = [{ code: 53, data: Uint8Array.of(2) }];
        for (const [code, data] of list) {
          if (seen.has(code)) continue;
          seen.add(code);
          options.push({ code, data });
        }
        return options;
      });
    fc.assert(
      fc.property(reply, fc.integer({ min: 300, max: 700 }), (options, limit) => {
        const packet: BootpPacket = {
          op: 2,
          htype: 1,
          hlen: 6,
          hops: 0,
          xid: 1,
          secs: 0,
          flags: 0,
          ciaddr: '0.0.0.0',
          yiaddr: '10.0.0.2',
          siaddr: '0.0.0.0',
          giaddr: '0.0.0.0',
          chaddr: new Uint8Array(16),
          sname: '',
          file: '',
          magicCookie: true,
          options,
        };
        const fitted = fitDhcpOptions(packet, limit);
        if (!fitted) return;
        expect(bootpEncodingLength(fitted)).toBeLessThanOrEqual(limit);
        const before = collectDhcpOptions(packet);
        const after = collectDhcpOptions(fitted);
        after.delete(52);
        expect(after).toEqual(before);
        const back = decodeBootp(encodeBootp(fitted));
        expect(back).toEqual({ ok: true, value: fitted });
      }),
      { seed: SEED, numRuns: 200 },
    );
  }, 30_000);
});
