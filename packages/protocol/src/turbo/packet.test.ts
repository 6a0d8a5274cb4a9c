/**
 * Full BOOTP/DHCP packets carrying Turbo payloads, assembled here with a tiny local helper (no import from
 * src/dhcp), to measure what goes on the wire: the sizes SPEC.md §10 states are checked against these,
 * and every packet must fit the 576-octet datagram (548 octets of UDP payload) every client accepts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { concatBytes, parseIPv4 } from '../wire.js';
import { encodeTurbo } from './codec.js';
import { TURBO_OPTION_CODE } from './codes.js';
import { GOLDEN_DISCOVER, GOLDEN_OFFER } from './golden.js';
import { getTurboFromOptions, turboOptions } from './options.js';
import type { OptionLike, TurboPayload } from './types.js';

const MAX_UDP_PAYLOAD = 576 - 20 - 8;
const COOKIE = Uint8Array.of(99, 130, 83, 99);
const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0xab, 0xcd, 0xef);

/** RFC 951 fixed header (236 octets): op htype hlen hops xid secs flags ciaddr yiaddr siaddr giaddr chaddr sname file. */
function header(op: 1 | 2, yiaddr = '0.0.0.0', siaddr = '0.0.0.0'): Uint8Array {
  const h = new Uint8Array(236);
  h[0] = op;
  h[1] = 1; // htype Ethernet
  h[2] = 6; // hlen
  new DataView(h.buffer).setUint32(4, 0x3903f326); // xid
  h[10] = 0x80; // flags: BROADCAST
  h.set(parseIPv4(yiaddr)!, 16);
  h.set(parseIPv4(siaddr)!, 20);
  h.set(MAC, 28);
  return h;
}

function options(list: readonly OptionLike[]): Uint8Array {
  return concatBytes([
    ...list.map((o) => Uint8Array.of(o.code, o.data.length, ...o.data)),
    Uint8Array.of(255),
  ]);
}

const opt = (code: number, ...data: number[]): OptionLike => ({ code, data: Uint8Array.from(data) });
const ip = (text: string) => [...parseIPv4(text)!];

/** What the Turbo client sends besides its Turbo option (SPEC §10). */
function discoverOptions(turbo: boolean): OptionLike[] {
  return [
    opt(53, 1), // DHCPDISCOVER
    opt(61, 1, ...MAC), // client identifier: type 1 + MAC
    opt(57, 0x05, 0xc0), // max message size 1472
    opt(55, 1, 3, 6, 12, 15, ...(turbo ? [TURBO_OPTION_CODE] : [])), // parameter request list
    opt(93, 0, 7), // client architecture: x64 UEFI
  ];
}

/** What the agent answers besides its Turbo option (SPEC §10). */
function offerOptions(): OptionLike[] {
  return [
    opt(53, 2), // DHCPOFFER
    opt(54, ...ip('10.0.0.5')), // server identifier
    opt(51, 0, 0, 0x0e, 0x10), // lease 3600 s
    opt(1, 255, 255, 255, 0), // subnet mask (before router, RFC 2132 §3.3)
    opt(3, ...ip('10.0.0.1')), // router
    opt(6, ...ip('10.0.0.1')), // DNS
  ];
}

function packet(op: 1 | 2, base: OptionLike[], turbo?: TurboPayload): Uint8Array {
  const list = turbo ? [...base, ...turboOptions(turbo)] : base;
  const head = op === 2 ? header(2, '10.0.0.42', '10.0.0.5') : header(1);
  return concatBytes([head, COOKIE, options(list)]);
}

/** Parses the options field of a packet built above (enough to prove the Turbo option is found again). */
function parseOptions(bytes: Uint8Array): OptionLike[] {
  const out: OptionLike[] = [];
  let i = 240;
  while (i < bytes.length && bytes[i] !== 255) {
    const length = bytes[i + 1]!;
    out.push({ code: bytes[i]!, data: bytes.slice(i + 2, i + 2 + length) });
    i += 2 + length;
  }
  return out;
}

const manyEndpoints: TurboPayload = {
  ...GOLDEN_OFFER,
  endpoints: Array.from({ length: 8 }, (_, i) => ({
    type: 1 + (i % 4),
    address: `10.0.${i}.5`,
    port: 443,
    id: i,
  })),
};

const measured = {
  'Plain DHCPDISCOVER': packet(1, discoverOptions(false)).length,
  'Turbo DHCPDISCOVER, warm cache': packet(1, discoverOptions(true), GOLDEN_DISCOVER).length,
  'Turbo DHCPDISCOVER, cold cache': packet(1, discoverOptions(true), {
    kind: 'discover',
    accept: [1, 2, 3, 4],
    attempt: { round: 0, burstIndex: 0 },
    windowMs: 1000,
  }).length,
  'Plain DHCPOFFER': packet(2, offerOptions()).length,
  'Turbo DHCPOFFER, 4 endpoints': packet(2, offerOptions(), GOLDEN_OFFER).length,
  'Turbo DHCPOFFER, 8 endpoints': packet(2, offerOptions(), manyEndpoints).length,
};

describe('Turbo inside real BOOTP/DHCP packets', () => {
  it('measures the typical packets (these numbers are in SPEC.md §10)', () => {
    expect(measured).toEqual({
      'Plain DHCPDISCOVER': 268,
      'Turbo DHCPDISCOVER, warm cache': 336,
      'Turbo DHCPDISCOVER, cold cache': 286,
      'Plain DHCPOFFER': 274,
      'Turbo DHCPOFFER, 4 endpoints': 386,
      'Turbo DHCPOFFER, 8 endpoints': 430,
    });
  });

  it('every packet fits the 576-octet datagram (548 octets of UDP payload)', () => {
    for (const size of Object.values(measured)) expect(size).toBeLessThanOrEqual(MAX_UDP_PAYLOAD);
  });

  it('SPEC.md states exactly the measured sizes', () => {
    const spec = readFileSync(new URL('../../SPEC.md', import.meta.url), 'utf8');
    for (const [name, size] of Object.entries(measured)) {
      const cells = spec
        .split('\n')
        .map((line) => line.split('|').map((cell) => cell.trim()))
        .find((row) => row[0] === '' && row[1] === name);
      expect(cells, `SPEC.md has a table row for "${name}"`).toBeDefined();
      expect(cells![2]).toBe(String(size));
    }
  });

  it('the Turbo option fits one option instance and is found again in the packet', () => {
    for (const payload of [GOLDEN_DISCOVER, GOLDEN_OFFER, manyEndpoints]) {
      expect(encodeTurbo(payload).length).toBeLessThanOrEqual(255);
      const op = payload.kind === 'discover' ? 1 : 2;
      const base = op === 1 ? discoverOptions(true) : offerOptions();
      const found = getTurboFromOptions(parseOptions(packet(op, base, payload)));
      expect(found).toEqual({ ok: true, value: payload });
    }
  });

  it('a legacy packet has no Turbo option: ok(null)', () => {
    expect(getTurboFromOptions(parseOptions(packet(1, discoverOptions(false))))).toEqual({
      ok: true,
      value: null,
    });
  });

  it('places the header fields where RFC 951 puts them', () => {
    const bytes = packet(2, offerOptions(), GOLDEN_OFFER);
    expect([...bytes.subarray(0, 4)]).toEqual([2, 1, 6, 0]);
    expect([...bytes.subarray(16, 20)]).toEqual([10, 0, 0, 42]);
    expect([...bytes.subarray(28, 34)]).toEqual([...MAC]);
    expect([...bytes.subarray(236, 240)]).toEqual([99, 130, 83, 99]);
    expect(bytes[bytes.length - 1]).toBe(255);
  });
});
