import type { NextAuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import { getDb } from './db/client';
import { verifyPassword } from './password';
import { logger } from './logger';

/**
 * Sign-in for people: local accounts (scrypt-hashed passwords). Sessions are JWTs carrying the user id
 * and the user's `sessionVersion`; each request re-reads the user, so disabling a user or changing their
 * role (both bump sessionVersion) ends their sessions at once.
 */
export const authOptions: NextAuthOptions = {
  session: { strategy: 'jwt', maxAge: 12 * 60 * 60 },
  pages: { signIn: '/login' },
  providers: [
    CredentialsProvider({
      name: 'Email and password',
      credentials: {
        email: { label: 'Email', type: 'email' },
        password: { label: 'Password', type: 'password' },
      },
      async authorize(credentials) {
        const email = credentials?.email?.trim().toLowerCase();
        const password = credentials?.password;
        if (!email || !password) return null;
        const user = await getDb().user.findUnique({ where: { email } });
        if (!user || user.disabled || !(await verifyPassword(password, user.passwordHash ?? ''))) {
          logger.warn({ event: 'auth.failed', email }, 'failed sign-in');
          return null;
        }
        await getDb().user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
        return {
          id: user.id,
          email: user.email,
          name: user.name,
          role: user.role,
          sessionVersion: user.sessionVersion,
        };
      },
    }),
  ],
  callbacks: {
    jwt({ token, user }) {
      if (user) {
        const u = user as typeof user & { role: string; sessionVersion: number };
        token.uid = u.id;
        token.role = u.role;
        token.sv = u.sessionVersion;
      }
      return token;
    },
    async session({ session, token }) {
      const user = token.uid ? await getDb().user.findUnique({ where: { id: String(token.uid) } }) : null;
      if (!user || user.disabled || user.sessionVersion !== token.sv) {
        return { ...session, user: undefined, expires: new Date(0).toISOString() };
      }
      return { ...session, user: { id: user.id, email: user.email, name: user.name, role: user.role } };
    },
  },
};
