import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../generated/prisma/client';
import type { Identity } from '../api/identity';
import type { Role } from '../api/permissions';
import { createCaller } from '../api/root';
import type { Context } from '../api/trpc';
import type { Actor } from '../services/audit';

/** Test helpers: users, callers and inventory with names unique to one test run (tests share one DB). */
export const runId = () => randomUUID().slice(0, 8);

export async function createTestUser(db: PrismaClient, role: Role, tag = runId()) {
  return db.user.create({
    data: {
      email: `${role.toLowerCase()}-${tag}@test.bootpt`,
      name: `${role} ${tag}`,
      role,
      passwordHash: null,
    },
  });
}

export function userIdentity(user: { id: string; email: string; role: Role }): Identity {
  return { kind: 'user', userId: user.id, label: user.email, role: user.role };
}

export function contextFor(db: PrismaClient, identity: Identity | null): Context {
  return {
    db,
    auth: identity ? { identity } : { identity: null, reason: 'none' },
    ip: '127.0.0.1',
    userAgent: 'vitest',
  };
}

export function callerFor(db: PrismaClient, identity: Identity | null) {
  return createCaller(contextFor(db, identity));
}

export function actorFor(identity: Identity): Actor {
  return { identity, ip: '127.0.0.1', userAgent: 'vitest' };
}

/** A /16 network unique enough per run that parallel test files do not collide on a site. */
export function testNetwork(): { prefix: string; cidr: string } {
  const a = 10 + Math.floor(Math.random() * 200);
  const b = Math.floor(Math.random() * 256);
  return { prefix: `${a}.${b}`, cidr: `${a}.${b}.0.0/16` };
}
