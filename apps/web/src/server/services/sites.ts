import { z } from 'zod';
import type { PrismaClient, Site } from '../../generated/prisma/client';
import { DomainError, notFound } from '../api/errors';
import { changed, recordAudit, type Actor } from './audit';

const siteFields = z.object({
  name: z.string().trim().min(1, 'is required').max(200),
  description: z.string().trim().max(2000),
  timezone: z
    .string()
    .trim()
    .refine((tz) => isTimeZone(tz), 'must be an IANA time zone such as Europe/Berlin'),
});
export const siteInput = siteFields.extend({
  description: siteFields.shape.description.default(''),
  timezone: siteFields.shape.timezone.default('UTC'),
});
/** For updates: every field optional and without defaults, so omitted fields keep their values. */
export const sitePatch = siteFields.partial();
export type SiteInput = z.infer<typeof siteInput>;

export const siteOutput = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    timezone: z.string(),
    subnetCount: z.number().int(),
    hostCount: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Site' });
export type SiteOutput = z.infer<typeof siteOutput>;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

type SiteWithCounts = Site & { _count: { subnets: number; hosts: number } };

function toOutput(s: SiteWithCounts): SiteOutput {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    timezone: s.timezone,
    subnetCount: s._count.subnets,
    hostCount: s._count.hosts,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

const withCounts = { _count: { select: { subnets: true, hosts: true } } } as const;

const summary = (s: Site) => ({ name: s.name, description: s.description, timezone: s.timezone });

export async function listSites(db: PrismaClient): Promise<SiteOutput[]> {
  const sites = await db.site.findMany({ orderBy: { name: 'asc' }, include: withCounts });
  return sites.map(toOutput);
}

export async function getSite(db: PrismaClient, id: string): Promise<SiteOutput> {
  const site = await db.site.findUnique({ where: { id }, include: withCounts });
  if (!site) throw notFound('Site', 'id');
  return toOutput(site);
}

async function assertNameFree(db: PrismaClient, name: string, exceptId?: string) {
  const clash = await db.site.findFirst({
    where: { name: { equals: name, mode: 'insensitive' }, ...(exceptId ? { id: { not: exceptId } } : {}) },
    select: { id: true },
  });
  if (clash) throw new DomainError('CONFLICT', `A site named "${name}" already exists`, 'name');
}

export async function createSite(db: PrismaClient, actor: Actor, input: SiteInput): Promise<SiteOutput> {
  await assertNameFree(db, input.name);
  const site = await db.$transaction(async (tx) => {
    const created = await tx.site.create({ data: input, include: withCounts });
    await recordAudit(tx, actor, {
      action: 'site.create',
      targetType: 'site',
      targetId: created.id,
      after: summary(created),
    });
    return created;
  });
  return toOutput(site);
}

export async function updateSite(
  db: PrismaClient,
  actor: Actor,
  id: string,
  input: Partial<SiteInput>,
): Promise<SiteOutput> {
  if (input.name) await assertNameFree(db, input.name, id);
  const site = await db.$transaction(async (tx) => {
    const before = await tx.site.findUnique({ where: { id } });
    if (!before) throw notFound('Site', 'id');
    const after = await tx.site.update({ where: { id }, data: input, include: withCounts });
    await recordAudit(tx, actor, {
      action: 'site.update',
      targetType: 'site',
      targetId: id,
      ...changed(summary(before), summary(after)),
    });
    return after;
  });
  return toOutput(site);
}

export async function deleteSite(db: PrismaClient, actor: Actor, id: string): Promise<{ id: string }> {
  await db.$transaction(async (tx) => {
    const site = await tx.site.findUnique({ where: { id }, include: withCounts });
    if (!site) throw notFound('Site', 'id');
    const agents = await tx.agent.count({ where: { siteId: id } });
    if (site._count.subnets > 0 || site._count.hosts > 0 || agents > 0) {
      throw new DomainError(
        'CONFLICT',
        `Site "${site.name}" still has ${site._count.subnets} subnet(s), ${site._count.hosts} host(s) and ${agents} agent(s); remove them first`,
      );
    }
    await tx.site.delete({ where: { id } });
    await recordAudit(tx, actor, {
      action: 'site.delete',
      targetType: 'site',
      targetId: id,
      before: summary(site),
    });
  });
  return { id };
}
