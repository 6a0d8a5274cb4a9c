import type { NextAuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import type { OAuthConfig } from 'next-auth/providers/oauth';
import { env } from '../env';
import type { Role } from './api/permissions';
import { getDb } from './db/client';
import { logger } from './logger';
import { verifyPassword } from './password';
import { redisSignInLimiter, type SignInLimiter } from './rate-limit';

/** Thrown from `authorize`; next-auth passes the message to the sign-in form as `error`. */
export const RATE_LIMITED = 'RATE_LIMITED';

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
}

function headerValue(headers: Record<string, unknown> | undefined, name: string): string | null {
  const v = headers?.[name];
  return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : null;
}

/** Checks an email and password; counts failures per (email, address) and refuses when over the limit. */
export async function authorizeCredentials(
  email: string,
  password: string,
  ip: string | null,
  limiter: SignInLimiter = redisSignInLimiter,
) {
  if (await limiter.isBlocked(email, ip)) {
    logger.warn({ event: 'auth.rate_limited', email, ip }, 'sign-in refused: too many failures');
    throw new Error(RATE_LIMITED);
  }
  const db = getDb();
  const user = await db.user.findUnique({ where: { email } });
  // Verify even for unknown users so response time does not reveal which emails have accounts.
  const ok = await verifyPassword(
    password,
    user?.passwordHash ??
      'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
  );
  if (!user || user.disabled || !ok) {
    await limiter.recordFailure(email, ip);
    logger.warn({ event: 'auth.failed', email, ip }, 'failed sign-in');
    return null;
  }
  await limiter.reset(email, ip);
  await db.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    sessionVersion: user.sessionVersion,
  };
}

interface OidcProfile {
  sub: string;
  email?: string;
  name?: string;
  preferred_username?: string;
}

/** The OIDC provider, when OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are all set. */
function oidcProvider(): OAuthConfig<OidcProfile> | null {
  const e = env();
  if (!e.OIDC_ISSUER || !e.OIDC_CLIENT_ID || !e.OIDC_CLIENT_SECRET) return null;
  return {
    id: 'oidc',
    name: e.OIDC_NAME,
    type: 'oauth',
    wellKnown: `${e.OIDC_ISSUER.replace(/\/$/, '')}/.well-known/openid-configuration`,
    clientId: e.OIDC_CLIENT_ID,
    clientSecret: e.OIDC_CLIENT_SECRET,
    authorization: { params: { scope: 'openid email profile' } },
    idToken: true,
    checks: ['pkce', 'state'],
    profile: (p) => ({
      id: p.sub,
      email: p.email ?? null,
      name: p.name ?? p.preferred_username ?? p.email ?? p.sub,
    }),
  };
}

export function oidcEnabled(): { name: string } | null {
  const p = oidcProvider();
  return p ? { name: p.name } : null;
}

/**
 * Sign-in for people. Sessions are JWTs carrying the user id and `sessionVersion`; each request re-reads
 * the user, so disabling a user or changing their role (both bump sessionVersion) ends their sessions.
 * OIDC users are matched by verified email; an unknown email gets a viewer account (no password).
 */
export function authOptions(): NextAuthOptions {
  const oidc = oidcProvider();
  return {
    secret: env().NEXTAUTH_SECRET,
    session: { strategy: 'jwt', maxAge: 12 * 60 * 60 },
    pages: { signIn: '/login', error: '/login' },
    providers: [
      CredentialsProvider({
        name: 'Email and password',
        credentials: {
          email: { label: 'Email', type: 'email' },
          password: { label: 'Password', type: 'password' },
        },
        async authorize(credentials, req) {
          const email = credentials?.email?.trim().toLowerCase();
          const password = credentials?.password;
          if (!email || !password) return null;
          const forwarded = headerValue(req.headers, 'x-forwarded-for')?.split(',')[0]?.trim() ?? null;
          return authorizeCredentials(email, password, forwarded);
        },
      }),
      ...(oidc ? [oidc] : []),
    ],
    callbacks: {
      async signIn({ account, user }) {
        if (account?.provider !== 'oidc') return true;
        const email = user.email?.trim().toLowerCase();
        if (!email) return false;
        const db = getDb();
        const existing = await db.user.findUnique({ where: { email } });
        if (existing) return !existing.disabled;
        await db.user.create({ data: { email, name: user.name ?? email, role: 'VIEWER' } });
        logger.info({ event: 'auth.oidc_provisioned', email }, 'created a viewer account for an OIDC user');
        return true;
      },
      async jwt({ token, user, account }) {
        if (!user) return token;
        const db = getDb();
        const row =
          account?.provider === 'oidc' && user.email
            ? await db.user.findUnique({ where: { email: user.email.trim().toLowerCase() } })
            : await db.user.findUnique({ where: { id: user.id } });
        if (row) {
          token.uid = row.id;
          token.sv = row.sessionVersion;
          if (account?.provider === 'oidc') {
            await db.user.update({ where: { id: row.id }, data: { lastLoginAt: new Date() } });
          }
        }
        return token;
      },
      async session({ session, token }) {
        const user =
          typeof token.uid === 'string' ? await getDb().user.findUnique({ where: { id: token.uid } }) : null;
        if (!user || user.disabled || user.sessionVersion !== token.sv) {
          return { ...session, user: undefined, expires: new Date(0).toISOString() };
        }
        const sessionUser: SessionUser = { id: user.id, email: user.email, name: user.name, role: user.role };
        return { ...session, user: sessionUser };
      },
    },
  };
}
