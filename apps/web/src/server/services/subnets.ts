import { z } from 'zod';
import type { Prisma, PrismaClient } from '../../generated/prisma/client';
import { DomainError, notFound } from '../api/errors';
import { contains, formatIpv4, isMulticast, isUsableHost, parseCidr, parseIpv4, type Cidr } from '../lib/net';
import { changed, recordAudit, type Actor } from './audit';

const ip = z.string().trim().max(15);

/** Shape of a subnet as sent by forms and REST clients; cross-field rules are in `checkSubnet`. */
export const subnetFields = z.object({
  siteId: z.uuid(),
  name: z.string().trim().min(1, 'is required').max(200),
  cidr: z.string().trim().min(1, 'is required').max(18),
  gateway: ip.nullable().optional(),
  dnsServers: z.array(ip).max(8),
  broadcastAddress: ip.nullable().optional(),
  multicastRangeStart: ip.nullable().optional(),
  multicastRangeEnd: ip.nullable().optional(),
  poolStart: ip.nullable().optional(),
  poolEnd: ip.nullable().optional(),
  leaseTimeSeconds: z.number().int().min(60).max(31_536_000),
  agentId: z.uuid().nullable().optional(),
});
export const subnetInput = subnetFields.extend({
  dnsServers: subnetFields.shape.dnsServers.default([]),
  leaseTimeSeconds: subnetFields.shape.leaseTimeSeconds.default(3600),
});
/** For updates: every field optional and without defaults, so omitted fields keep their values. */
export const subnetPatch = subnetFields.partial();
export type SubnetInput = z.infer<typeof subnetInput>;

export const subnetOutput = z
  .object({
    id: z.string(),
    siteId: z.string(),
    siteName: z.string(),
    name: z.string(),
    cidr: z.string(),
    gateway: z.string().nullable(),
    dnsServers: z.array(z.string()),
    broadcastAddress: z
      .string()
      .meta({ description: 'Directed broadcast address (derived from the CIDR when not set)' }),
    multicastRangeStart: z.string().nullable(),
    multicastRangeEnd: z.string().nullable(),
    poolStart: z.string().nullable(),
    poolEnd: z.string().nullable(),
    leaseTimeSeconds: z.number().int(),
    agentId: z.string().nullable(),
    agentName: z.string().nullable(),
    hostCount: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Subnet' });
export type SubnetOutput = z.infer<typeof subnetOutput>;

function fail(field: string, message: string): never {
  throw new DomainError('BAD_REQUEST', `${field}: ${message}`, field);
}

function addr(field: string, value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = parseIpv4(value);
  if (n === null) fail(field, `${value} is not an IPv4 address`);
  return n;
}

/** Validates the address plan of a subnet; throws a DomainError naming the field at fault. */
export function checkSubnet(s: SubnetInput): Cidr {
  const parsed = parseCidr(s.cidr);
  if (!parsed.ok) fail('cidr', parsed.reason);
  const cidr = parsed.cidr;
  const gw = addr('gateway', s.gateway);
  if (gw !== null && !isUsableHost(cidr, gw))
    fail('gateway', `${s.gateway} is not a usable address in ${s.cidr}`);
  s.dnsServers.forEach((d, i) => addr(`dnsServers.${i}`, d));
  const bc = addr('broadcastAddress', s.broadcastAddress);
  if (bc !== null && !contains(cidr, bc))
    fail('broadcastAddress', `${s.broadcastAddress} is outside ${s.cidr}`);
  const ms = addr('multicastRangeStart', s.multicastRangeStart);
  const me = addr('multicastRangeEnd', s.multicastRangeEnd);
  if ((ms === null) !== (me === null)) {
    fail(
      ms === null ? 'multicastRangeStart' : 'multicastRangeEnd',
      'set both ends of the multicast range or neither',
    );
  }
  if (ms !== null && me !== null) {
    if (!isMulticast(ms))
      fail('multicastRangeStart', `${s.multicastRangeStart} is not a multicast address (224.0.0.0/4)`);
    if (!isMulticast(me))
      fail('multicastRangeEnd', `${s.multicastRangeEnd} is not a multicast address (224.0.0.0/4)`);
    if (ms > me) fail('multicastRangeEnd', 'must not be below the start of the range');
  }
  const ps = addr('poolStart', s.poolStart);
  const pe = addr('poolEnd', s.poolEnd);
  if ((ps === null) !== (pe === null))
    fail(ps === null ? 'poolStart' : 'poolEnd', 'set both ends of the pool or neither');
  if (ps !== null && pe !== null) {
    if (!isUsableHost(cidr, ps)) fail('poolStart', `${s.poolStart} is not a usable address in ${s.cidr}`);
    if (!isUsableHost(cidr, pe)) fail('poolEnd', `${s.poolEnd} is not a usable address in ${s.cidr}`);
    if (ps > pe) fail('poolEnd', 'must not be below the start of the pool');
  }
  return cidr;
}

const include = {
  site: { select: { name: true } },
  agent: { select: { name: true } },
  _count: { select: { hosts: true } },
} as const;
type SubnetRow = Prisma.SubnetGetPayload<{ include: typeof include }>;

export function subnetCidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (!parsed.ok) throw new Error(`stored subnet has an invalid CIDR ${text}`);
  return parsed.cidr;
}

function toOutput(s: SubnetRow): SubnetOutput {
  return {
    id: s.id,
    siteId: s.siteId,
    siteName: s.site.name,
    name: s.name,
    cidr: s.cidr,
    gateway: s.gateway,
    dnsServers: s.dnsServers,
    broadcastAddress: s.broadcastAddress ?? formatIpv4(subnetCidr(s.cidr).last),
    multicastRangeStart: s.multicastRangeStart,
    multicastRangeEnd: s.multicastRangeEnd,
    poolStart: s.poolStart,
    poolEnd: s.poolEnd,
    leaseTimeSeconds: s.leaseTimeSeconds,
    agentId: s.agentId,
    agentName: s.agent?.name ?? null,
    hostCount: s._count.hosts,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

function summary(s: Omit<SubnetInput, 'siteId'> & { siteId: string }) {
  return {
    siteId: s.siteId,
    name: s.name,
    cidr: s.cidr,
    gateway: s.gateway ?? null,
    dnsServers: s.dnsServers,
    broadcastAddress: s.broadcastAddress ?? null,
    multicastRangeStart: s.multicastRangeStart ?? null,
    multicastRangeEnd: s.multicastRangeEnd ?? null,
    poolStart: s.poolStart ?? null,
    poolEnd: s.poolEnd ?? null,
    leaseTimeSeconds: s.leaseTimeSeconds,
    agentId: s.agentId ?? null,
  };
}

export async function listSubnets(
  db: PrismaClient,
  filter: { siteId?: string | undefined },
): Promise<SubnetOutput[]> {
  const rows = await db.subnet.findMany({
    where: filter.siteId ? { siteId: filter.siteId } : {},
    orderBy: [{ site: { name: 'asc' } }, { cidr: 'asc' }],
    include,
  });
  return rows.map(toOutput);
}

export async function getSubnet(db: PrismaClient, id: string): Promise<SubnetOutput> {
  const row = await db.subnet.findUnique({ where: { id }, include });
  if (!row) throw notFound('Subnet', 'id');
  return toOutput(row);
}

/** Checks that depend on other rows: the site and agent exist, the agent is on the site, no overlap. */
async function checkReferences(db: Prisma.TransactionClient, s: SubnetInput, cidr: Cidr, exceptId?: string) {
  const site = await db.site.findUnique({ where: { id: s.siteId }, select: { id: true } });
  if (!site) throw notFound('Site', 'siteId');
  if (s.agentId) {
    const agent = await db.agent.findUnique({ where: { id: s.agentId }, select: { siteId: true } });
    if (!agent) throw notFound('Agent', 'agentId');
    if (agent.siteId !== s.siteId)
      throw new DomainError('BAD_REQUEST', 'agentId: the agent belongs to another site', 'agentId');
  }
  const siblings = await db.subnet.findMany({
    where: { siteId: s.siteId, ...(exceptId ? { id: { not: exceptId } } : {}) },
    select: { name: true, cidr: true },
  });
  for (const other of siblings) {
    if (other.name.toLowerCase() === s.name.toLowerCase()) {
      throw new DomainError('CONFLICT', `name: this site already has a subnet named "${s.name}"`, 'name');
    }
    const o = subnetCidr(other.cidr);
    if (cidr.network <= o.last && o.network <= cidr.last) {
      throw new DomainError(
        'CONFLICT',
        `cidr: overlaps ${other.name} (${other.cidr}) on the same site`,
        'cidr',
      );
    }
  }
}

function data(s: SubnetInput, cidr: Cidr) {
  return {
    siteId: s.siteId,
    name: s.name,
    cidr: `${formatIpv4(cidr.network)}/${cidr.prefix}`,
    gateway: s.gateway || null,
    dnsServers: s.dnsServers,
    broadcastAddress: s.broadcastAddress || null,
    multicastRangeStart: s.multicastRangeStart || null,
    multicastRangeEnd: s.multicastRangeEnd || null,
    poolStart: s.poolStart || null,
    poolEnd: s.poolEnd || null,
    leaseTimeSeconds: s.leaseTimeSeconds,
    agentId: s.agentId || null,
  };
}

export async function createSubnet(
  db: PrismaClient,
  actor: Actor,
  input: SubnetInput,
): Promise<SubnetOutput> {
  const cidr = checkSubnet(input);
  const row = await db.$transaction(async (tx) => {
    await checkReferences(tx, input, cidr);
    const created = await tx.subnet.create({ data: data(input, cidr), include });
    await recordAudit(tx, actor, {
      action: 'subnet.create',
      targetType: 'subnet',
      targetId: created.id,
      after: summary(data(input, cidr)),
    });
    return created;
  });
  return toOutput(row);
}

export async function updateSubnet(
  db: PrismaClient,
  actor: Actor,
  id: string,
  patch: Partial<SubnetInput>,
): Promise<SubnetOutput> {
  const row = await db.$transaction(async (tx) => {
    const current = await tx.subnet.findUnique({ where: { id } });
    if (!current) throw notFound('Subnet', 'id');
    const before = summary(current);
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const merged: SubnetInput = { ...before, ...defined };
    if (merged.siteId !== current.siteId) {
      const hosts = await tx.host.count({ where: { subnetId: id } });
      if (hosts > 0)
        throw new DomainError(
          'BAD_REQUEST',
          "siteId: move or delete the subnet's hosts before moving it to another site",
          'siteId',
        );
    }
    const cidr = checkSubnet(merged);
    await checkReferences(tx, merged, cidr, id);
    if (merged.cidr !== current.cidr) {
      const reserved = await tx.host.findMany({
        where: { subnetId: id, ipv4: { not: null } },
        select: { hostname: true, ipv4: true },
      });
      const outside = reserved.find((h) => !isUsableHost(cidr, parseIpv4(h.ipv4!)!));
      if (outside) {
        throw new DomainError(
          'BAD_REQUEST',
          `cidr: host ${outside.hostname} has ${outside.ipv4}, which would fall outside ${merged.cidr}`,
          'cidr',
        );
      }
    }
    const updated = await tx.subnet.update({ where: { id }, data: data(merged, cidr), include });
    await recordAudit(tx, actor, {
      action: 'subnet.update',
      targetType: 'subnet',
      targetId: id,
      ...changed(before, summary(data(merged, cidr))),
    });
    return updated;
  });
  return toOutput(row);
}

export async function deleteSubnet(db: PrismaClient, actor: Actor, id: string): Promise<{ id: string }> {
  await db.$transaction(async (tx) => {
    const current = await tx.subnet.findUnique({ where: { id }, include });
    if (!current) throw notFound('Subnet', 'id');
    if (current._count.hosts > 0) {
      throw new DomainError(
        'CONFLICT',
        `Subnet ${current.name} still has ${current._count.hosts} host(s); move or delete them first`,
      );
    }
    await tx.subnet.delete({ where: { id } });
    await recordAudit(tx, actor, {
      action: 'subnet.delete',
      targetType: 'subnet',
      targetId: id,
      before: summary(current),
    });
  });
  return { id };
}
