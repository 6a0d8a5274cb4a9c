import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DomainError, errorBody, toTRPCError } from './errors';

describe('the one error shape', () => {
  it('names the field at fault of a zod validation error', () => {
    const parsed = z.object({ tags: z.array(z.string().max(2)) }).safeParse({ tags: ['ok', 'too long'] });
    if (parsed.success) throw new Error('expected a validation error');
    const body = errorBody(new TRPCError({ code: 'BAD_REQUEST', cause: parsed.error }));
    expect(body).toEqual({
      code: 'BAD_REQUEST',
      field: 'tags.1',
      message: expect.stringMatching(/^tags\.1: /) as string,
    });
  });

  it('maps domain errors to their code and keeps the field', () => {
    const err = toTRPCError(
      new TRPCError({
        code: 'INTERNAL_SERVER_ERROR',
        cause: new DomainError('CONFLICT', 'mac: taken', 'mac'),
      }),
    );
    expect(err.code).toBe('CONFLICT');
    expect(errorBody(err)).toEqual({ code: 'CONFLICT', message: 'mac: taken', field: 'mac' });
  });

  it('maps Prisma unique and not-found errors, and hides internal messages', () => {
    const unique = Object.assign(new Error('Unique constraint failed'), { code: 'P2002' });
    expect(toTRPCError(new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: unique })).code).toBe(
      'CONFLICT',
    );
    const missing = Object.assign(new Error('No record'), { code: 'P2025' });
    expect(toTRPCError(new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: missing })).code).toBe(
      'NOT_FOUND',
    );
    const internal = new TRPCError({
      code: 'INTERNAL_SERVER_ERROR',
      message: 'connection string postgres://secret',
    });
    expect(errorBody(internal)).toEqual({
      code: 'INTERNAL_SERVER_ERROR',
      message: 'Internal server error',
      field: null,
    });
  });
});
