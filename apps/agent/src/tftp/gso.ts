import { createRequire } from 'node:module';
import type { Socket } from 'node:dgram';

/**
 * UDP generic segmentation offload (Linux UDP_SEGMENT, 4.18+): with a segment size set on the socket, one
 * `send` of N×size octets leaves as N datagrams (the last may be shorter), so a TFTP window costs one
 * syscall instead of one per block. Set through the optional `sockopt` add-on (the agent's optional
 * dependency); when it is missing or the kernel refuses, the caller sends block by block.
 *
 * Limits (kernel): at most 64 segments and 65,507 payload octets per send, and a segment (plus IP/UDP
 * headers) must fit the path MTU — so it applies only to blksize up to the MTU clamp, never to fragmenting
 * block sizes.
 *
 * The kernel checks a GSO send only when it is made (`udp_send_skb`): EMSGSIZE (EINVAL on older kernels)
 * when the route's MTU is below the segment (a path MTU smaller than the interface's), EIO when the route
 * goes through IPsec or, on older kernels, when the egress device has no TX checksum offload (6.18 checksums
 * the segments in software instead). With the segment set on the socket older kernels apply this to every
 * send on it, a short datagram included. The transfer then turns GSO off (`setGsoSegment(socket, 0)`) and
 * sends the refused datagrams again (`unicast.ts`).
 */
const SOL_UDP = 17;
const UDP_SEGMENT = 103;
export const GSO_MAX_SEGMENTS = 64;
export const GSO_MAX_BYTES = 65_507;

interface Sockopt {
  setsockopt(socket: unknown, level: number, option: number, value: number): void;
}

let sockopt: Sockopt | null | undefined;

function load(): Sockopt | null {
  if (sockopt !== undefined) return sockopt;
  try {
    sockopt = createRequire(import.meta.url)('sockopt') as Sockopt;
  } catch {
    sockopt = null;
  }
  return sockopt;
}

/**
 * The GSO segment (DATA header + block) a window of `blksize` blocks can go out in on a path of `mtu`,
 * or 0 when a segment would need IP fragmentation (IPv4 20 + UDP 8 octets of headers). The JS path and
 * the add-on's windows apply the same rule.
 */
export function gsoSegmentFor(blksize: number, mtu: number): number {
  const segment = blksize + 4;
  return segment + 28 <= mtu ? segment : 0;
}

/** Sets the segment size on a bound socket (0 turns GSO off); false when GSO is unavailable. */
export function setGsoSegment(socket: Socket, segmentSize: number): boolean {
  const api = load();
  if (!api) return false;
  try {
    api.setsockopt(socket, SOL_UDP, UDP_SEGMENT, segmentSize);
    return true;
  } catch {
    return false;
  }
}

/** The error code when `err` is one by which the kernel refuses a send with a GSO segment set (see above). */
export function gsoRefusal(err: NodeJS.ErrnoException): string | undefined {
  const code = err.code;
  return code === 'EIO' || code === 'EINVAL' || code === 'EMSGSIZE' ? code : undefined;
}
