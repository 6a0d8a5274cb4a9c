import { describe, expect, it } from 'vitest';
import { concatBytes, ipv4ToInt, utf8Encode } from '../wire.js';
import { DHCP_ERROR_CODES } from './codes.js';
import { GOLDEN_PACKETS, PXE_DISCOVER, RELAYED_REQUEST } from './golden.js';
import { renderBootpJson } from './json.js';
import { collectDhcpOptions, getDhcpOption } from './options.js';
import { decodeBootp, encodeBootp } from './packet.js';
import { buildBootpReply, fitDhcpOptions } from './reply.js';
import { decodeIpxeOptions, decodePxeOptions, decodeRelayAgentInfo } from './suboptions.js';
import type { BootpPacket } from './types.js';
import { bootpFieldText, DhcpMessageType } from './types.js';
import { decodeBootpView } from './view.js';
import { seededRandom } from '../turbo/schedule.js';

function decoded(bytes: Uint8Array): BootpPacket {
  const r = decodeBootp(bytes);
  if (!r.ok) throw new Error(r.error.code);
  return r.value;
}

/** Golden packets plus replies built by the codec, including an overloaded one. */
function corpus(): Uint8Array[] {
  const offer = buildBootpReply(decoded(RELAYED_REQUEST), {
    messageType: DhcpMessageType.OFFER,
    serverId: '10.0.0.2',
    yiaddr: '10.0.0.50',
    options: [
      { code: 15, data: new Uint8Array(220).fill(0x61) },
      { code: 67, data: utf8Encode('http://10.0.0.2/boot.ipxe') },
      { code: 12, data: utf8Encode('node-50') },
    ],
  });
  const overloaded = fitDhcpOptions(offer, 548)!;
  const pxeAck = buildBootpReply(decoded(PXE_DISCOVER), {
    messageType: DhcpMessageType.ACK,
    serverId: '192.168.1.1',
    file: 'ipxe.efi',
    options: [
      { code: 60, data: utf8Encode('PXEClient') },
      { code: 43, data: Uint8Array.of(6, 1, 8, 255) },
      { code: 97, data: getDhcpOption(decoded(PXE_DISCOVER), 97)! },
    ],
  });
  return [
    ...Object.values(GOLDEN_PACKETS),
    encodeBootp(offer, { minLength: 300 }),
    encodeBootp(overloaded),
    encodeBootp(pxeAck, { minLength: 300 }),
  ];
}

const INTERESTING = [0, 1, 2, 3, 4, 6, 16, 17, 52, 53, 82, 99, 127, 128, 175, 254, 255];

function mutate(input: Uint8Array, rand: () => number): Uint8Array {
  let bytes: Uint8Array = input.slice();
  const int = (n: number) => Math.floor(rand() * n);
  const rounds = 1 + int(3);
  for (let r = 0; r < rounds; r++) {
    const at = int(bytes.length + 1);
    switch (int(6)) {
      case 0: // flip 1-4 bits
        for (let k = 1 + int(4); k > 0 && bytes.length > 0; k--) bytes[int(bytes.length)]! ^= 1 << int(8);
        break;
      case 1: // truncate
        bytes = bytes.slice(0, at);
        break;
      case 2: {
        // insert 1-8 random octets
        const extra = Uint8Array.from({ length: 1 + int(8) }, () => int(256));
        bytes = concatBytes([bytes.subarray(0, at), extra, bytes.subarray(at)]);
        break;
      }
      case 3: // delete a range
        bytes = concatBytes([bytes.subarray(0, at), bytes.subarray(at + 1 + int(16))]);
        break;
      case 4: // an interesting value at an option-ish position (past the header most of the time)
        if (bytes.length > 0)
          bytes[rand() < 0.8 && bytes.length > 240 ? 236 + int(bytes.length - 236) : int(bytes.length)] =
            INTERESTING[int(INTERESTING.length)]!;
        break;
      default: // append random octets
        bytes = concatBytes([bytes, Uint8Array.from({ length: 1 + int(12) }, () => int(256))]);
    }
  }
  return bytes;
}

describe('fuzz: mutated packets', () => {
  it('never throws; errors are listed codes within the input; successes re-encode exactly', () => {
    const rand = seededRandom(0x5eed_d4c9);
    const seeds = corpus();
    const codes = new Set<string>(DHCP_ERROR_CODES);
    const seen = new Map<string, number>();
    const problems: string[] = [];
    const RUNS = 100_000;
    for (let i = 0; i < RUNS; i++) {
      const input = mutate(seeds[i % seeds.length]!, rand);
      const r = decodeBootp(input);
      if (!r.ok) {
        seen.set(r.error.code, (seen.get(r.error.code) ?? 0) + 1);
        if (!codes.has(r.error.code) || r.error.offset < 0 || r.error.offset > input.length) {
          problems.push(`run ${i}: ${r.error.code} at ${r.error.offset} of ${input.length}`);
        }
        continue;
      }
      seen.set('ok', (seen.get('ok') ?? 0) + 1);
      const again = encodeBootp(r.value);
      if (again.length !== input.length || again.some((b, k) => b !== input[k])) {
        problems.push(`run ${i}: re-encode differs`);
      }
      if (i % 16 === 0) JSON.stringify(renderBootpJson(r.value));
      for (const [code, decode] of [
        [43, decodePxeOptions],
        [82, decodeRelayAgentInfo],
        [175, decodeIpxeOptions],
      ] as const) {
        const value = getDhcpOption(r.value, code);
        if (!value) continue;
        const sub = decode(value);
        if (!sub.ok && (!codes.has(sub.error.code) || sub.error.offset > value.length)) {
          problems.push(`run ${i}: option ${code}: ${sub.error.code} at ${sub.error.offset}`);
        }
      }
      if (problems.length > 10) break;
    }
    expect(problems).toEqual([]);
    // The mutations must reach every decoder path, or this test proves little.
    for (const code of ['ok', ...DHCP_ERROR_CODES.filter((c) => !c.includes('SUBOPTION'))]) {
      expect(seen.get(code) ?? 0, code).toBeGreaterThan(50);
    }
    // About 2 s on an idle machine; the limit leaves room for a loaded CI runner.
  }, 60_000);
});

describe('fuzz: decodeBootpView against decodeBootp', () => {
  it('accepts and refuses the same inputs (same error, same offset) and reads the same values', () => {
    const rand = seededRandom(0x0b5e_55ed);
    const seeds = corpus();
    const problems: string[] = [];
    let accepted = 0;
    for (let i = 0; i < 50_000 && problems.length <= 10; i++) {
      const input = i < seeds.length ? seeds[i]! : mutate(seeds[i % seeds.length]!, rand);
      const full = decodeBootp(input);
      const view = decodeBootpView(input);
      if (!full.ok || !view.ok) {
        if (full.ok !== view.ok || JSON.stringify(full) !== JSON.stringify(view))
          problems.push(
            `run ${i}: ${JSON.stringify(full.ok || full.error)} vs ${JSON.stringify(view.ok || view.error)}`,
          );
        continue;
      }
      accepted++;
      const p = full.value;
      const v = view.value;
      const expected = {
        header: [p.op, p.htype, p.hlen, p.hops, p.xid, p.secs, p.flags, p.magicCookie],
        addresses: [p.ciaddr, p.yiaddr, p.siaddr, p.giaddr].map(ipv4ToInt),
        chaddr: [...p.chaddr],
        sname: bootpFieldText(p.sname),
        file: bootpFieldText(p.file),
        options: [...collectDhcpOptions(p)].map(([code, value]) => [code, [...value]]),
      };
      const got = {
        header: [v.op, v.htype, v.hlen, v.hops, v.xid, v.secs, v.flags, v.magicCookie],
        addresses: [v.ciaddr, v.yiaddr, v.siaddr, v.giaddr],
        chaddr: [...v.chaddr],
        sname: v.sname,
        file: v.file,
        options: [...v.options].map(([code, value]) => [code, [...value]]),
      };
      if (JSON.stringify(expected) !== JSON.stringify(got)) problems.push(`run ${i}: values differ`);
    }
    expect(problems).toEqual([]);
    expect(accepted).toBeGreaterThan(5000);
  }, 60_000);

  it('reads a Node Buffer without copying it', () => {
    const input = Buffer.from(RELAYED_REQUEST);
    const r = decodeBootpView(input);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.chaddr.buffer).toBe(input.buffer);
    expect(Buffer.isBuffer(r.value.chaddr)).toBe(false);
    expect(r.value.giaddr).toBe(ipv4ToInt(decoded(RELAYED_REQUEST).giaddr));
  });
});
