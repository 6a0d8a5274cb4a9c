import { z } from 'zod';
import { intToIPv4, ipv4ToInt, normalizeMac } from '@bootpt/protocol/wire';

/**
 * What the agent serves: subnets, host reservations, boot profiles and manifests. The standalone
 * backend reads it from a JSON file; the control-plane sync will build the same `SiteData` from its
 * pulled copy. `SiteView` indexes one immutable snapshot for the per-packet lookups.
 */

const ipv4 = z.ipv4();
const mac = z.string().refine((s) => normalizeMac(s) !== null, 'not a MAC address (aa:bb:cc:dd:ee:ff)');
const hex32 = z.string().regex(/^[0-9a-f]{64}$/i, 'expected 32 bytes as 64 hex digits');
const fileName = z.string().min(1).max(127);

export const subnetSchema = z
  .object({
    id: z.string().min(1).max(64),
    cidr: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'expected a.b.c.d/len'),
    routers: z.array(ipv4).max(8).default([]),
    dnsServers: z.array(ipv4).max(8).default([]),
    domainName: z.string().min(1).max(64).optional(),
    leaseSeconds: z.number().int().min(60).optional(),
    /** Optional dynamic pool; without it only reserved hosts are served. */
    pool: z.object({ start: ipv4, end: ipv4 }).strict().optional(),
    /** `siaddr` (next server, TFTP) for this subnet; defaults to the agent's address on the link. */
    nextServer: ipv4.optional(),
    /** `sname` sent to clients. */
    serverName: z.string().min(1).max(63).optional(),
    /** Boot profile for hosts without one of their own (and for pool clients). */
    profile: z.string().min(1).optional(),
    /**
     * Ids of every agent answering on this subnet (this one included). With two or more, each agent
     * delays its offers by its rendezvous rank for the client (SPEC §9) so they do not all answer at once.
     */
    agents: z.array(z.string().min(1).max(64)).max(32).default([]),
  })
  .strict();

export const bootProfileSchema = z
  .object({
    id: z.string().min(1).max(64),
    /** Boot files by firmware family (see `responder/boot-policy.ts`). */
    bootFiles: z
      .object({
        bios: fileName.optional(),
        uefiX64: fileName.optional(),
        uefiIa32: fileName.optional(),
        uefiArm64: fileName.optional(),
        uefiArm32: fileName.optional(),
        /** Plain BOOTP/DHCP clients that are not PXE firmware (klibc ipconfig, udhcpc, ...). */
        default: fileName.optional(),
      })
      .strict()
      .default({}),
    /** What iPXE gets instead of the ROM image again (breaks the chain-load loop). */
    ipxeScriptUrl: fileName.optional(),
    /** UEFI HTTP Boot URIs by architecture family. */
    httpBootUrls: z.object({ x64: fileName.optional(), arm64: fileName.optional() }).strict().default({}),
    rootPath: z.string().min(1).max(127).optional(),
    /** The manifest booted hosts of this profile get (BOOTP Turbo). */
    manifest: hex32.optional(),
  })
  .strict();

export const hostSchema = z
  .object({
    mac,
    ip: ipv4,
    hostname: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,63}$/)
      .optional(),
    profile: z.string().min(1).optional(),
    /** Overrides the profile's boot file for this host. */
    bootFile: fileName.optional(),
    /** Overrides the profile's manifest for this host. */
    manifest: hex32.optional(),
  })
  .strict();

export const manifestSchema = z
  .object({
    /** SHA-256 of the canonical signed manifest. */
    digest: hex32,
    name: z.string().max(128).optional(),
  })
  .strict();

export const endpointSchema = z
  .object({
    kind: z.enum(['http2', 'tftp', 'broadcast', 'multicast']),
    address: ipv4,
    port: z.number().int().min(1).max(65535),
    id: z.number().int().min(0).max(0xffff).default(0),
  })
  .strict();

export const siteDataSchema = z
  .object({
    subnets: z.array(subnetSchema).default([]),
    profiles: z.array(bootProfileSchema).default([]),
    hosts: z.array(hostSchema).default([]),
    manifests: z.array(manifestSchema).default([]),
    /** Delivery endpoints offered to Turbo clients, in preference order. */
    endpoints: z.array(endpointSchema).max(8).default([]),
  })
  .strict();

export type SiteData = z.infer<typeof siteDataSchema>;
export type SubnetData = z.infer<typeof subnetSchema>;
export type BootProfile = z.infer<typeof bootProfileSchema>;
export type HostData = z.infer<typeof hostSchema>;
export type Endpoint = z.infer<typeof endpointSchema>;

export interface Subnet extends SubnetData {
  readonly network: number;
  readonly prefix: number;
  readonly mask: number;
  readonly broadcast: number;
  readonly poolStart?: number;
  readonly poolEnd?: number;
}

export interface HostReservation extends HostData {
  readonly macKey: string;
  /** `mac:<macKey>`: the host's identity in the responder's lease table, made once with the site data. */
  readonly clientKey: string;
  readonly ipInt: number;
  readonly subnet: Subnet;
}

export class SiteDataError extends Error {
  readonly code = 'AGENT_ERR_SITE_DATA';
  constructor(readonly problems: readonly string[]) {
    super(`invalid site data (${problems.length} problems):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SiteDataError';
  }
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** An immutable, indexed snapshot of `SiteData`. Construct with `SiteView.from` (validates cross references). */
export class SiteView {
  private constructor(
    readonly data: SiteData,
    readonly subnets: readonly Subnet[],
    private readonly hostsByMac: ReadonlyMap<string, HostReservation>,
    private readonly hostsByIp: ReadonlyMap<number, HostReservation>,
    private readonly profiles: ReadonlyMap<string, BootProfile>,
    private readonly manifests: ReadonlySet<string>,
  ) {}

  static empty(): SiteView {
    return SiteView.from({ subnets: [], profiles: [], hosts: [], manifests: [], endpoints: [] });
  }

  /** Validates raw JSON-ish input; throws `SiteDataError` listing every problem. */
  static parse(input: unknown): SiteView {
    const result = siteDataSchema.safeParse(input);
    if (!result.success) {
      throw new SiteDataError(
        result.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`),
      );
    }
    return SiteView.from(result.data);
  }

  static from(data: SiteData): SiteView {
    const problems: string[] = [];
    const subnets: Subnet[] = [];
    for (const [i, s] of data.subnets.entries()) {
      const [addr, len] = s.cidr.split('/') as [string, string];
      const prefix = Number(len);
      const base = ipv4ToInt(addr);
      if (base === null || prefix < 8 || prefix > 30) {
        problems.push(`subnets.${i}.cidr: ${s.cidr} is not an IPv4 network with a /8-/30 prefix`);
        continue;
      }
      const mask = maskOf(prefix);
      const network = (base & mask) >>> 0;
      const broadcast = (network | ~mask) >>> 0;
      let poolStart: number | undefined;
      let poolEnd: number | undefined;
      if (s.pool) {
        poolStart = ipv4ToInt(s.pool.start)!;
        poolEnd = ipv4ToInt(s.pool.end)!;
        if (
          (poolStart & mask) >>> 0 !== network ||
          (poolEnd & mask) >>> 0 !== network ||
          poolEnd < poolStart
        ) {
          problems.push(
            `subnets.${i}.pool: ${s.pool.start}-${s.pool.end} is not an ordered range inside ${s.cidr}`,
          );
        } else if (poolStart === network || poolEnd === broadcast) {
          problems.push(`subnets.${i}.pool: must not include the network or broadcast address`);
        } else if (poolEnd - poolStart >= 65536) {
          problems.push(`subnets.${i}.pool: at most 65536 addresses`);
        }
      }
      for (const other of subnets) {
        if ((other.network & mask) >>> 0 === network || (network & other.mask) >>> 0 === other.network) {
          problems.push(`subnets.${i}.cidr: ${s.cidr} overlaps subnet ${other.id}`);
        }
      }
      subnets.push({ ...s, network, prefix, mask, broadcast, poolStart, poolEnd });
    }
    const profiles = new Map<string, BootProfile>();
    for (const p of data.profiles) {
      if (profiles.has(p.id)) problems.push(`profiles: id ${p.id} appears twice`);
      profiles.set(p.id, p);
    }
    const manifests = new Set(data.manifests.map((m) => m.digest.toLowerCase()));
    const checkProfile = (where: string, id: string | undefined) => {
      if (id !== undefined && !profiles.has(id)) problems.push(`${where}: unknown profile ${id}`);
    };
    const checkManifest = (where: string, digest: string | undefined) => {
      if (digest !== undefined && !manifests.has(digest.toLowerCase())) {
        problems.push(`${where}: manifest ${digest} is not in manifests`);
      }
    };
    data.subnets.forEach((s, i) => checkProfile(`subnets.${i}.profile`, s.profile));
    data.profiles.forEach((p, i) => checkManifest(`profiles.${i}.manifest`, p.manifest));

    const hostsByMac = new Map<string, HostReservation>();
    const hostsByIp = new Map<number, HostReservation>();
    for (const [i, h] of data.hosts.entries()) {
      const macKey = normalizeMac(h.mac)!;
      const ipInt = ipv4ToInt(h.ip)!;
      const subnet = subnets.find((s) => (ipInt & s.mask) >>> 0 === s.network);
      checkProfile(`hosts.${i}.profile`, h.profile);
      checkManifest(`hosts.${i}.manifest`, h.manifest);
      if (!subnet) {
        problems.push(`hosts.${i}: ${h.ip} is in no configured subnet`);
        continue;
      }
      if (ipInt === subnet.network || ipInt === subnet.broadcast) {
        problems.push(`hosts.${i}: ${h.ip} is the network or broadcast address of ${subnet.cidr}`);
      }
      if (hostsByMac.has(macKey)) problems.push(`hosts.${i}: MAC ${macKey} reserved twice`);
      const clash = hostsByIp.get(ipInt);
      if (clash) problems.push(`hosts.${i}: ${h.ip} already reserved for ${clash.macKey}`);
      const host: HostReservation = { ...h, macKey, clientKey: `mac:${macKey}`, ipInt, subnet };
      hostsByMac.set(macKey, host);
      hostsByIp.set(ipInt, host);
    }
    if (problems.length > 0) throw new SiteDataError(problems);
    return new SiteView(data, subnets, hostsByMac, hostsByIp, profiles, manifests);
  }

  hostByMac(macKey: string): HostReservation | undefined {
    return this.hostsByMac.get(macKey);
  }

  hostByIp(ip: number): HostReservation | undefined {
    return this.hostsByIp.get(ip);
  }

  profile(id: string | undefined): BootProfile | undefined {
    return id === undefined ? undefined : this.profiles.get(id);
  }

  hasManifest(digest: string): boolean {
    return this.manifests.has(digest.toLowerCase());
  }

  subnetContaining(ip: number): Subnet | undefined {
    return this.subnets.find((s) => (ip & s.mask) >>> 0 === s.network);
  }

  get endpoints(): readonly Endpoint[] {
    return this.data.endpoints;
  }

  get hostCount(): number {
    return this.hostsByMac.size;
  }
}

export function formatIp(n: number): string {
  return intToIPv4(n);
}
