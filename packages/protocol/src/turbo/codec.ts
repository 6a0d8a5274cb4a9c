import type { DecodeResult } from '../wire.js';
import { fail, formatIPv4, ok, parseIPv4 } from '../wire.js';
import {
  CACHE_TOKEN_LENGTH,
  DIGEST_LENGTH,
  DiscoverField,
  ENDPOINT_LENGTH,
  MAX_ENDPOINT_TYPE,
  OfferField,
  TURBO_HEADER_LENGTH,
  TURBO_MAGIC,
  TURBO_VERSION,
  TurboEncodeError,
  TurboErrorCode,
  TurboMessageType,
  VALIDATION_TOKEN_LENGTH,
  VERDICT_CODES,
} from './codes.js';
import type { TurboVerdict } from './codes.js';
import type {
  TurboCacheToken,
  TurboDiscover,
  TurboEndpoint,
  TurboExtension,
  TurboOffer,
  TurboPayload,
} from './types.js';

/*
 * Turbo payload (SPEC §3.2): the value of the Turbo option (default code 224), after RFC 3396
 * concatenation of all its instances.
 *
 *    0        1        2        3        4 ...
 *  +--------+--------+--------+--------+---------------------------------+
 *  |  0x42  |  0x54  |version | type   | TLV fields: code(1) len(1) data |
 *  |  'B'   |  'T'   |  = 1   | 1 / 2  | ... (each code has a length)    |
 *  +--------+--------+--------+--------+---------------------------------+
 *
 * Discover (type 1, SPEC §4), canonical field order:
 *   1 ACCEPT        len 1   bitmask of endpoint types (bit 0 = type 1)      required
 *   2 CACHE_TOKEN   len 48  manifest digest (32) + validation token (16)    optional
 *   3 ATTEMPT       len 2   retransmission round (u8), index in burst (u8)  optional
 *   4 WINDOW        len 2   offer collection window, ms (u16)               optional
 *
 * Offer (type 2, SPEC §5), canonical field order:
 *   1 MANIFEST          len 32  manifest digest                             required
 *   2 VERDICT           len 1   0 unknown, 1 valid, 2 stale                 required
 *   3 LOAD              len 1   0 idle .. 255 saturated                     required
 *   4 PACING            len 2   ms before the first transfer (u16)          required
 *   5 ENDPOINT          len 9   type(1) port(2) id(2) IPv4(4); repeated,    0..n
 *                               order of appearance = preference
 *   6 VALIDATION_TOKEN  len 16  opaque                                      optional
 *
 * Unknown codes are skipped (kept as `extensions`). Multi-octet numbers are big-endian.
 */

const VERDICT_BY_CODE: readonly TurboVerdict[] = ['unknown', 'valid', 'stale'];

const DISCOVER_CODES = new Set<number>(Object.values(DiscoverField));
const OFFER_CODES = new Set<number>(Object.values(OfferField));

// ---------------------------------------------------------------- encoding

function checkBytes(bytes: Uint8Array | undefined, length: number, what: string): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length)
    throw new TurboEncodeError(`${what} must be ${length} octets`);
  return bytes;
}

function checkInt(value: number, max: number, what: string, min = 0): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new TurboEncodeError(`${what} must be an integer in ${min}..${max}, got ${value}`);
  return value;
}

/** Bitmask for an ACCEPT list (ascending, unique, 1..8). Throws `TurboEncodeError`. */
export function acceptMask(accept: readonly number[]): number {
  let mask = 0;
  let previous = 0;
  for (const type of accept) {
    checkInt(type, MAX_ENDPOINT_TYPE, 'accepted endpoint type', 1);
    if (type <= previous) throw new TurboEncodeError('accepted endpoint types must be ascending and unique');
    previous = type;
    mask |= 1 << (type - 1);
  }
  return mask;
}

/** Endpoint types named by an ACCEPT bitmask, ascending. */
export function acceptFromMask(mask: number): number[] {
  const out: number[] = [];
  for (let type = 1; type <= MAX_ENDPOINT_TYPE; type++) if (mask & (1 << (type - 1))) out.push(type);
  return out;
}

function u16(value: number): Uint8Array {
  return Uint8Array.of(value >>> 8, value & 0xff);
}

function endpointBytes(e: TurboEndpoint): Uint8Array {
  checkInt(e.type, 255, 'endpoint type', 1);
  checkInt(e.port, 0xffff, 'endpoint port');
  checkInt(e.id, 0xffff, 'endpoint id');
  const address = parseIPv4(e.address);
  if (!address) throw new TurboEncodeError(`endpoint address ${e.address} is not dotted-quad IPv4`);
  const out = new Uint8Array(ENDPOINT_LENGTH);
  out[0] = e.type;
  out.set(u16(e.port), 1);
  out.set(u16(e.id), 3);
  out.set(address, 5);
  return out;
}

/** The 48-octet wire form of a cache token: manifest digest then validation token. Throws on bad widths. */
export function cacheTokenBytes(token: TurboCacheToken): Uint8Array {
  const out = new Uint8Array(CACHE_TOKEN_LENGTH);
  out.set(checkBytes(token.manifestDigest, DIGEST_LENGTH, 'cache token manifest digest'), 0);
  out.set(
    checkBytes(token.validationToken, VALIDATION_TOKEN_LENGTH, 'cache token validation token'),
    DIGEST_LENGTH,
  );
  return out;
}

function extensionFields(
  extensions: readonly TurboExtension[] | undefined,
  known: Set<number>,
): TurboExtension[] {
  const out: TurboExtension[] = [];
  for (const x of extensions ?? []) {
    checkInt(x.code, 255, 'extension code');
    if (known.has(x.code)) throw new TurboEncodeError(`extension code ${x.code} is a known field`);
    out.push(x);
  }
  return out;
}

function discoverFields(d: TurboDiscover): TurboExtension[] {
  const fields: TurboExtension[] = [
    { code: DiscoverField.ACCEPT, data: Uint8Array.of(acceptMask(d.accept)) },
  ];
  if (d.cacheToken) fields.push({ code: DiscoverField.CACHE_TOKEN, data: cacheTokenBytes(d.cacheToken) });
  if (d.attempt) {
    const round = checkInt(d.attempt.round, 255, 'attempt round');
    const index = checkInt(d.attempt.burstIndex, 255, 'burst index');
    fields.push({ code: DiscoverField.ATTEMPT, data: Uint8Array.of(round, index) });
  }
  if (d.windowMs !== undefined)
    fields.push({ code: DiscoverField.WINDOW, data: u16(checkInt(d.windowMs, 0xffff, 'window')) });
  return [...fields, ...extensionFields(d.extensions, DISCOVER_CODES)];
}

function offerFields(o: TurboOffer): TurboExtension[] {
  const verdict = VERDICT_CODES[o.verdict];
  if (verdict === undefined) throw new TurboEncodeError(`unknown verdict ${String(o.verdict)}`);
  const fields: TurboExtension[] = [
    { code: OfferField.MANIFEST, data: checkBytes(o.manifestDigest, DIGEST_LENGTH, 'manifest digest') },
    { code: OfferField.VERDICT, data: Uint8Array.of(verdict) },
    { code: OfferField.LOAD, data: Uint8Array.of(checkInt(o.load, 255, 'load')) },
    { code: OfferField.PACING, data: u16(checkInt(o.pacingMs, 0xffff, 'pacing')) },
  ];
  for (const e of o.endpoints) fields.push({ code: OfferField.ENDPOINT, data: endpointBytes(e) });
  if (o.validationToken)
    fields.push({
      code: OfferField.VALIDATION_TOKEN,
      data: checkBytes(o.validationToken, VALIDATION_TOKEN_LENGTH, 'validation token'),
    });
  return [...fields, ...extensionFields(o.extensions, OFFER_CODES)];
}

function fieldsOf(payload: TurboPayload): { type: number; fields: TurboExtension[] } {
  if (payload.kind === 'discover')
    return { type: TurboMessageType.DISCOVER, fields: discoverFields(payload) };
  if (payload.kind === 'offer') return { type: TurboMessageType.OFFER, fields: offerFields(payload) };
  throw new TurboEncodeError(`unknown Turbo message kind ${String((payload as { kind: unknown }).kind)}`);
}

/** Encodes a Turbo payload (the Turbo option value). Deterministic; throws `TurboEncodeError`. */
export function encodeTurbo(payload: TurboPayload): Uint8Array {
  const { type, fields } = fieldsOf(payload);
  let total = TURBO_HEADER_LENGTH;
  for (const f of fields) {
    if (f.data.length > 255) throw new TurboEncodeError(`field ${f.code} is longer than 255 octets`);
    total += 2 + f.data.length;
  }
  const out = new Uint8Array(total);
  out.set(TURBO_MAGIC, 0);
  out[2] = TURBO_VERSION;
  out[3] = type;
  let at = TURBO_HEADER_LENGTH;
  for (const f of fields) {
    out[at++] = f.code;
    out[at++] = f.data.length;
    out.set(f.data, at);
    at += f.data.length;
  }
  return out;
}

/** Octets `encodeTurbo(payload)` produces. Throws `TurboEncodeError` like the encoder. */
export function turboEncodingLength(payload: TurboPayload): number {
  let total = TURBO_HEADER_LENGTH;
  for (const f of fieldsOf(payload).fields) total += 2 + f.data.length;
  return total;
}

// ---------------------------------------------------------------- decoding

interface Field {
  readonly code: number;
  /** Offset of the TLV code octet within the payload. */
  readonly at: number;
  readonly data: Uint8Array;
}

function readFields(bytes: Uint8Array): DecodeResult<Field[]> {
  const out: Field[] = [];
  let i = TURBO_HEADER_LENGTH;
  while (i < bytes.length) {
    const code = bytes[i]!;
    if (i + 1 >= bytes.length)
      return fail(TurboErrorCode.TLV_TRUNCATED, i, `field ${code} has no length octet`);
    const length = bytes[i + 1]!;
    if (i + 2 + length > bytes.length)
      return fail(TurboErrorCode.TLV_OVERRUN, i, `field ${code} length ${length} runs past the payload`);
    out.push({ code, at: i, data: bytes.slice(i + 2, i + 2 + length) });
    i += 2 + length;
  }
  return ok(out);
}

const readU16 = (b: Uint8Array, at = 0): number => (b[at]! << 8) | b[at + 1]!;

/**
 * Collects known single-valued fields (rejecting duplicates and wrong widths) and unknown ones
 * (kept in order). `widths` maps each known single-valued code to its fixed length.
 */
function sortFields(
  fields: readonly Field[],
  widths: ReadonlyMap<number, number>,
  repeated: ReadonlyMap<number, number>,
): DecodeResult<{ single: Map<number, Field>; many: Field[]; extensions: TurboExtension[] }> {
  const single = new Map<number, Field>();
  const many: Field[] = [];
  const extensions: TurboExtension[] = [];
  for (const f of fields) {
    const width = widths.get(f.code) ?? repeated.get(f.code);
    if (width === undefined) {
      extensions.push({ code: f.code, data: f.data });
      continue;
    }
    if (f.data.length !== width)
      return fail(
        TurboErrorCode.BAD_LENGTH,
        f.at,
        `field ${f.code} must be ${width} octets, got ${f.data.length}`,
      );
    if (repeated.has(f.code)) {
      many.push(f);
      continue;
    }
    if (single.has(f.code))
      return fail(TurboErrorCode.DUPLICATE_FIELD, f.at, `field ${f.code} appears twice`);
    single.set(f.code, f);
  }
  return ok({ single, many, extensions });
}

const DISCOVER_WIDTHS = new Map<number, number>([
  [DiscoverField.ACCEPT, 1],
  [DiscoverField.CACHE_TOKEN, CACHE_TOKEN_LENGTH],
  [DiscoverField.ATTEMPT, 2],
  [DiscoverField.WINDOW, 2],
]);
const OFFER_WIDTHS = new Map<number, number>([
  [OfferField.MANIFEST, DIGEST_LENGTH],
  [OfferField.VERDICT, 1],
  [OfferField.LOAD, 1],
  [OfferField.PACING, 2],
  [OfferField.VALIDATION_TOKEN, VALIDATION_TOKEN_LENGTH],
]);
const OFFER_REPEATED = new Map<number, number>([[OfferField.ENDPOINT, ENDPOINT_LENGTH]]);
const NONE = new Map<number, number>();

function decodeDiscover(bytes: Uint8Array, fields: readonly Field[]): DecodeResult<TurboDiscover> {
  const sorted = sortFields(fields, DISCOVER_WIDTHS, NONE);
  if (!sorted.ok) return sorted;
  const { single, extensions } = sorted.value;
  const accept = single.get(DiscoverField.ACCEPT);
  if (!accept) return fail(TurboErrorCode.MISSING_FIELD, bytes.length, 'discover has no ACCEPT field');
  const cache = single.get(DiscoverField.CACHE_TOKEN);
  const attempt = single.get(DiscoverField.ATTEMPT);
  const window = single.get(DiscoverField.WINDOW);
  return ok({
    kind: 'discover',
    accept: acceptFromMask(accept.data[0]!),
    ...(cache
      ? {
          cacheToken: {
            manifestDigest: cache.data.slice(0, DIGEST_LENGTH),
            validationToken: cache.data.slice(DIGEST_LENGTH),
          },
        }
      : {}),
    ...(attempt ? { attempt: { round: attempt.data[0]!, burstIndex: attempt.data[1]! } } : {}),
    ...(window ? { windowMs: readU16(window.data) } : {}),
    ...(extensions.length > 0 ? { extensions } : {}),
  });
}

function decodeOffer(bytes: Uint8Array, fields: readonly Field[]): DecodeResult<TurboOffer> {
  const sorted = sortFields(fields, OFFER_WIDTHS, OFFER_REPEATED);
  if (!sorted.ok) return sorted;
  const { single, many, extensions } = sorted.value;
  const manifest = single.get(OfferField.MANIFEST);
  const verdict = single.get(OfferField.VERDICT);
  const load = single.get(OfferField.LOAD);
  const pacing = single.get(OfferField.PACING);
  if (!manifest || !verdict || !load || !pacing) {
    const missing = !manifest ? 'MANIFEST' : !verdict ? 'VERDICT' : !load ? 'LOAD' : 'PACING';
    return fail(TurboErrorCode.MISSING_FIELD, bytes.length, `offer has no ${missing} field`);
  }
  const verdictName = VERDICT_BY_CODE[verdict.data[0]!];
  if (!verdictName)
    return fail(TurboErrorCode.BAD_VALUE, verdict.at + 2, `verdict ${verdict.data[0]} is not 0, 1 or 2`);
  const endpoints: TurboEndpoint[] = [];
  for (const e of many) {
    if (e.data[0] === 0) return fail(TurboErrorCode.BAD_VALUE, e.at + 2, 'endpoint type 0 is reserved');
    endpoints.push({
      type: e.data[0]!,
      port: readU16(e.data, 1),
      id: readU16(e.data, 3),
      address: formatIPv4(e.data, 5),
    });
  }
  const token = single.get(OfferField.VALIDATION_TOKEN);
  return ok({
    kind: 'offer',
    manifestDigest: manifest.data,
    verdict: verdictName,
    load: load.data[0]!,
    pacingMs: readU16(pacing.data),
    endpoints,
    ...(token ? { validationToken: token.data } : {}),
    ...(extensions.length > 0 ? { extensions } : {}),
  });
}

/** Decodes a Turbo payload (the Turbo option value). Never throws. */
export function decodeTurbo(bytes: Uint8Array): DecodeResult<TurboPayload> {
  if (bytes.length < TURBO_HEADER_LENGTH)
    return fail(
      TurboErrorCode.TRUNCATED_HEADER,
      bytes.length,
      `payload of ${bytes.length} octets has no header`,
    );
  if (bytes[0] !== TURBO_MAGIC[0] || bytes[1] !== TURBO_MAGIC[1])
    return fail(TurboErrorCode.BAD_MAGIC, 0, 'payload does not start with the Turbo magic "BT"');
  if (bytes[2] !== TURBO_VERSION)
    return fail(TurboErrorCode.UNSUPPORTED_VERSION, 2, `Turbo version ${bytes[2]} is not supported`);
  const type = bytes[3]!;
  if (type !== TurboMessageType.DISCOVER && type !== TurboMessageType.OFFER)
    return fail(TurboErrorCode.UNKNOWN_MESSAGE_TYPE, 3, `unknown Turbo message type ${type}`);
  const fields = readFields(bytes);
  if (!fields.ok) return fields;
  return type === TurboMessageType.DISCOVER
    ? decodeDiscover(bytes, fields.value)
    : decodeOffer(bytes, fields.value);
}
