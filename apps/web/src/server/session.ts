import { getServerSession } from 'next-auth';
import { headers } from 'next/headers';
import { TRPCError } from '@trpc/server';
import { notFound, redirect } from 'next/navigation';
import { cache } from 'react';
import { createCaller } from './api/root';
import { clientIp } from './api/identity';
import { authOptions, type SessionUser } from './auth';
import { getDb } from './db/client';

/** The signed-in person for this request (null when signed out or the session was ended). */
export const currentUser = cache(async (): Promise<SessionUser | null> => {
  const session = await getServerSession(authOptions());
  const user = session?.user as SessionUser | undefined;
  return user?.id ? user : null;
});

export async function requireUser(): Promise<SessionUser> {
  const user = await currentUser();
  if (!user) redirect('/login');
  return user;
}

/**
 * A tRPC caller acting as the signed-in person, for server components: pages read through the same
 * procedures (and permission checks) as the browser and API clients.
 */
export async function serverApi() {
  const user = await requireUser();
  const h = await headers();
  return createCaller({
    db: getDb(),
    auth: { identity: { kind: 'user', userId: user.id, label: user.email, role: user.role } },
    ip: clientIp(h),
    userAgent: h.get('user-agent'),
  });
}

/**
 * The record a detail page reads, or Next's 404 page when the procedure refuses it (unknown or
 * malformed id, not visible to this role). Any other failure propagates to the error page instead of
 * posing as a missing record.
 */
export async function orNotFound<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof TRPCError && ['NOT_FOUND', 'BAD_REQUEST', 'FORBIDDEN'].includes(err.code)) notFound();
    throw err;
  }
}
