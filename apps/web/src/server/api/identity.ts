import { isIP } from 'node:net';
import { decode } from 'next-auth/jwt';
import type { PrismaClient } from '../../generated/prisma/client';
import { env } from '../../env';
import { lowerRole, type Role } from './permissions';
import { hashTokenSecret, looksLikeApiToken } from '../services/tokens';

/** Who is calling: a signed-in person or an API token (acting with at most its creator's current role). */
export type Identity =
  | { kind: 'user'; userId: string; label: string; role: Role }
  | { kind: 'token'; userId: string; tokenId: string; label: string; role: Role };

export type IdentityResult =
  { identity: Identity } | { identity: null; reason: 'none' | 'invalid-token' | 'session-ended' };

const SESSION_COOKIES = ['__Secure-next-auth.session-token', 'next-auth.session-token'];

function parseCookies(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    try {
      out.set(name, decodeURIComponent(value));
    } catch {
      out.set(name, value);
    }
  }
  return out;
}

/** The session JWT from the cookie header; next-auth splits large tokens into `.0`, `.1`… chunks. */
function sessionCookie(cookies: Map<string, string>): string | null {
  for (const name of SESSION_COOKIES) {
    const whole = cookies.get(name);
    if (whole) return whole;
    const chunks: string[] = [];
    for (let i = 0; cookies.has(`${name}.${i}`); i++) chunks.push(cookies.get(`${name}.${i}`)!);
    if (chunks.length) return chunks.join('');
  }
  return null;
}

const LAST_USED_WRITE_INTERVAL_MS = 60_000;

async function tokenIdentity(db: PrismaClient, secret: string): Promise<IdentityResult> {
  if (!looksLikeApiToken(secret)) return { identity: null, reason: 'invalid-token' };
  const token = await db.apiToken.findUnique({
    where: { secretHash: hashTokenSecret(secret) },
    include: { createdBy: { select: { role: true, disabled: true, email: true } } },
  });
  const now = new Date();
  if (!token || token.revokedAt || (token.expiresAt && token.expiresAt <= now) || token.createdBy.disabled) {
    return { identity: null, reason: 'invalid-token' };
  }
  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > LAST_USED_WRITE_INTERVAL_MS) {
    // Throttled so a busy automation does not turn every read into a write.
    await db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: now } });
  }
  return {
    identity: {
      kind: 'token',
      userId: token.createdById,
      tokenId: token.id,
      label: `token ${token.name} (${token.createdBy.email})`,
      role: lowerRole(token.role, token.createdBy.role),
    },
  };
}

/**
 * A person's session: the next-auth JWT plus a fresh read of the user, so a disabled user or a changed
 * role (both bump sessionVersion) ends the session at the next request.
 */
export async function sessionIdentity(
  db: PrismaClient,
  claims: { uid?: unknown; sv?: unknown } | null,
): Promise<IdentityResult> {
  if (!claims || typeof claims.uid !== 'string') return { identity: null, reason: 'none' };
  const user = await db.user.findUnique({ where: { id: claims.uid } });
  if (!user || user.disabled || user.sessionVersion !== claims.sv) {
    return { identity: null, reason: 'session-ended' };
  }
  return { identity: { kind: 'user', userId: user.id, label: user.email, role: user.role } };
}

/** Resolves the caller from `Authorization: Bearer` (API tokens) or the session cookie. */
export async function resolveIdentity(db: PrismaClient, headers: Headers): Promise<IdentityResult> {
  const authorization = headers.get('authorization');
  if (authorization) {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!m) return { identity: null, reason: 'invalid-token' };
    return tokenIdentity(db, m[1]!);
  }
  const jwt = sessionCookie(parseCookies(headers.get('cookie')));
  if (!jwt) return { identity: null, reason: 'none' };
  let claims: Awaited<ReturnType<typeof decode>>;
  try {
    claims = await decode({ token: jwt, secret: env().NEXTAUTH_SECRET });
  } catch {
    return { identity: null, reason: 'session-ended' };
  }
  return sessionIdentity(db, claims as { uid?: unknown; sv?: unknown } | null);
}

/** The client address as seen by the first proxy (Next sets x-forwarded-for from the socket). */
export function clientIp(headers: Headers): string | null {
  const forwarded = headers.get('x-forwarded-for')?.split(',')[0]?.trim();
  const ip = forwarded || headers.get('x-real-ip')?.trim() || null;
  if (!ip) return null;
  // Stored as Postgres `inet`: keep only real addresses, and unwrap IPv4-mapped IPv6 so they read naturally.
  const bare = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return isIP(bare) ? bare : null;
}
