import { utf8Encode } from '../wire.js';

/**
 * Canonical JSON: the one byte sequence a manifest is digested and signed as.
 *
 * Rules (a strict subset of RFC 8785, JCS, that needs no number formatting):
 * 1. Values are `null`, booleans, strings, integers, arrays and plain objects. Anything else
 *    (`undefined`, functions, symbols, bigints, class instances such as `Date` or `Uint8Array`) is rejected.
 * 2. Numbers must be safe integers (|n| <= 2^53 - 1) and are written in plain decimal; NaN, Infinity and
 *    fractions are rejected. `-0` is written as `0`.
 * 3. Object keys are sorted by UTF-16 code units (JavaScript's default string order, as in JCS); an object
 *    property whose value is `undefined` is rejected, not skipped, so a missing field is never confused
 *    with an explicitly undefined one.
 * 4. No whitespace outside strings.
 * 5. Strings (keys too) are written as `JSON.stringify` writes them: `"` and `\` escaped, control characters
 *    below U+0020 as `\b \f \n \r \t` or `\u00xx`, everything else literally, including non-ASCII. Strings
 *    with lone surrogates are rejected (they have no UTF-8 form).
 * 6. The text is encoded as UTF-8 without a byte-order mark.
 * 7. Nesting deeper than 64 levels and cycles are rejected.
 */
export class CanonicalJsonError extends Error {
  readonly code = 'CANONICAL_JSON_UNSUPPORTED';
  readonly path: string;

  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'CanonicalJsonError';
    this.path = path;
  }
}

const MAX_DEPTH = 64;
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function writeString(s: string, path: string): string {
  if (LONE_SURROGATE_RE.test(s)) throw new CanonicalJsonError(path, 'string contains a lone surrogate');
  return JSON.stringify(s);
}

function write(value: unknown, path: string, depth: number, parents: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return writeString(value, path);
    case 'number':
      if (!Number.isSafeInteger(value)) throw new CanonicalJsonError(path, `${value} is not a safe integer`);
      return value === 0 ? '0' : String(value);
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(path, `${typeof value} is not allowed`);
  }
  if (depth >= MAX_DEPTH) throw new CanonicalJsonError(path, `nesting deeper than ${MAX_DEPTH}`);
  if (parents.has(value)) throw new CanonicalJsonError(path, 'cycle');
  parents.add(value);
  let out: string;
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (let i = 0; i < value.length; i++) items.push(write(value[i], `${path}[${i}]`, depth + 1, parents));
    out = `[${items.join(',')}]`;
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new CanonicalJsonError(path, 'only plain objects are allowed');
    }
    const record = value as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const child = record[key];
      const childPath = `${path}.${key}`;
      if (child === undefined) throw new CanonicalJsonError(childPath, 'undefined is not allowed');
      members.push(`${writeString(key, childPath)}:${write(child, childPath, depth + 1, parents)}`);
    }
    out = `{${members.join(',')}}`;
  }
  parents.delete(value);
  return out;
}

/** The canonical JSON text of `value`; throws `CanonicalJsonError` when a rule above is broken. */
export function canonicalJson(value: unknown): string {
  return write(value, '$', 0, new Set());
}

/** The canonical JSON bytes (UTF-8) of `value`; throws `CanonicalJsonError` when a rule above is broken. */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8Encode(canonicalJson(value));
}
