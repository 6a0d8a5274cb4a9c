import { getDb } from '../db/client';
import { clientIp, resolveIdentity } from './identity';
import type { Context } from './trpc';

/** Context for tRPC and REST requests: the caller (cookie session or Bearer token) and where they are. */
export async function createContextFromHeaders(headers: Headers): Promise<Context> {
  const db = getDb();
  return {
    db,
    auth: await resolveIdentity(db, headers),
    ip: clientIp(headers),
    userAgent: headers.get('user-agent'),
  };
}
