/**
 * Seeded mutation fuzz of the reader: 100,000 inputs made by mutating real fixtures and synthetic files
 * (all byte orders, resolutions and link types). Every input must decode without throwing to a result
 * whose invariants hold (codes from PCAP_DECODE_ERROR_CODES, offsets inside the input, payloads that are
 * the file's own bytes, frame accounting), and across the run every code must be produced at least once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../wire.js';
import { PCAP_DECODE_ERROR_CODES, PCAP_LINKTYPE } from './codes.js';
import type { PcapDecodeErrorCode } from './codes.js';
import { decodePcap } from './reader.js';
import { encodeIPv4Udp, encodeLinkFrame, encodePcap } from './writer.js';
import { seededRandom } from '../turbo/schedule.js';

const ITERATIONS = 100_000;
const SEED = 0x5eed_9ca9;

const FILE_CODES = new Set<PcapDecodeErrorCode>([
  'PCAP_TRUNCATED_HEADER',
  'PCAP_BAD_MAGIC',
  'PCAP_PCAPNG_UNSUPPORTED',
  'PCAP_UNSUPPORTED_VERSION',
  'PCAP_UNSUPPORTED_LINKTYPE',
]);
const TRUNCATION_CODES = new Set<PcapDecodeErrorCode>([
  'PCAP_TRUNCATED_RECORD_HEADER',
  'PCAP_TRUNCATED_RECORD',
]);
const FRAME_CODES = new Set<PcapDecodeErrorCode>(
  PCAP_DECODE_ERROR_CODES.filter((c) => !FILE_CODES.has(c) && !TRUNCATION_CODES.has(c)),
);
const KNOWN = new Set<string>(PCAP_DECODE_ERROR_CODES);

function seeds(): Uint8Array[] {
  const dir = new URL('../../fixtures/', import.meta.url);
  const fixtures = readdirSync(dir)
    .filter((f) => f.endsWith('.pcap'))
    .map((f) => new Uint8Array(readFileSync(new URL(f, dir))));
  const ip = encodeIPv4Udp({
    src: '10.213.9.1',
    dst: '10.213.9.2',
    srcPort: 69,
    dstPort: 40000,
    payload: Uint8Array.of(0, 4, 0, 1),
  });
  const synthetic = [PCAP_LINKTYPE.ETHERNET, PCAP_LINKTYPE.LINUX_SLL, PCAP_LINKTYPE.LINUX_SLL2].flatMap(
    (linkType) =>
      (['little', 'big'] as const).map((byteOrder) =>
        encodePcap(
          { linkType, byteOrder, timestampResolution: byteOrder === 'big' ? 'nanosecond' : 'microsecond' },
          [
            { tsSec: 1, tsNsec: 2, frame: encodeLinkFrame(linkType, ip) },
            { tsSec: 3, tsNsec: 4, frame: encodeLinkFrame(linkType, ip) },
          ],
        ),
      ),
  );
  return [...fixtures, ...synthetic];
}

const MAGICS = [
  [0xd4, 0xc3, 0xb2, 0xa1],
  [0xa1, 0xb2, 0xc3, 0xd4],
  [0x4d, 0x3c, 0xb2, 0xa1],
  [0xa1, 0xb2, 0x3c, 0x4d],
  [0x0a, 0x0d, 0x0d, 0x0a],
];
const INTERESTING = [0, 1, 7, 8, 0x0f, 0x20, 0x45, 0x7f, 0x80, 0xff];

function mutate(input: Uint8Array, all: readonly Uint8Array[], rand: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rand() * n);
  let out: Uint8Array = input.slice();
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    const at = int(Math.max(out.length, 1));
    switch (int(9)) {
      case 0:
        if (out.length) out[at] = out[at]! ^ (1 << int(8));
        break;
      case 1:
        if (out.length) out[at] = INTERESTING[int(INTERESTING.length)]!;
        break;
      case 2: {
        // A length/size-like field: 16 or 32 bits of an extreme or small value.
        const width = rand() < 0.5 ? 2 : 4;
        const value = [0, 1, 8, 19, 20, 0x7fff, 0xffff, 0xffffffff, int(0x10000)][int(9)]!;
        for (let i = 0; i < width && at + i < out.length; i++)
          out[at + i] = (value >>> (8 * (width - 1 - i))) & 0xff;
        break;
      }
      case 3:
        out = out.subarray(0, int(out.length + 1)).slice();
        break;
      case 4: {
        const extra = Uint8Array.from({ length: 1 + int(64) }, () => int(256));
        out = concatBytes([out.subarray(0, at), extra, out.subarray(at)]);
        break;
      }
      case 5: {
        const len = int(64);
        out = concatBytes([out.subarray(0, at), out.subarray(Math.min(out.length, at + len))]);
        break;
      }
      case 6:
        if (out.length >= 4) out.set(MAGICS[int(MAGICS.length)]!, 0);
        break;
      case 7:
        // Header fields: version (4..7) or link type (20..23).
        if (out.length >= 24) out[[4, 5, 20, 21, 22, 23][int(6)]!] = INTERESTING[int(INTERESTING.length)]!;
        break;
      default: {
        const other = all[int(all.length)]!;
        const from = int(other.length);
        const piece = other.subarray(from, from + int(200));
        out = concatBytes([out.subarray(0, at), piece, out.subarray(at)]);
      }
    }
  }
  return out;
}

describe('pcap reader fuzz', () => {
  it(`${ITERATIONS} seeded mutations never throw and keep every invariant`, { timeout: 60_000 }, () => {
    const all = seeds();
    const rand = seededRandom(SEED);
    const seen = new Set<string>();
    let okCount = 0;
    let udpCount = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const seed = all[i % all.length]!;
      const input = mutate(seed, all, rand);
      let result: ReturnType<typeof decodePcap>;
      try {
        result = decodePcap(input);
      } catch (err) {
        throw new Error(`iteration ${i} threw on ${Buffer.from(input).toString('hex').slice(0, 400)}`, {
          cause: err,
        });
      }
      if (!result.ok) {
        const { code, offset } = result.error;
        seen.add(code);
        if (!FILE_CODES.has(code) || offset < 0 || offset > input.length) {
          throw new Error(`iteration ${i}: bad failure ${code} at ${offset} (length ${input.length})`);
        }
        // A header identical to a valid one cannot fail.
        if (
          input.length >= 24 &&
          all.some((s) => Buffer.compare(s.subarray(0, 24), input.subarray(0, 24)) === 0)
        ) {
          throw new Error(`iteration ${i}: intact header failed with ${code}`);
        }
        continue;
      }
      okCount++;
      const c = result.value;
      if (c.frames !== c.udp.length + c.skipped.length) throw new Error(`iteration ${i}: frame accounting`);
      if (c.truncated) {
        seen.add(c.truncated.code);
        if (!TRUNCATION_CODES.has(c.truncated.code) || c.truncated.offset > input.length) {
          throw new Error(`iteration ${i}: bad truncation ${c.truncated.code}@${c.truncated.offset}`);
        }
      }
      for (const s of c.skipped) {
        seen.add(s.code);
        if (!FRAME_CODES.has(s.code) || s.offset < 24 || s.offset > input.length) {
          throw new Error(`iteration ${i}: bad skip ${s.code}@${s.offset} (length ${input.length})`);
        }
      }
      let lastFrame = 0;
      for (const r of c.udp) {
        udpCount++;
        const end = r.offset + r.payload.length;
        if (r.frame <= lastFrame || r.offset < 24 || end > input.length)
          throw new Error(`iteration ${i}: record out of bounds`);
        lastFrame = r.frame;
        for (let k = 0; k < r.payload.length; k++) {
          if (r.payload[k] !== input[r.offset + k])
            throw new Error(`iteration ${i}: payload is not the file's bytes`);
        }
        if (r.srcPort > 0xffff || r.dstPort > 0xffff || !/^(\d{1,3}\.){3}\d{1,3}$/.test(r.src)) {
          throw new Error(`iteration ${i}: bad addressing`);
        }
      }
    }
    for (const code of seen) expect(KNOWN.has(code)).toBe(true);
    // The mutations reach every path: each exported code was produced at least once.
    expect([...seen].sort()).toEqual([...PCAP_DECODE_ERROR_CODES].sort());
    expect(okCount).toBeGreaterThan(ITERATIONS / 4);
    expect(udpCount).toBeGreaterThan(ITERATIONS);
  });

  it('decodes the same bytes to the same result (deterministic)', () => {
    const rand = seededRandom(SEED + 1);
    const all = seeds();
    for (let i = 0; i < 200; i++) {
      const input = mutate(all[i % all.length]!, all, rand);
      expect(decodePcap(input)).toEqual(decodePcap(input.slice()));
    }
  });
});
