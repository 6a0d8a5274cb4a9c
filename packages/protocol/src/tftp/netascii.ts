/**
 * Netascii (RFC 1350 §1, RFC 764 NVT conventions): end of line is CR LF on the wire, a lone CR is CR NUL.
 * Local form is LF line ends. Both directions work on a stream of chunks (e.g. TFTP blocks) and are safe
 * across chunk boundaries: a CR at the end of a chunk is held until the next byte decides its meaning.
 */

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;

export interface NetasciiCodec {
  /** Converts the next chunk; may hold back a trailing byte until the next call or `end()`. */
  push(chunk: Uint8Array): Uint8Array;
  /** Flushes whatever is held back at end of stream. */
  end(): Uint8Array;
}

/** Local (LF) → wire (CR LF, CR NUL). Expansion is per byte, so nothing is ever held back. */
export function createNetasciiEncoder(): NetasciiCodec {
  return {
    push(chunk) {
      let extra = 0;
      for (const b of chunk) if (b === LF || b === CR) extra++;
      const out = new Uint8Array(chunk.length + extra);
      let at = 0;
      for (const b of chunk) {
        if (b === LF) {
          out[at++] = CR;
          out[at++] = LF;
        } else if (b === CR) {
          out[at++] = CR;
          out[at++] = NUL;
        } else {
          out[at++] = b;
        }
      }
      return out;
    },
    end() {
      return new Uint8Array(0);
    },
  };
}

/**
 * Wire → local. CR LF → LF, CR NUL → CR. A CR followed by anything else is kept as is (lenient with
 * senders that do not escape CR); a CR at end of stream is kept.
 */
export function createNetasciiDecoder(): NetasciiCodec {
  let pendingCr = false;
  return {
    push(chunk) {
      const out = new Uint8Array(chunk.length + 1);
      let at = 0;
      for (const b of chunk) {
        if (pendingCr) {
          pendingCr = false;
          if (b === LF) {
            out[at++] = LF;
            continue;
          }
          if (b === NUL) {
            out[at++] = CR;
            continue;
          }
          out[at++] = CR;
        }
        if (b === CR) pendingCr = true;
        else out[at++] = b;
      }
      return out.slice(0, at);
    },
    end() {
      if (!pendingCr) return new Uint8Array(0);
      pendingCr = false;
      return Uint8Array.of(CR);
    },
  };
}

/** Whole-buffer conveniences. */
export function netasciiEncode(local: Uint8Array): Uint8Array {
  return createNetasciiEncoder().push(local);
}

export function netasciiDecode(wire: Uint8Array): Uint8Array {
  const d = createNetasciiDecoder();
  const head = d.push(wire);
  const tail = d.end();
  if (tail.length === 0) return head;
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
