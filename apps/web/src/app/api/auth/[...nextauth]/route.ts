import NextAuth from 'next-auth';
import { authOptions } from '@/server/auth';

export const dynamic = 'force-dynamic';

/** Options are built per request: they read the validated environment, which `next build` lacks. */
function handler(req: Request, ctx: unknown): Promise<Response> {
  const nextAuth = NextAuth(authOptions()) as (req: Request, ctx: unknown) => Promise<Response>;
  return nextAuth(req, ctx);
}

export { handler as GET, handler as POST };
