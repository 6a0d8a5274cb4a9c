import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../generated/prisma/client';
import { disconnectDb, getDb } from '../db/client';
import { createToken, revokeToken } from '../services/tokens';
import { updateUser } from '../services/users';
import { actorFor, contextFor, createTestUser, runId, userIdentity } from '../testing/fixtures';
import { resolveIdentity, sessionIdentity, type Identity } from './identity';
import { PERMISSIONS, ROLES, can, isPermission, type Role } from './permissions';
import { appRouter, createCaller } from './root';
import type { Context } from './trpc';

/**
 * Walks every procedure of the router against the permission table: each role, no identity and a
 * revoked or expired token. Derived from the router, so a procedure added without a permission (or
 * with one not in the table) fails here.
 */
interface ProcedureLike {
  _def: { type: 'query' | 'mutation' | 'subscription'; meta?: { permission?: unknown } };
}
const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, ProcedureLike>);

async function callAs(ctx: Context, path: string): Promise<string> {
  const caller = createCaller(ctx) as unknown as Record<string, unknown>;
  const fn = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller);
  try {
    // Deliberately invalid input: the permission check runs before input parsing, so denied callers get
    // UNAUTHORIZED/FORBIDDEN and allowed ones at most BAD_REQUEST, and nothing is changed.
    await (fn as (input: unknown) => Promise<unknown>)({ __invalid: true });
    return 'OK';
  } catch (err) {
    if (err instanceof TRPCError) return err.code;
    throw err;
  }
}

let db: PrismaClient;
const identities = {} as Record<Role, Identity>;

beforeAll(async () => {
  db = getDb();
  const tag = runId();
  for (const role of ROLES) identities[role] = userIdentity(await createTestUser(db, role, tag));
});

afterAll(async () => {
  await disconnectDb();
});

describe('the router against the permission table', () => {
  it('has procedures, each declaring a permission that is in the table', () => {
    expect(procedures.length).toBeGreaterThan(20);
    const missing = procedures
      .filter(([, p]) => !isPermission(p._def.meta?.permission))
      .map(([path]) => path);
    expect(missing, 'procedures without a known permission').toEqual([]);
  });

  for (const [path, proc] of procedures) {
    const permission = proc._def.meta?.permission;
    it(`${path} (${String(permission)}): allowed roles pass, others get FORBIDDEN, no identity UNAUTHORIZED`, async () => {
      expect(isPermission(permission)).toBe(true);
      if (!isPermission(permission)) return;
      for (const role of ROLES) {
        const code = await callAs(contextFor(db, identities[role]), path);
        if (can(role, permission)) {
          expect(['FORBIDDEN', 'UNAUTHORIZED'], `${role} should be allowed ${path}`).not.toContain(code);
        } else {
          expect(code, `${role} should be refused ${path}`).toBe('FORBIDDEN');
        }
      }
      expect(await callAs(contextFor(db, null), path)).toBe('UNAUTHORIZED');
    });
  }

  it('grants viewers only read permissions and admins everything', () => {
    for (const [permission, roles] of Object.entries(PERMISSIONS)) {
      expect(roles as readonly string[]).toContain('ADMIN');
      if ((roles as readonly string[]).includes('VIEWER')) expect(permission).toMatch(/\.(read|export)$/);
    }
  });
});

describe('API tokens', () => {
  const bearer = (token: string) => new Headers({ authorization: `Bearer ${token}` });

  it('a revoked token gets UNAUTHORIZED on every procedure', async () => {
    const admin = identities.ADMIN;
    const { id, token } = await createToken(db, actorFor(admin), {
      name: `revoked-${runId()}`,
      role: 'ADMIN',
      expiresInDays: 1,
    });
    const live = await resolveIdentity(db, bearer(token));
    expect(live.identity?.role).toBe('ADMIN');
    await revokeToken(db, actorFor(admin), id);
    const auth = await resolveIdentity(db, bearer(token));
    expect(auth).toEqual({ identity: null, reason: 'invalid-token' });
    const ctx: Context = { db, auth, ip: null, userAgent: null };
    for (const [path] of procedures) expect(await callAs(ctx, path), path).toBe('UNAUTHORIZED');
  });

  it('refuses expired, unknown and malformed tokens', async () => {
    const { id, token } = await createToken(db, actorFor(identities.ADMIN), {
      name: `exp-${runId()}`,
      role: 'VIEWER',
      expiresInDays: 1,
    });
    await db.apiToken.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await resolveIdentity(db, bearer(token))).identity).toBeNull();
    expect((await resolveIdentity(db, bearer(`bpt_${'x'.repeat(43)}`))).identity).toBeNull();
    expect((await resolveIdentity(db, bearer('not-a-token'))).identity).toBeNull();
    expect((await resolveIdentity(db, new Headers({ authorization: 'Basic abc' }))).identity).toBeNull();
  });

  it('cannot be created with a higher role than the creator, and is capped by the creator’s current role', async () => {
    const operator = await createTestUser(db, 'OPERATOR');
    const operatorActor = actorFor(userIdentity(operator));
    await expect(
      createToken(db, operatorActor, { name: 'too-high', role: 'ADMIN', expiresInDays: 1 }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
      field: 'role',
    });
    const { token } = await createToken(db, operatorActor, {
      name: `op-${runId()}`,
      role: 'OPERATOR',
      expiresInDays: 1,
    });
    const before = await resolveIdentity(db, bearer(token));
    expect(before.identity).toMatchObject({ kind: 'token', role: 'OPERATOR', userId: operator.id });
    const stored = await db.apiToken.findFirstOrThrow({ where: { createdById: operator.id } });
    expect(stored.secretHash).not.toContain(token.slice(4, 20));
    expect(stored.lastUsedAt).not.toBeNull();

    await updateUser(db, actorFor(identities.ADMIN), { id: operator.id, role: 'VIEWER' });
    expect((await resolveIdentity(db, bearer(token))).identity?.role).toBe('VIEWER');
    await updateUser(db, actorFor(identities.ADMIN), { id: operator.id, disabled: true });
    expect((await resolveIdentity(db, bearer(token))).identity).toBeNull();
  });
});

describe('sessions', () => {
  it('end when the user’s role changes or the user is disabled', async () => {
    const user = await createTestUser(db, 'OPERATOR');
    const claims = { uid: user.id, sv: user.sessionVersion };
    expect((await sessionIdentity(db, claims)).identity?.role).toBe('OPERATOR');
    await updateUser(db, actorFor(identities.ADMIN), { id: user.id, role: 'VIEWER' });
    expect(await sessionIdentity(db, claims)).toEqual({ identity: null, reason: 'session-ended' });
    const fresh = await db.user.findUniqueOrThrow({ where: { id: user.id } });
    const claims2 = { uid: user.id, sv: fresh.sessionVersion };
    expect((await sessionIdentity(db, claims2)).identity?.role).toBe('VIEWER');
    await updateUser(db, actorFor(identities.ADMIN), { id: user.id, disabled: true });
    expect((await sessionIdentity(db, claims2)).identity).toBeNull();
  });

  it('an admin cannot demote or disable themself', async () => {
    const admin = identities.ADMIN;
    await expect(updateUser(db, actorFor(admin), { id: admin.userId, role: 'VIEWER' })).rejects.toMatchObject(
      { field: 'role' },
    );
    await expect(updateUser(db, actorFor(admin), { id: admin.userId, disabled: true })).rejects.toMatchObject(
      { field: 'disabled' },
    );
  });
});
