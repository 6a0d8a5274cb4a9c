import { z } from 'zod';
import type { Prisma, PrismaClient } from '../../generated/prisma/client';
import { DomainError, notFound } from '../api/errors';
import { changed, recordAudit, type Actor } from './audit';
import { ARCHITECTURES } from './host-rules';

const entryInput = z.object({
  architecture: z.enum(ARCHITECTURES),
  releaseId: z.uuid().nullable().optional(),
  bootFile: z.string().trim().max(255).nullable().optional(),
  kernelCmdline: z.string().trim().max(4096).nullable().optional(),
});

const bootProfileFields = z.object({
  name: z.string().trim().min(1, 'is required').max(200),
  description: z.string().trim().max(2000),
  entries: z.array(entryInput).max(ARCHITECTURES.length),
});
export const bootProfileInput = bootProfileFields.extend({
  description: bootProfileFields.shape.description.default(''),
  entries: bootProfileFields.shape.entries.default([]),
});
/** For updates: every field optional and without defaults, so omitted fields keep their values. */
export const bootProfilePatch = bootProfileFields.partial();
export type BootProfileInput = z.infer<typeof bootProfileInput>;

export const bootProfileOutput = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    hostCount: z.number().int(),
    entries: z.array(
      z.object({
        architecture: z.enum(ARCHITECTURES),
        releaseId: z.string().nullable(),
        releaseLabel: z.string().nullable(),
        bootFile: z.string().nullable(),
        kernelCmdline: z.string().nullable(),
      }),
    ),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'BootProfile' });
export type BootProfileOutput = z.infer<typeof bootProfileOutput>;

const include = {
  entries: {
    orderBy: { architecture: 'asc' },
    include: { release: { select: { version: true, image: { select: { name: true } } } } },
  },
  _count: { select: { hosts: true } },
} as const;
type Row = Prisma.BootProfileGetPayload<{ include: typeof include }>;

function toOutput(p: Row): BootProfileOutput {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    hostCount: p._count.hosts,
    entries: p.entries.map((e) => ({
      architecture: e.architecture,
      releaseId: e.releaseId,
      releaseLabel: e.release ? `${e.release.image.name} ${e.release.version}` : null,
      bootFile: e.bootFile,
      kernelCmdline: e.kernelCmdline,
    })),
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

function summary(p: { name: string; description: string; entries: BootProfileInput['entries'] }) {
  return {
    name: p.name,
    description: p.description,
    entries: p.entries.map((e) => ({
      architecture: e.architecture,
      releaseId: e.releaseId ?? null,
      bootFile: e.bootFile ?? null,
      kernelCmdline: e.kernelCmdline ?? null,
    })),
  };
}

async function check(tx: Prisma.TransactionClient, input: BootProfileInput, exceptId?: string) {
  const clash = await tx.bootProfile.findFirst({
    where: {
      name: { equals: input.name, mode: 'insensitive' },
      ...(exceptId ? { id: { not: exceptId } } : {}),
    },
    select: { id: true },
  });
  if (clash)
    throw new DomainError('CONFLICT', `name: a boot profile named "${input.name}" already exists`, 'name');
  const seen = new Set<string>();
  for (const [i, e] of input.entries.entries()) {
    if (seen.has(e.architecture)) {
      throw new DomainError(
        'BAD_REQUEST',
        `entries.${i}.architecture: ${e.architecture} appears twice`,
        `entries.${i}.architecture`,
      );
    }
    seen.add(e.architecture);
    if (!e.releaseId && !e.bootFile) {
      throw new DomainError(
        'BAD_REQUEST',
        `entries.${i}: choose a release or a boot file`,
        `entries.${i}.bootFile`,
      );
    }
    if (e.releaseId) {
      const release = await tx.release.findUnique({ where: { id: e.releaseId }, select: { id: true } });
      if (!release) throw notFound('Release', `entries.${i}.releaseId`);
    }
  }
}

const entryData = (input: BootProfileInput) =>
  input.entries.map((e) => ({
    architecture: e.architecture,
    releaseId: e.releaseId || null,
    bootFile: e.bootFile || null,
    kernelCmdline: e.kernelCmdline || null,
  }));

export async function listBootProfiles(db: PrismaClient): Promise<BootProfileOutput[]> {
  return (await db.bootProfile.findMany({ orderBy: { name: 'asc' }, include })).map(toOutput);
}

export async function getBootProfile(db: PrismaClient, id: string): Promise<BootProfileOutput> {
  const row = await db.bootProfile.findUnique({ where: { id }, include });
  if (!row) throw notFound('Boot profile', 'id');
  return toOutput(row);
}

export async function createBootProfile(
  db: PrismaClient,
  actor: Actor,
  input: BootProfileInput,
): Promise<BootProfileOutput> {
  const row = await db.$transaction(async (tx) => {
    await check(tx, input);
    const created = await tx.bootProfile.create({
      data: { name: input.name, description: input.description, entries: { create: entryData(input) } },
      include,
    });
    await recordAudit(tx, actor, {
      action: 'bootProfile.create',
      targetType: 'bootProfile',
      targetId: created.id,
      after: summary(input),
    });
    return created;
  });
  return toOutput(row);
}

export async function updateBootProfile(
  db: PrismaClient,
  actor: Actor,
  id: string,
  patch: Partial<BootProfileInput>,
): Promise<BootProfileOutput> {
  const row = await db.$transaction(async (tx) => {
    const current = await tx.bootProfile.findUnique({ where: { id }, include });
    if (!current) throw notFound('Boot profile', 'id');
    const before = summary(current);
    const merged: BootProfileInput = {
      name: patch.name ?? current.name,
      description: patch.description ?? current.description,
      entries: patch.entries ?? before.entries,
    };
    await check(tx, merged, id);
    const updated = await tx.bootProfile.update({
      where: { id },
      data: {
        name: merged.name,
        description: merged.description,
        ...(patch.entries ? { entries: { deleteMany: {}, create: entryData(merged) } } : {}),
      },
      include,
    });
    await recordAudit(tx, actor, {
      action: 'bootProfile.update',
      targetType: 'bootProfile',
      targetId: id,
      ...changed(before, summary(merged)),
    });
    return updated;
  });
  return toOutput(row);
}

export async function deleteBootProfile(db: PrismaClient, actor: Actor, id: string): Promise<{ id: string }> {
  await db.$transaction(async (tx) => {
    const current = await tx.bootProfile.findUnique({ where: { id }, include });
    if (!current) throw notFound('Boot profile', 'id');
    if (current._count.hosts > 0) {
      throw new DomainError(
        'CONFLICT',
        `Boot profile ${current.name} is used by ${current._count.hosts} host(s)`,
      );
    }
    await tx.bootProfile.delete({ where: { id } });
    await recordAudit(tx, actor, {
      action: 'bootProfile.delete',
      targetType: 'bootProfile',
      targetId: id,
      before: summary(current),
    });
  });
  return { id };
}
