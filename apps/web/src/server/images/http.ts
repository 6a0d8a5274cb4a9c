import type { PrismaClient } from '../../generated/prisma/client';
import { DomainError } from '../api/errors';
import { resolveIdentity } from '../api/identity';
import { can, type Permission } from '../api/permissions';
import { logger } from '../logger';

/** Helpers for the plain route handlers of the image pipeline (uploads, agent content). */
const STATUS: Record<DomainError['code'], number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
};

/** The API's one error body (`{ code, message, field }`) with the matching status. */
export function errorResponse(err: DomainError, headers: HeadersInit = {}): Response {
  return Response.json(
    { code: err.code, message: err.message, field: err.field },
    { status: STATUS[err.code], headers },
  );
}

/** A route handler's failure as a response: the error body for a DomainError, else a logged 500. */
export function failureResponse(err: unknown, what: string): Response {
  if (err instanceof DomainError) return errorResponse(err);
  logger.error({ err }, `${what} failed`);
  return Response.json(
    { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error', field: null },
    { status: 500 },
  );
}

/** Session cookie or API token, holding `permission`; throws UNAUTHORIZED/FORBIDDEN DomainErrors. */
export async function requirePermission(db: PrismaClient, headers: Headers, permission: Permission) {
  const auth = await resolveIdentity(db, headers);
  if (!auth.identity) throw new DomainError('UNAUTHORIZED', 'Sign in or send an API token');
  if (!can(auth.identity.role, permission)) {
    throw new DomainError('FORBIDDEN', `The ${auth.identity.role.toLowerCase()} role may not ${permission}`);
  }
  return auth.identity;
}

/** A web request body as an async iterable of byte buffers, read as it arrives. */
export async function* bodyChunks(body: ReadableStream<Uint8Array> | null): AsyncGenerator<Uint8Array> {
  if (!body) return;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value.length > 0) yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
