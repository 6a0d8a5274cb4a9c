import { createHmac, timingSafeEqual } from 'node:crypto';
import { bytesEqual } from '../wire.js';
import { DIGEST_LENGTH, TurboEncodeError, VALIDATION_TOKEN_LENGTH } from './codes.js';
import type { TurboVerdict } from './codes.js';
import type { TurboCacheToken } from './types.js';

/*
 * Validation token (SPEC §6.2), 16 octets, opaque to clients:
 *
 *    0        1                 5                                        16
 *  +--------+-----------------+------------------------------------------+
 *  | key id |  epoch (u32 BE) |  tag: HMAC-SHA-256(key, input), first 11  |
 *  +--------+-----------------+------------------------------------------+
 *
 *  input = "BOOTPT-VT1" | key id (1) | epoch (4) | manifest digest (32) | len(host) (1) | host
 *
 * A server verifies it without state: look the key up by id, recompute the tag, compare in constant
 * time, and check the epoch is neither in the future nor older than the configured maximum age.
 */

const DOMAIN = new TextEncoder().encode('BOOTPT-VT1');
export const VALIDATION_TAG_LENGTH = 11;

/** Default epoch length: one hour. Epochs count whole periods since the Unix epoch. */
export const DEFAULT_EPOCH_MS = 3_600_000;

/** An HMAC key the servers of one deployment share; `id` (0..255) travels in the token for rotation. */
export interface TurboKey {
  readonly id: number;
  readonly secret: Uint8Array;
}

export type TokenRejection = 'malformed' | 'unknown-key' | 'expired' | 'future' | 'mismatch';

export type TokenCheck =
  | { readonly ok: true; readonly keyId: number; readonly epoch: number }
  | { readonly ok: false; readonly reason: TokenRejection };

export interface TokenPolicy {
  /** Keys that may have issued tokens still in use (current and recently rotated). */
  readonly keys: readonly TurboKey[];
  /** The server's current epoch (`turboEpoch(now)`). */
  readonly nowEpoch: number;
  /** Tokens issued more than this many epochs ago are rejected. */
  readonly maxAgeEpochs: number;
}

/** The epoch a point in time falls into: whole `epochMs` periods since 1970. */
export function turboEpoch(unixMs: number, epochMs = DEFAULT_EPOCH_MS): number {
  return Math.floor(unixMs / epochMs) >>> 0;
}

/**
 * The identity a validation token is bound to (SPEC §6.3): the client identifier (option 61) when the
 * client sent one, otherwise `htype` followed by the `hlen` octets of `chaddr` (the same bytes as the
 * common option-61 form "type 1 + MAC", so both spellings name one host).
 */
export function turboHostId(htype: number, chaddr: Uint8Array, clientIdentifier?: Uint8Array): Uint8Array {
  if (clientIdentifier && clientIdentifier.length > 0) return clientIdentifier.slice();
  const out = new Uint8Array(1 + chaddr.length);
  out[0] = htype & 0xff;
  out.set(chaddr, 1);
  return out;
}

function tag(key: TurboKey, epoch: number, manifestDigest: Uint8Array, host: Uint8Array): Uint8Array {
  const header = Uint8Array.of(
    key.id,
    epoch >>> 24,
    (epoch >>> 16) & 0xff,
    (epoch >>> 8) & 0xff,
    epoch & 0xff,
  );
  const mac = createHmac('sha256', key.secret)
    .update(DOMAIN)
    .update(header)
    .update(manifestDigest)
    .update(Uint8Array.of(host.length))
    .update(host)
    .digest();
  return new Uint8Array(mac.subarray(0, VALIDATION_TAG_LENGTH));
}

function checkInputs(manifestDigest: Uint8Array, host: Uint8Array): void {
  if (manifestDigest.length !== DIGEST_LENGTH)
    throw new TurboEncodeError('manifest digest must be 32 octets');
  if (host.length < 1 || host.length > 255) throw new TurboEncodeError('host id must be 1..255 octets');
}

/** Issues the token for (host, manifest digest, epoch) under `key`. Throws `TurboEncodeError` on bad input. */
export function issueValidationToken(args: {
  readonly key: TurboKey;
  readonly host: Uint8Array;
  readonly manifestDigest: Uint8Array;
  readonly epoch: number;
}): Uint8Array {
  const { key, host, manifestDigest, epoch } = args;
  checkInputs(manifestDigest, host);
  if (!Number.isInteger(key.id) || key.id < 0 || key.id > 255)
    throw new TurboEncodeError('key id must be 0..255');
  if (key.secret.length < 16) throw new TurboEncodeError('key secret must be at least 16 octets');
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffffffff)
    throw new TurboEncodeError('epoch must be a u32');
  const out = new Uint8Array(VALIDATION_TOKEN_LENGTH);
  out[0] = key.id;
  out[1] = epoch >>> 24;
  out[2] = (epoch >>> 16) & 0xff;
  out[3] = (epoch >>> 8) & 0xff;
  out[4] = epoch & 0xff;
  out.set(tag(key, epoch, manifestDigest, host), 5);
  return out;
}

/** Checks a token for (host, manifest digest) statelessly. Never throws. */
export function verifyValidationToken(
  token: Uint8Array,
  args: { readonly host: Uint8Array; readonly manifestDigest: Uint8Array } & TokenPolicy,
): TokenCheck {
  const { host, manifestDigest, keys, nowEpoch, maxAgeEpochs } = args;
  if (token.length !== VALIDATION_TOKEN_LENGTH || manifestDigest.length !== DIGEST_LENGTH)
    return { ok: false, reason: 'malformed' };
  if (host.length < 1 || host.length > 255) return { ok: false, reason: 'malformed' };
  const keyId = token[0]!;
  const key = keys.find((k) => k.id === keyId);
  if (!key) return { ok: false, reason: 'unknown-key' };
  const epoch = ((token[1]! << 24) | (token[2]! << 16) | (token[3]! << 8) | token[4]!) >>> 0;
  if (epoch > nowEpoch) return { ok: false, reason: 'future' };
  if (nowEpoch - epoch > maxAgeEpochs) return { ok: false, reason: 'expired' };
  const expected = tag(key, epoch, manifestDigest, host);
  if (!timingSafeEqual(expected, token.subarray(5))) return { ok: false, reason: 'mismatch' };
  return { ok: true, keyId, epoch };
}

/** The cache token a client sends: what it holds (SPEC §6.1). Throws `TurboEncodeError` on bad widths. */
export function cacheToken(manifestDigest: Uint8Array, validationToken: Uint8Array): TurboCacheToken {
  if (manifestDigest.length !== DIGEST_LENGTH)
    throw new TurboEncodeError('manifest digest must be 32 octets');
  if (validationToken.length !== VALIDATION_TOKEN_LENGTH)
    throw new TurboEncodeError('validation token must be 16 octets');
  return { manifestDigest: manifestDigest.slice(), validationToken: validationToken.slice() };
}

/**
 * The verdict a server puts in its offer (SPEC §6.4): `valid` when the token verifies for this host and
 * the client's digest is the one assigned now; `stale` when it verifies but the assignment moved on;
 * `unknown` when there is no token or it does not verify (the client must fetch and check the manifest).
 */
export function cacheVerdict(
  args: {
    readonly cacheToken: TurboCacheToken | undefined;
    readonly host: Uint8Array;
    readonly assignedDigest: Uint8Array;
  } & TokenPolicy,
): TurboVerdict {
  const { cacheToken: held, assignedDigest, ...rest } = args;
  if (!held) return 'unknown';
  const check = verifyValidationToken(held.validationToken, { ...rest, manifestDigest: held.manifestDigest });
  if (!check.ok) return 'unknown';
  return bytesEqual(held.manifestDigest, assignedDigest) ? 'valid' : 'stale';
}
