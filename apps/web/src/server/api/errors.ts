import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { z } from 'zod';

/**
 * The one error shape of the API, on tRPC (in `error.data`) and REST (the response body) alike:
 * a stable code, a readable message and the input field at fault (dotted path) when there is one.
 */
export const apiErrorSchema = z
  .object({
    code: z.string().meta({ example: 'BAD_REQUEST' }),
    message: z.string(),
    field: z.string().nullable(),
  })
  .meta({ id: 'Error' });
export type ApiError = z.infer<typeof apiErrorSchema>;

export type DomainErrorCode = 'BAD_REQUEST' | 'NOT_FOUND' | 'CONFLICT' | 'FORBIDDEN' | 'UNAUTHORIZED';

/** An expected failure of a service call; services throw these, the tRPC layer maps them 1:1. */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string, field: string | null = null) =>
  new DomainError('NOT_FOUND', `${what} not found`, field);

interface ZodLikeIssue {
  path: PropertyKey[];
  message: string;
}

function zodIssues(cause: unknown): ZodLikeIssue[] | null {
  if (
    cause instanceof Error &&
    cause.name === 'ZodError' &&
    'issues' in cause &&
    Array.isArray(cause.issues)
  ) {
    return cause.issues as ZodLikeIssue[];
  }
  return null;
}

/** Turns a Prisma "known request error" into a domain error where it has a meaning for the caller. */
export function fromPrismaError(err: unknown): DomainError | null {
  if (!err || typeof err !== 'object' || !('code' in err)) return null;
  const code = err.code;
  if (code === 'P2002') return new DomainError('CONFLICT', 'A record with these values already exists');
  if (code === 'P2025') return new DomainError('NOT_FOUND', 'Record not found');
  if (code === 'P2003' || code === 'P2014')
    return new DomainError('CONFLICT', 'The record is still in use by other records');
  return null;
}

/** Normalises any error raised inside a procedure to a TRPCError carrying a DomainError or ZodError cause. */
export function toTRPCError(err: TRPCError): TRPCError {
  const cause = err.cause;
  if (cause instanceof DomainError) {
    return new TRPCError({ code: cause.code, message: cause.message, cause });
  }
  const prisma = fromPrismaError(cause);
  if (prisma) return new TRPCError({ code: prisma.code, message: prisma.message, cause: prisma });
  return err;
}

/** The error body for an error raised anywhere in the API. */
export function errorBody(err: TRPCError): ApiError {
  const cause = err.cause;
  if (cause instanceof DomainError) return { code: cause.code, message: cause.message, field: cause.field };
  const issues = zodIssues(cause);
  if (issues && issues.length > 0) {
    const first = issues[0]!;
    const field = first.path.map(String).join('.');
    return {
      code: 'BAD_REQUEST',
      message: field ? `${field}: ${first.message}` : first.message,
      field: field || null,
    };
  }
  const code: TRPC_ERROR_CODE_KEY = err.code;
  const message = code === 'INTERNAL_SERVER_ERROR' ? 'Internal server error' : err.message;
  return { code, message, field: null };
}
