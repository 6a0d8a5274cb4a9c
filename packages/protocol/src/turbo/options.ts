import type { DecodeResult } from '../wire.js';
import { ok } from '../wire.js';
import { decodeTurbo, encodeTurbo } from './codec.js';
import { SITE_SPECIFIC_FIRST, SITE_SPECIFIC_LAST, TURBO_OPTION_CODE, TurboEncodeError } from './codes.js';
import type { OptionLike, TurboPayload } from './types.js';

function checkCode(code: number): void {
  if (!Number.isInteger(code) || code < SITE_SPECIFIC_FIRST || code > SITE_SPECIFIC_LAST)
    throw new TurboEncodeError(`Turbo option code ${code} is not site-specific (224-254)`);
}

/**
 * The DHCP option instances carrying `payload`, in wire order: one instance when the payload fits 255
 * octets, otherwise consecutive instances of the same code (RFC 3396). Append them to the packet's
 * options before End (and before option 82, which relays want last). Throws `TurboEncodeError`.
 */
export function turboOptions(payload: TurboPayload, code = TURBO_OPTION_CODE): OptionLike[] {
  checkCode(code);
  const bytes = encodeTurbo(payload);
  const out: OptionLike[] = [];
  for (let at = 0; at < bytes.length; at += 255) out.push({ code, data: bytes.slice(at, at + 255) });
  return out;
}

/**
 * The Turbo payload in a packet's options (the DHCP codec's raw `{code, data}` instances in wire
 * order). Every instance of `code` is concatenated first (RFC 3396). `ok(null)` means the packet has no
 * Turbo option: a legacy peer. An error means the option is present but is not a Turbo payload this
 * codec accepts; SPEC §8 says to treat the packet as legacy then. Error offsets are relative to the
 * concatenated value. Never throws.
 */
export function getTurboFromOptions(
  options: readonly OptionLike[],
  code = TURBO_OPTION_CODE,
): DecodeResult<TurboPayload | null> {
  const parts = options.filter((o) => o.code === code);
  if (parts.length === 0) return ok(null);
  let total = 0;
  for (const p of parts) total += p.data.length;
  const value = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    value.set(p.data, at);
    at += p.data.length;
  }
  return decodeTurbo(value);
}
