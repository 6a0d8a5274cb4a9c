/**
 * Seeded property and fuzz tests of the codec: round-trips of generated packets, and 100,000 mutated
 * packets that must decode to either a packet that re-encodes to the same bytes or an error whose code is
 * in TFTP_DECODE_ERROR_CODES and whose offset lies within [0, length].
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../wire.js';
import { TFTP_DECODE_ERROR_CODES, decodeTftp, encodeTftp, encodingLength } from './packet.js';
import type { TftpPacket } from './packet.js';
import { renderTftpJson } from './render.js';

const text = (minLength: number) =>
  fc.string({
    unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)),
    minLength,
    maxLength: 24,
  });
const lower = (minLength: number) => text(minLength).map((s) => s.toLowerCase());
const option = fc.record({ name: lower(1), value: text(0) });
const block = fc.integer({ min: 0, max: 0xffff });

const packetArb: fc.Arbitrary<TftpPacket> = fc.oneof(
  fc.record({
    opcode: fc.constantFrom('RRQ' as const, 'WRQ' as const),
    filename: text(1),
    mode: lower(1),
    options: fc.array(option, { maxLength: 6 }),
  }),
  fc.record({ opcode: fc.constant('DATA' as const), block, data: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({ opcode: fc.constant('ACK' as const), block }),
  fc.record({ opcode: fc.constant('ERROR' as const), errorCode: block, errorMessage: text(0) }),
  fc.record({ opcode: fc.constant('OACK' as const), options: fc.array(option, { maxLength: 6 }) }),
  fc.record({
    opcode: fc.constant('BDATA' as const),
    block,
    sbid: fc.integer({ min: 0, max: 0xffffffff }),
    data: fc.uint8Array({ maxLength: 64 }),
  }),
);

const CODES: readonly string[] = TFTP_DECODE_ERROR_CODES;

function checkDecode(input: Uint8Array): void {
  const r = decodeTftp(input);
  if (r.ok) {
    // Whatever decodes must re-encode to the same bytes, modulo lower-casing of names and mode.
    const again = decodeTftp(encodeTftp(r.value));
    expect(again).toEqual(r);
    expect(encodingLength(r.value)).toBe(input.length);
    expect(renderTftpJson(r.value)).toMatch(/^\{"proto":"tftp","opcode":"[A-Z]+"/);
    return;
  }
  if (!CODES.includes(r.error.code)) throw new Error(`unlisted code ${r.error.code}`);
  if (r.error.offset < 0 || r.error.offset > input.length)
    throw new Error(`offset ${r.error.offset} outside input`);
}

describe('TFTP codec properties (seeded)', () => {
  it('decode(encode(p)) = p, length = encodingLength, stable re-encode', () => {
    fc.assert(
      fc.property(packetArb, (packet) => {
        const wire = encodeTftp(packet);
        expect(wire.length).toBe(encodingLength(packet));
        const decoded = decodeTftp(wire);
        expect(decoded).toEqual({ ok: true, value: packet });
        if (decoded.ok) expect(bytesEqual(encodeTftp(decoded.value), wire)).toBe(true);
      }),
      { seed: 1350, numRuns: 2000 },
    );
  });

  it('every truncation of a valid packet decodes or fails with a listed code inside the input', () => {
    fc.assert(
      fc.property(packetArb, fc.nat(), (packet, cut) => {
        const wire = encodeTftp(packet);
        checkDecode(wire.subarray(0, cut % (wire.length + 1)));
      }),
      { seed: 2347, numRuns: 2000 },
    );
  });
});

describe('TFTP decoder fuzz', () => {
  it('100,000 seeded mutated packets: never throws, every error code listed, offset within input', () => {
    const seeds = fc.sample(packetArb, { seed: 7440, numRuns: 500 }).map((p) => encodeTftp(p));
    let state = 0x2090;
    const rand = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return Math.floor((state / 4294967296) * n);
    };
    const seen = new Set<string>();
    let decodedOk = 0;
    for (let i = 0; i < 100_000; i++) {
      const base = seeds[rand(seeds.length)]!;
      const bytes = Array.from(base);
      const mutations = 1 + rand(4);
      for (let m = 0; m < mutations; m++) {
        const kind = rand(6);
        const at = rand(bytes.length + 1);
        if (kind === 0 && bytes.length > 0) bytes[at % bytes.length] = rand(256);
        else if (kind === 1) bytes.splice(at, 1);
        else if (kind === 2) bytes.splice(at, 0, rand(256));
        else if (kind === 3) bytes.splice(at, 0, 0);
        else if (kind === 4) bytes.length = at;
        else if (bytes.length > 1) bytes[1] = rand(9);
      }
      const input = Uint8Array.from(bytes);
      let r;
      try {
        r = decodeTftp(input);
      } catch (e) {
        throw new Error(`decode threw on ${Buffer.from(input).toString('hex')}`, { cause: e });
      }
      if (r.ok) {
        decodedOk++;
        continue;
      }
      seen.add(r.error.code);
      if (!CODES.includes(r.error.code)) throw new Error(`unlisted code ${r.error.code}`);
      if (r.error.offset < 0 || r.error.offset > input.length) {
        throw new Error(`offset ${r.error.offset} outside ${input.length}-octet input`);
      }
    }
    // The fuzzer must reach both outcomes and most error paths, or it is not testing much.
    expect(decodedOk).toBeGreaterThan(1000);
    expect([...seen].sort()).toEqual(CODES.filter((c) => c !== 'TFTP_DATA_BLOCK_ZERO').sort());
  });

  it('mutants that do decode re-encode consistently (sampled)', () => {
    fc.assert(
      fc.property(packetArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (packet, pos, value) => {
        const wire = Uint8Array.from(encodeTftp(packet));
        if (wire.length > 0) wire[pos % wire.length] = value;
        checkDecode(wire);
      }),
      { seed: 2349, numRuns: 3000 },
    );
  });
});
