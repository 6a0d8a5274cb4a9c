import { z } from 'zod';
import type { Prisma, PrismaClient } from '../../generated/prisma/client';

export const auditListInput = z.object({
  action: z.string().trim().max(100).optional(),
  actor: z.string().trim().max(320).optional(),
  targetType: z.string().trim().max(50).optional(),
  targetId: z.string().trim().max(100).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  /** Keyset cursor: the id of the last entry of the previous page (ids grow with time). */
  before: z.string().regex(/^\d+$/).optional(),
  limit: z.number().int().min(1).max(200).default(50),
});
export type AuditListInput = z.infer<typeof auditListInput>;

export const auditEntryOutput = z
  .object({
    id: z.string(),
    createdAt: z.string(),
    actorType: z.string(),
    actor: z.string(),
    action: z.string(),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    before: z.unknown(),
    after: z.unknown(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
  })
  .meta({ id: 'AuditEntry' });

export const auditPageOutput = z.object({
  items: z.array(auditEntryOutput),
  nextCursor: z.string().nullable(),
});
export type AuditPage = z.infer<typeof auditPageOutput>;

/** The audit log, newest first, paged by id (the log is append-only, so a cursor never shifts). */
export async function listAudit(db: PrismaClient, input: AuditListInput): Promise<AuditPage> {
  const where: Prisma.AuditLogWhereInput = {};
  if (input.action)
    where.action = input.action.includes('.') ? input.action : { startsWith: `${input.action}.` };
  if (input.actor) where.actorLabel = { contains: input.actor, mode: 'insensitive' };
  if (input.targetType) where.targetType = input.targetType;
  if (input.targetId) where.targetId = input.targetId;
  if (input.from || input.to) {
    where.createdAt = {
      ...(input.from ? { gte: new Date(input.from) } : {}),
      ...(input.to ? { lt: new Date(input.to) } : {}),
    };
  }
  if (input.before) where.id = { lt: BigInt(input.before) };
  const rows = await db.auditLog.findMany({ where, orderBy: { id: 'desc' }, take: input.limit + 1 });
  const page = rows.slice(0, input.limit);
  return {
    items: page.map((a) => ({
      id: a.id.toString(),
      createdAt: a.createdAt.toISOString(),
      actorType: a.actorType,
      actor: a.actorLabel,
      action: a.action,
      targetType: a.targetType,
      targetId: a.targetId,
      before: a.before,
      after: a.after,
      ip: a.ip,
      userAgent: a.userAgent,
    })),
    nextCursor: rows.length > input.limit ? page[page.length - 1]!.id.toString() : null,
  };
}
