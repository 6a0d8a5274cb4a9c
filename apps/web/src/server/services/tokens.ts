import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { PrismaClient } from '../../generated/prisma/client';
import { DomainError, notFound } from '../api/errors';
import { ROLES, roleAtMost, type Role } from '../api/permissions';
import { recordAudit, type Actor } from './audit';

/**
 * API tokens: `bpt_` + 32 random bytes (base64url). Only the SHA-256 of the token is stored (tokens are
 * long random strings, so a fast hash suffices and the lookup is one unique-index probe); the full token
 * is returned once, at creation.
 */
const TOKEN_PREFIX = 'bpt_';
const TOKEN_PATTERN = /^bpt_[A-Za-z0-9_-]{43}$/;

export function looksLikeApiToken(secret: string): boolean {
  return TOKEN_PATTERN.test(secret);
}

export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function generateTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export const tokenCreateInput = z.object({
  name: z.string().trim().min(1, 'is required').max(200),
  role: z.enum(ROLES),
  expiresInDays: z.number().int().min(1).max(3650).nullable().default(90),
});

export const tokenOutput = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    role: z.enum(ROLES),
    createdBy: z.string(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiToken' });
export type TokenOutput = z.infer<typeof tokenOutput>;

export async function listTokens(db: PrismaClient): Promise<TokenOutput[]> {
  const tokens = await db.apiToken.findMany({
    orderBy: { createdAt: 'desc' },
    include: { createdBy: { select: { email: true } } },
  });
  return tokens.map((t) => ({
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    role: t.role,
    createdBy: t.createdBy.email,
    createdAt: t.createdAt.toISOString(),
    expiresAt: t.expiresAt?.toISOString() ?? null,
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
  }));
}

export async function createToken(
  db: PrismaClient,
  actor: Actor,
  input: { name: string; role: Role; expiresInDays: number | null },
): Promise<{ id: string; token: string; prefix: string }> {
  if (!roleAtMost(input.role, actor.identity.role)) {
    throw new DomainError(
      'FORBIDDEN',
      `role: a token may not have a higher role than yours (${actor.identity.role.toLowerCase()})`,
      'role',
    );
  }
  const token = generateTokenSecret();
  const prefix = token.slice(0, 12);
  const expiresAt = input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null;
  const created = await db.$transaction(async (tx) => {
    const row = await tx.apiToken.create({
      data: {
        name: input.name,
        prefix,
        secretHash: hashTokenSecret(token),
        role: input.role,
        createdById: actor.identity.userId,
        expiresAt,
      },
    });
    await recordAudit(tx, actor, {
      action: 'token.create',
      targetType: 'apiToken',
      targetId: row.id,
      after: { name: input.name, role: input.role, prefix, expiresAt },
    });
    return row;
  });
  return { id: created.id, token, prefix };
}

export async function revokeToken(db: PrismaClient, actor: Actor, id: string): Promise<{ id: string }> {
  await db.$transaction(async (tx) => {
    const current = await tx.apiToken.findUnique({ where: { id } });
    if (!current) throw notFound('Token', 'id');
    if (current.revokedAt) return;
    await tx.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
    await recordAudit(tx, actor, {
      action: 'token.revoke',
      targetType: 'apiToken',
      targetId: id,
      before: { name: current.name, revokedAt: null },
      after: { revokedAt: new Date() },
    });
  });
  return { id };
}
