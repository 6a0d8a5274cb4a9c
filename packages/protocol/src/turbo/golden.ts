/**
 * Annotated Turbo payloads laid out as in SPEC §4-§5 (the same bytes appear in the SPEC's examples).
 * Used by this module's golden, fuzz and packet-size tests, and usable by other packages' tests.
 */
import type { TurboDiscover, TurboOffer } from './types.js';

/** Annotated hex: `#` starts a comment; whitespace is ignored. */
export function turboHex(strings: TemplateStringsArray, ...values: string[]): Uint8Array {
  let text = '';
  strings.forEach((s, i) => {
    text += s + (values[i] ?? '');
  });
  const clean = text.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(clean)) throw new Error('bad annotated hex');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function run(first: number, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (first + i) & 0xff);
}

/** Example manifest digest 00 01 02 .. 1f and validation token a0 a1 .. af. */
export const GOLDEN_DIGEST = run(0x00, 32);
export const GOLDEN_TOKEN = run(0xa0, 16);

/** A warm-cache client on its first burst, second discover: SPEC §4.2 example. 65 octets. */
export const GOLDEN_DISCOVER: TurboDiscover = {
  kind: 'discover',
  accept: [1, 2, 3, 4],
  cacheToken: { manifestDigest: GOLDEN_DIGEST, validationToken: GOLDEN_TOKEN },
  attempt: { round: 0, burstIndex: 1 },
  windowMs: 1000,
};

export const GOLDEN_DISCOVER_BYTES = turboHex`
  42 54 01 01                                       # magic "BT", version 1, type 1 = discover
  01 01 0f                                          # ACCEPT len 1: http2|tftp|broadcast|multicast
  02 30                                             # CACHE_TOKEN len 48
        00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f
        10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f #   manifest digest (32)
        a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af #   validation token (16)
  03 02 00 01                                       # ATTEMPT len 2: round 0, burst index 1
  04 02 03 e8                                       # WINDOW len 2: 1000 ms
`;

/** The answer to it with four endpoints: SPEC §5.3 example. 110 octets. */
export const GOLDEN_OFFER: TurboOffer = {
  kind: 'offer',
  manifestDigest: GOLDEN_DIGEST,
  verdict: 'valid',
  load: 64,
  pacingMs: 50,
  endpoints: [
    { type: 1, address: '10.0.0.5', port: 443, id: 7 },
    { type: 2, address: '10.0.0.5', port: 69, id: 0 },
    { type: 3, address: '10.0.0.5', port: 69, id: 17 },
    { type: 4, address: '10.0.0.5', port: 69, id: 42 },
  ],
  validationToken: GOLDEN_TOKEN,
};

export const GOLDEN_OFFER_BYTES = turboHex`
  42 54 01 02                                       # magic "BT", version 1, type 2 = offer
  01 20                                             # MANIFEST len 32
        00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f
        10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f
  02 01 01                                          # VERDICT len 1: 1 = valid
  03 01 40                                          # LOAD len 1: 64/255
  04 02 00 32                                       # PACING len 2: 50 ms
  05 09 01 01 bb 00 07 0a 00 00 05                  # ENDPOINT http2      port 443  id 7  10.0.0.5
  05 09 02 00 45 00 00 0a 00 00 05                  # ENDPOINT tftp       port 69   id 0  10.0.0.5
  05 09 03 00 45 00 11 0a 00 00 05                  # ENDPOINT broadcast  port 69   id 17 10.0.0.5
  05 09 04 00 45 00 2a 0a 00 00 05                  # ENDPOINT multicast  port 69   id 42 10.0.0.5
  06 10 a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af # VALIDATION_TOKEN len 16
`;
