import { initTRPC, TRPCError } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import type { PrismaClient } from '../../generated/prisma/client';
import { errorBody, toTRPCError } from './errors';
import type { Identity, IdentityResult } from './identity';
import { can, isPermission, type Permission } from './permissions';

/**
 * tRPC in three parts (context here, procedures in ./routers, the merged router in ./root). Every
 * procedure is built from `procedure(permission)`: the guard runs before input parsing, so a caller
 * without identity gets UNAUTHORIZED and one without the permission FORBIDDEN, whatever they send.
 */
export interface Context {
  db: PrismaClient;
  auth: IdentityResult;
  ip: string | null;
  userAgent: string | null;
}

export type Meta = OpenApiMeta<{ permission?: Permission }>;

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    errorFormatter({ shape, error }) {
      const body = errorBody(error);
      return {
        ...shape,
        message: body.message,
        data: { ...shape.data, code: body.code, field: body.field, message: body.message },
      };
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Maps domain and Prisma errors raised by services to their API codes (404, 409, 400…). */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) throw toTRPCError(result.error);
  return result;
});

/** Deny by default: a procedure without a known permission in its meta is refused for everyone. */
const guard = t.middleware(async ({ ctx, meta, next }) => {
  const identity = ctx.auth.identity;
  if (!identity) {
    const message =
      ctx.auth.reason === 'invalid-token'
        ? 'The API token is invalid, expired or revoked'
        : ctx.auth.reason === 'session-ended'
          ? 'Your session has ended; sign in again'
          : 'Sign in or send an API token';
    throw new TRPCError({ code: 'UNAUTHORIZED', message });
  }
  const permission = meta?.permission;
  if (!isPermission(permission) || !can(identity.role, permission)) {
    throw new TRPCError({
      code: 'FORBIDDEN',
      message: `The ${identity.role.toLowerCase()} role may not ${permission ?? 'call this procedure'}`,
    });
  }
  return next({ ctx: { ...ctx, identity } satisfies Context & { identity: Identity } });
});

const guarded = t.procedure.use(mapErrors).use(guard);

/**
 * A procedure requiring `permission`; `rest` exposes it under /api/v1 (same procedure, same checks).
 */
export function procedure(permission: Permission, rest?: NonNullable<Meta['openapi']>) {
  return guarded.meta({
    permission,
    ...(rest ? { openapi: { protect: true, ...rest, tags: rest.tags ?? [permission.split('.')[0]!] } } : {}),
  });
}

export type AuthedContext = Context & { identity: Identity };
