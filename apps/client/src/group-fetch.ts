import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { DeltaPlan, Digest, LayerAssembly, TurboEndpoint } from '@bootpt/protocol';
import { sha256Hex, type BootFileName } from '@bootpt/protocol';
import { outputGroups } from './boot.js';
import { tftpRead, type TftpGroupMode, type TftpReadResult } from './tftp-read.js';

/**
 * Cold-cache delivery by a TFTP group stream (SPEC §5.4, §11; RFC 2090): when most of a boot file is
 * missing and the offer lists a `multicast` or `broadcast` endpoint the config allows, the client joins
 * the group transfer of that whole file instead of pulling its chunks one by one over HTTP/2, so a rack
 * booting the same release at once shares one copy on the wire. Nothing received is trusted: every layer
 * in the file must match its size and digest in the signed manifest, then every chunk its digest in the
 * signed chunk index, before a byte is cached. Any failure (no answer, error, timeout, a digest that does
 * not match) ends group delivery for this boot; the caller fetches what is left over HTTP/2.
 *
 * Policy (`selectGroupFetch`, pure): a boot file qualifies when at least `groupMinMissing` of its bytes
 * (default 0.5: a cold or nearly cold cache) are missing, it is at least `groupMinBytes` (default 1 MiB:
 * below that joining a stream costs more round trips than it saves) and it is under 131,071 blocks
 * (131,071 × blksize octets): group block numbers roll over once, and past 131,071 blocks a non-master
 * can place no block by its 16-bit number (SPEC §11 "Block-number rollover"). A warm cache with a small delta
 * stays on HTTP/2 (and its static delta): there a group stream would move far more than the delta.
 */

/**
 * Beyond this a group transfer is no better than unicast: members other than the master place only blocks
 * whose wrapped number has one candidate (packages/protocol/SPEC.md §11 "Block-number rollover").
 */
const GROUP_MAX_BLOCKS = 131_071;

export const ENDPOINT_TFTP_BROADCAST = 3;
export const ENDPOINT_TFTP_MULTICAST = 4;

export type GroupPreference = 'auto' | 'multicast' | 'broadcast' | 'off';

export interface GroupPolicy {
  readonly group: GroupPreference;
  readonly groupMinMissing: number;
  readonly groupMinBytes: number;
  readonly groupBlksize: number;
}

export interface GroupTuning extends GroupPolicy {
  readonly groupWindowsize: number;
  readonly groupTimeoutMs: number;
  readonly groupIdleMs: number;
}

/** One boot file of the release: its layers in manifest order and how much of it the cache lacks. */
export interface BootFilePlan {
  readonly name: BootFileName;
  readonly layers: readonly LayerAssembly[];
  readonly size: number;
  /** Distinct chunk bytes of this file still to fetch (chunks shared with other files count here too). */
  readonly missingBytes: number;
}

export interface GroupSelection {
  readonly endpoint: TurboEndpoint;
  readonly kind: 'multicast' | 'sbroadcast';
  readonly files: readonly BootFilePlan[];
  /** Digests of every chunk the selected files contain. */
  readonly covers: ReadonlySet<Digest>;
}

/**
 * The endpoint types the client names in ACCEPT (SPEC §4: a bitmask, so ascending and without order of
 * preference; the offer's order is the server's preference), http2 always.
 */
export function acceptedEndpointTypes(group: GroupPreference): number[] {
  if (group === 'multicast') return [1, ENDPOINT_TFTP_MULTICAST];
  if (group === 'broadcast') return [1, ENDPOINT_TFTP_BROADCAST];
  if (group === 'auto') return [1, ENDPOINT_TFTP_BROADCAST, ENDPOINT_TFTP_MULTICAST];
  return [1];
}

/** The release's boot files (kernel, initramfs, layer-<n>) with the bytes each still lacks. */
export function bootFilesOf(plan: DeltaPlan): BootFilePlan[] {
  const missing = new Map(plan.fetch.map((c) => [c.digest, c.length] as const));
  return [...outputGroups(plan.layers)].map(([name, layers]) => {
    const seen = new Set<Digest>();
    let missingBytes = 0;
    for (const c of layers.flatMap((l) => l.chunks)) {
      const length = missing.get(c.digest);
      if (length === undefined || seen.has(c.digest)) continue;
      seen.add(c.digest);
      missingBytes += length;
    }
    return { name, layers, size: layers.reduce((n, l) => n + l.size, 0), missingBytes };
  });
}

/** The first offered endpoint of an allowed group type (offer order is the server's preference). */
export function pickGroupEndpoint(
  endpoints: readonly TurboEndpoint[],
  group: GroupPreference,
): TurboEndpoint | null {
  const allowed = acceptedEndpointTypes(group).filter((t) => t !== 1);
  return endpoints.find((e) => allowed.includes(e.type)) ?? null;
}

/** Which boot files to fetch whole from which group endpoint, or null (all over HTTP/2). Pure. */
export function selectGroupFetch(
  plan: DeltaPlan,
  endpoints: readonly TurboEndpoint[],
  policy: GroupPolicy,
): GroupSelection | null {
  if (policy.group === 'off' || plan.fetch.length === 0) return null;
  const endpoint = pickGroupEndpoint(endpoints, policy.group);
  if (!endpoint) return null;
  const limit = GROUP_MAX_BLOCKS * policy.groupBlksize;
  const files = bootFilesOf(plan).filter(
    (f) =>
      f.size >= policy.groupMinBytes &&
      f.size < limit &&
      f.missingBytes > 0 &&
      f.missingBytes >= policy.groupMinMissing * f.size,
  );
  if (files.length === 0) return null;
  const covers = new Set(files.flatMap((f) => f.layers.flatMap((l) => l.chunks.map((c) => c.digest))));
  return {
    endpoint,
    kind: endpoint.type === ENDPOINT_TFTP_MULTICAST ? 'multicast' : 'sbroadcast',
    files,
    covers,
  };
}

/**
 * Verifies a received boot file against the signed manifest and chunk indexes and cuts it into chunks:
 * each layer's size and digest first, then each chunk's digest. Throws on the first mismatch.
 */
export function splitVerified(file: BootFilePlan, bytes: Buffer): Map<Digest, Buffer> {
  if (bytes.length !== file.size)
    throw new Error(`${file.name}: ${bytes.length} bytes, expected ${file.size}`);
  const chunks = new Map<Digest, Buffer>();
  let at = 0;
  for (const layer of file.layers) {
    const body = bytes.subarray(at, at + layer.size);
    at += layer.size;
    const digest = sha256Hex(body);
    if (digest !== layer.digest)
      throw new Error(
        `${file.name}: layer ${layer.layerIndex} digests to ${digest}, expected ${layer.digest}`,
      );
    for (const c of layer.chunks) {
      if (chunks.has(c.digest)) continue;
      const chunk = body.subarray(c.offset, c.offset + c.length);
      if (chunk.length !== c.length || sha256Hex(chunk) !== c.digest)
        throw new Error(`${file.name}: chunk ${c.digest} at ${c.offset} does not match the chunk index`);
      chunks.set(c.digest, chunk);
    }
  }
  return chunks;
}

/** This host's address and netmask on the link that reaches `server` directly, if any. */
export function onLinkInterface(server: string): { address: string; netmask: string } | null {
  const target = ipv4ToInt(server);
  if (target === null) return null;
  for (const entries of Object.values(networkInterfaces())) {
    for (const e of entries ?? []) {
      if (e.family !== 'IPv4') continue;
      const address = ipv4ToInt(e.address);
      const mask = ipv4ToInt(e.netmask);
      if (address === null || mask === null) continue;
      if (((address ^ target) & mask) === 0) return { address: e.address, netmask: e.netmask };
    }
  }
  return null;
}

function ipv4ToInt(text: string): number | null {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** What group delivery did during one boot (reported with the boot result). */
export interface GroupDeliveryStats {
  readonly endpoint: 'multicast' | 'broadcast';
  readonly endpointId: number;
  readonly address: string;
  /** Boot files received and verified whole, and their bytes. */
  readonly files: number;
  readonly bytes: number;
  /** UDP payload received / sent by the TFTP sockets (the group stream and the transfer socket). */
  readonly wireRead: number;
  readonly wireWritten: number;
  readonly chunks: number;
  readonly ms: number;
  /** Why group delivery stopped before covering every selected file (the rest went over HTTP/2). */
  readonly fallback?: string;
}

export interface GroupFetchResult {
  readonly chunks: Map<Digest, Buffer>;
  readonly stats: GroupDeliveryStats;
}

/**
 * Fetches the selected boot files from the group endpoint one after another. Returns the verified chunks
 * of every file that completed; stops at the first failure (recorded as `fallback`).
 */
export async function fetchByGroup(args: {
  readonly selection: GroupSelection;
  readonly manifestDigest: Digest;
  readonly tuning: GroupTuning;
  readonly log: Logger;
  readonly signal?: AbortSignal;
}): Promise<GroupFetchResult> {
  const { selection, manifestDigest, tuning, log } = args;
  const { endpoint } = selection;
  const started = performance.now();
  const chunks = new Map<Digest, Buffer>();
  let files = 0;
  let bytes = 0;
  let wireRead = 0;
  let wireWritten = 0;
  let fallback: string | undefined;
  const link = onLinkInterface(endpoint.address);
  if (!link) fallback = `no interface on the link of ${endpoint.address}`;
  for (const file of link ? selection.files : []) {
    const mode: TftpGroupMode =
      selection.kind === 'multicast' ? { kind: 'multicast' } : { kind: 'sbroadcast', mask: link!.netmask };
    const body = Buffer.alloc(file.size);
    const read: TftpReadResult = await tftpRead({
      server: endpoint.address,
      port: endpoint.port,
      filename: `${manifestDigest}/${file.name}`,
      blksize: tuning.groupBlksize,
      windowsize: tuning.groupWindowsize,
      group: mode,
      localAddress: link!.address,
      timeoutMs: tuning.groupTimeoutMs,
      groupIdleMs: tuning.groupIdleMs,
      ...(args.signal ? { signal: args.signal } : {}),
      // The body is the read's destination (blocks go straight into it; the native group path needs one).
      onSize: (tsize) => {
        if (tsize !== file.size)
          throw new Error(`server offers ${tsize} bytes, the manifest says ${file.size}`);
        return body;
      },
      onData: (data, offset) => {
        if (offset + data.length > file.size)
          throw new Error(`data beyond the ${file.size} bytes of ${file.name}`);
        body.set(data, offset);
      },
    });
    wireRead += read.wireRead;
    wireWritten += read.wireWritten;
    if (read.outcome !== 'complete' || read.bytes !== file.size) {
      fallback = `${file.name}: ${read.outcome}${read.error ? ` (${read.error.message})` : ''} after ${read.bytes} of ${file.size} bytes`;
      break;
    }
    if (read.delivery === 'unicast') {
      log.info({ file: file.name }, 'group option not granted: the file came unicast');
    }
    try {
      for (const [digest, chunk] of splitVerified(file, body)) chunks.set(digest, chunk);
    } catch (err) {
      fallback = `verification failed: ${(err as Error).message}`;
      break;
    }
    files++;
    bytes += read.bytes;
    log.debug(
      { file: file.name, bytes: read.bytes, ms: read.ms, delivery: read.delivery },
      'boot file received',
    );
  }
  if (fallback)
    log.warn(
      { endpoint: `${endpoint.address}:${endpoint.port}`, reason: fallback },
      'group delivery failed: falling back to HTTP/2',
    );
  return {
    chunks,
    stats: {
      endpoint: selection.kind === 'multicast' ? 'multicast' : 'broadcast',
      endpointId: endpoint.id,
      address: `${endpoint.address}:${endpoint.port}`,
      files,
      bytes,
      wireRead,
      wireWritten,
      chunks: chunks.size,
      ms: Math.round(performance.now() - started),
      ...(fallback ? { fallback } : {}),
    },
  };
}
