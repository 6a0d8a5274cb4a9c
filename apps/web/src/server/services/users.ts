import { z } from 'zod';
import type { PrismaClient, User } from '../../generated/prisma/client';
import { DomainError, notFound } from '../api/errors';
import { ROLES } from '../api/permissions';
import { hashPassword } from '../password';
import { changed, recordAudit, type Actor } from './audit';

export const userCreateInput = z.object({
  email: z.email({ message: 'must be an email address' }).trim().toLowerCase().max(320),
  name: z.string().trim().min(1, 'is required').max(200),
  role: z.enum(ROLES),
  password: z.string().min(12, 'must be at least 12 characters').max(200),
});

export const userUpdateInput = z.object({
  id: z.uuid(),
  name: z.string().trim().min(1).max(200).optional(),
  role: z.enum(ROLES).optional(),
  disabled: z.boolean().optional(),
  password: z.string().min(12, 'must be at least 12 characters').max(200).optional(),
});

export const userOutput = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    disabled: z.boolean(),
    lastLoginAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'User' });
export type UserOutput = z.infer<typeof userOutput>;

const toOutput = (u: User): UserOutput => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  disabled: u.disabled,
  lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
  createdAt: u.createdAt.toISOString(),
});

const summary = (u: Pick<User, 'email' | 'name' | 'role' | 'disabled'>) => ({
  email: u.email,
  name: u.name,
  role: u.role,
  disabled: u.disabled,
});

export async function listUsers(db: PrismaClient): Promise<UserOutput[]> {
  return (await db.user.findMany({ orderBy: { email: 'asc' } })).map(toOutput);
}

export async function createUser(
  db: PrismaClient,
  actor: Actor,
  input: z.infer<typeof userCreateInput>,
): Promise<UserOutput> {
  if (await db.user.findUnique({ where: { email: input.email }, select: { id: true } })) {
    throw new DomainError('CONFLICT', `email: ${input.email} already has an account`, 'email');
  }
  const passwordHash = await hashPassword(input.password);
  const user = await db.$transaction(async (tx) => {
    const created = await tx.user.create({
      data: { email: input.email, name: input.name, role: input.role, passwordHash },
    });
    await recordAudit(tx, actor, {
      action: 'user.create',
      targetType: 'user',
      targetId: created.id,
      after: summary(created),
    });
    return created;
  });
  return toOutput(user);
}

/**
 * Role changes, disabling and password resets bump `sessionVersion`, which ends the user's sessions at
 * their next request. Admins cannot lock themselves out (demote or disable their own account).
 */
export async function updateUser(
  db: PrismaClient,
  actor: Actor,
  input: z.infer<typeof userUpdateInput>,
): Promise<UserOutput> {
  const passwordHash = input.password ? await hashPassword(input.password) : undefined;
  const user = await db.$transaction(async (tx) => {
    const current = await tx.user.findUnique({ where: { id: input.id } });
    if (!current) throw notFound('User', 'id');
    const self = current.id === actor.identity.userId;
    if (self && input.role && input.role !== current.role) {
      throw new DomainError('BAD_REQUEST', 'role: you cannot change your own role', 'role');
    }
    if (self && input.disabled)
      throw new DomainError('BAD_REQUEST', 'disabled: you cannot disable yourself', 'disabled');
    const endsSessions =
      (input.role !== undefined && input.role !== current.role) ||
      (input.disabled !== undefined && input.disabled !== current.disabled) ||
      passwordHash !== undefined;
    const updated = await tx.user.update({
      where: { id: input.id },
      data: {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.role !== undefined ? { role: input.role } : {}),
        ...(input.disabled !== undefined ? { disabled: input.disabled } : {}),
        ...(passwordHash ? { passwordHash } : {}),
        ...(endsSessions ? { sessionVersion: { increment: 1 } } : {}),
      },
    });
    const diff = changed(summary(current), summary(updated));
    if (passwordHash) diff.after.credentialReset = true;
    await recordAudit(tx, actor, {
      action: 'user.update',
      targetType: 'user',
      targetId: current.id,
      ...diff,
    });
    return updated;
  });
  return toOutput(user);
}
