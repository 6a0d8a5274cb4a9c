/**
 * Server-side option negotiation (RFC 2347 §2, 2348, 2349, 7440, 2090 and IBM sbroadcast) as a pure
 * function of the request and a server policy.
 *
 * - Only options the client asked for can appear in the OACK, in the client's order (the first occurrence
 *   of a repeated option counts). Unknown, disabled or per-client refused options are silently omitted.
 * - Invalid values are omitted by default (`invalidValues: 'ignore'`); with `'reject'` an invalid blksize,
 *   windowsize or timeout ends the request with ERROR 8. WRQ `tsize` larger than allowed is ERROR 3
 *   (RFC 2349).
 * - `multicast` / `sbroadcast` are granted (at most one, the first requested) only for an octet RRQ of a
 *   file whose size is known; past 65,535 blocks (wire numbers roll over) only when tsize is granted too,
 *   the client opted in with `rollover 0` (tftp-hpa's option name: it unwraps 16-bit block numbers; atftp
 *   does not and would abort at the wrap, so it keeps getting unicast) and the last block is not a multiple
 *   of 65536 (SPEC §11); and only if the negotiated blksize can equal a running group's. Their OACK value is left empty here: the group machine
 *   (`group.ts`) fills in `addr,port,mc` / `port,sbid,master` per client. A BDATA header is 4 octets longer
 *   than DATA's, so an sbroadcast transfer's blksize is clamped 4 below the group limit (`groupMaxBlksize`,
 *   by default `maxBlksize`, the path-MTU clamp for DATA): BDATA blocks then fit the same MTU (SPEC §11).
 * - Unicast windows: with `maxWindowBytes`, windowsize is lowered so blksize × windowsize stays within it.
 */
import { TFTP_DEFAULT_BLKSIZE, TFTP_ERROR_CODES, TFTP_MAX_BLKSIZE, TFTP_MIN_BLKSIZE } from './packet.js';
import type { TftpOption, TftpRequestPacket } from './packet.js';
import { TFTP_OPTION_NAMES, parseDecimal, parseSubnetMask } from './options.js';
import type { TftpKnownOptionName } from './options.js';

export interface TftpServerPolicy {
  /** Options the server supports. Default: blksize, timeout, tsize, windowsize; group options off. */
  readonly enabled?: Partial<Record<TftpKnownOptionName, boolean>>;
  /** Per-client quirks: option names never granted to this client (like tftp-hpa `--refuse`). */
  readonly refuse?: readonly string[];
  /** Upper bound for blksize, e.g. the path-MTU clamp 1468 (IPv4 Ethernet). Default 1468. */
  readonly maxBlksize?: number;
  /** Upper bound for windowsize. Default 16. */
  readonly maxWindowsize?: number;
  /** Accepted timeout option range in seconds (within 1..255). Default 1..255. */
  readonly timeoutRange?: { readonly min: number; readonly max: number };
  /** Size of the file to read, or null when unknown (tsize then omitted). */
  readonly fileSize: number | null;
  /** WRQ: the largest size the server accepts (tsize above it is ERROR 3). Default: unlimited. */
  readonly maxWriteSize?: number;
  /** What to do with an out-of-range or non-numeric value. Default 'ignore'. */
  readonly invalidValues?: 'ignore' | 'reject';
  /** blksize of an already running group transfer of this file; joiners must use the same. */
  readonly groupBlksize?: number;
  /**
   * Upper bound for blksize when a group transfer is granted (members share one L2 segment, where IP
   * fragments are reassembled). Default `maxBlksize`. A request whose group option is not granted gets
   * `maxBlksize`.
   */
  readonly groupMaxBlksize?: number;
  /**
   * Unicast: payload octets one window may put in flight. A smaller windowsize is granted (RFC 7440 lets
   * the server) when blksize × windowsize would exceed it. Default: no limit.
   */
  readonly maxWindowBytes?: number;
}

export interface NegotiatedParams {
  readonly blksize: number;
  readonly windowsize: number;
  /** Negotiated timeout in seconds, or null when the option was not granted. */
  readonly timeoutSeconds: number | null;
  /** tsize granted (RRQ: the file size sent; WRQ: the size announced). */
  readonly tsize: number | null;
  /** Whether the client asked for tsize (for tsize-probe detection), granted or not. */
  readonly tsizeRequested: boolean;
  /** Group transfer granted, and which kind. */
  readonly group: 'multicast' | 'sbroadcast' | null;
  /** sbroadcast: the client's subnet mask. */
  readonly subnetMask: string | null;
}

export type NegotiationResult =
  | {
      readonly ok: true;
      /** Options for the OACK, in request order; empty means "no OACK, answer as RFC 1350". */
      readonly oack: readonly TftpOption[];
      readonly params: NegotiatedParams;
    }
  | { readonly ok: false; readonly errorCode: number; readonly errorMessage: string };

const DEFAULT_ENABLED: Record<TftpKnownOptionName, boolean> = {
  blksize: true,
  timeout: true,
  tsize: true,
  windowsize: true,
  multicast: false,
  sbroadcast: false,
};

const MAX_GROUP_BLOCKS = 65535;
/** BDATA (opcode, block, sbid) is this much longer than a DATA header (opcode, block). */
const BDATA_EXTRA_HEADER = 4;

function reject(message: string): NegotiationResult {
  return { ok: false, errorCode: TFTP_ERROR_CODES.OPTION_NEGOTIATION, errorMessage: message };
}

export function negotiateOptions(request: TftpRequestPacket, policy: TftpServerPolicy): NegotiationResult {
  const enabled = { ...DEFAULT_ENABLED, ...policy.enabled };
  const refused = new Set((policy.refuse ?? []).map((n) => n.toLowerCase()));
  const strict = policy.invalidValues === 'reject';
  const maxBlksize = Math.min(policy.maxBlksize ?? 1468, TFTP_MAX_BLKSIZE);
  const maxWindowsize = Math.min(policy.maxWindowsize ?? 16, 65535);
  const timeoutMin = Math.max(policy.timeoutRange?.min ?? 1, 1);
  const timeoutMax = Math.min(policy.timeoutRange?.max ?? 255, 255);
  const isRead = request.opcode === 'RRQ';
  const octet = request.mode.toLowerCase() === 'octet';

  const seen = new Set<string>();
  const granted: { name: string; value: string }[] = [];
  let blksize = TFTP_DEFAULT_BLKSIZE;
  let requestedBlksize: number | null = null;
  let windowsize = 1;
  let timeoutSeconds: number | null = null;
  let tsize: number | null = null;
  let tsizeRequested = false;
  let rolloverToZero = false;
  let group: 'multicast' | 'sbroadcast' | null = null;
  let subnetMask: string | null = null;

  for (const option of request.options) {
    const name = option.name.toLowerCase();
    if (seen.has(name)) continue;
    seen.add(name);
    if (name === TFTP_OPTION_NAMES.tsize) tsizeRequested = true;
    // Only an opt-in for group transfers past the wrap; never echoed (unicast rolls over to 0 anyway).
    if (name === 'rollover') rolloverToZero = option.value === '0';
    if (!(name in DEFAULT_ENABLED)) continue;
    const known = name as TftpKnownOptionName;
    if (!enabled[known] || refused.has(name)) continue;
    switch (known) {
      case 'blksize': {
        // Values above the RFC maximum still mean "up to"; we answer with our clamp.
        const n = parseDecimal(option.value, TFTP_MIN_BLKSIZE, Number.MAX_SAFE_INTEGER);
        if (n === null) {
          if (strict) return reject(`invalid blksize ${option.value}`);
          break;
        }
        requestedBlksize = n;
        blksize = Math.min(n, maxBlksize);
        granted.push({ name: option.name, value: String(blksize) });
        break;
      }
      case 'windowsize': {
        const n = parseDecimal(option.value, 1, 65535);
        if (n === null) {
          if (strict) return reject(`invalid windowsize ${option.value}`);
          break;
        }
        windowsize = Math.min(n, maxWindowsize);
        granted.push({ name: option.name, value: String(windowsize) });
        break;
      }
      case 'timeout': {
        const n = parseDecimal(option.value, 1, 255);
        if (n === null) {
          if (strict) return reject(`invalid timeout ${option.value}`);
          break;
        }
        // RFC 2349: accept exactly or omit.
        if (n < timeoutMin || n > timeoutMax) break;
        timeoutSeconds = n;
        granted.push({ name: option.name, value: option.value });
        break;
      }
      case 'tsize': {
        if (isRead) {
          // Netascii sizes are unknown in advance (dnsmasq and tftp-hpa refuse too).
          if (!octet || policy.fileSize === null) break;
          tsize = policy.fileSize;
          granted.push({ name: option.name, value: String(tsize) });
        } else {
          const n = parseDecimal(option.value, 0, Number.MAX_SAFE_INTEGER);
          if (n === null) return reject(`invalid tsize ${option.value}`);
          if (policy.maxWriteSize !== undefined && n > policy.maxWriteSize) {
            return { ok: false, errorCode: TFTP_ERROR_CODES.DISK_FULL, errorMessage: 'file too large' };
          }
          tsize = n;
          granted.push({ name: option.name, value: option.value });
        }
        break;
      }
      case 'multicast':
      case 'sbroadcast': {
        if (!isRead || !octet || group !== null || policy.fileSize === null) break;
        if (known === 'sbroadcast') {
          subnetMask = parseSubnetMask(option.value);
          if (subnetMask === null) break;
        }
        group = known;
        granted.push({ name: option.name, value: '' });
        break;
      }
    }
  }

  const groupLimit = Math.min(policy.groupMaxBlksize ?? maxBlksize, TFTP_MAX_BLKSIZE);
  if (group !== null && requestedBlksize !== null) blksize = Math.min(requestedBlksize, groupLimit);
  if (group === 'sbroadcast' && policy.groupBlksize === undefined) {
    blksize = Math.min(blksize, Math.max(TFTP_MIN_BLKSIZE, groupLimit - BDATA_EXTRA_HEADER));
  }
  if (group !== null) {
    const groupBlksize = policy.groupBlksize ?? blksize;
    const canMatch =
      groupBlksize === blksize ||
      (requestedBlksize !== null && groupBlksize <= requestedBlksize && groupBlksize <= groupLimit);
    const blocks = Math.floor((policy.fileSize ?? 0) / groupBlksize) + 1;
    // Past 65,535 blocks the wire numbers roll over: members must say they unwrap them (`rollover 0`) and
    // need tsize to place them (SPEC §11), and a last block that is a multiple of 65536 would share wire
    // number 0 with a member's first ACK.
    const rollsOver = blocks > MAX_GROUP_BLOCKS;
    if (!canMatch || (rollsOver && (!rolloverToZero || tsize === null || blocks % 65536 === 0))) {
      const index = granted.findIndex((o) => o.value === '' && o.name.toLowerCase() === group);
      granted.splice(index, 1);
      group = null;
      subnetMask = null;
      // Unicast after all: back to the unicast clamp.
      if (requestedBlksize !== null) blksize = Math.min(requestedBlksize, maxBlksize);
    } else {
      blksize = groupBlksize;
    }
  }
  if (
    group === null &&
    policy.maxWindowBytes !== undefined &&
    windowsize > 1 &&
    windowsize * blksize > policy.maxWindowBytes
  ) {
    windowsize = Math.max(1, Math.floor(policy.maxWindowBytes / blksize));
  }
  // The loop granted the values asked for within the first clamps; write back what was settled since.
  for (const [name, value] of [
    [TFTP_OPTION_NAMES.blksize, blksize],
    [TFTP_OPTION_NAMES.windowsize, windowsize],
  ] as const) {
    const index = granted.findIndex((o) => o.name.toLowerCase() === name);
    if (index >= 0) granted[index] = { name: granted[index]!.name, value: String(value) };
  }

  return {
    ok: true,
    oack: granted,
    params: { blksize, windowsize, timeoutSeconds, tsize, tsizeRequested, group, subnetMask },
  };
}
