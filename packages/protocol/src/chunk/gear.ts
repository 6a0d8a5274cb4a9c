/**
 * The gear table: 256 pseudo-random 32-bit values, one per byte value, for the rolling hash
 * `h = (h << 1) + GEAR[byte]` (32-bit wrap-around).
 *
 * It is generated, not pasted, so that it can be audited: a Weyl sequence
 * `x_i = GEAR_SEED + (i + 1) * 0x9E3779B9 (mod 2^32)` passed through the MurmurHash3 32-bit finalizer
 * (`x ^= x >>> 16; x *= 0x85EBCA6B; x ^= x >>> 13; x *= 0xC2B2AE35; x ^= x >>> 16`), for i = 0..255,
 * with `GEAR_SEED = 0x424F4F54` (ASCII "BOOT"). Changing the seed or the generator changes every chunk
 * boundary ever computed, so both are pinned by a golden test.
 */
export const GEAR_SEED = 0x424f4f54;

function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x | 0;
}

function generateGearTable(seed: number): Int32Array {
  const table = new Int32Array(256);
  let x = seed | 0;
  for (let i = 0; i < 256; i++) {
    x = (x + 0x9e3779b9) | 0;
    table[i] = fmix32(x);
  }
  return table;
}

/** Signed 32-bit entries (an `Int32Array` keeps the hot loop in small-integer arithmetic). */
export const GEAR: Readonly<Int32Array> = generateGearTable(GEAR_SEED);
