import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { createContextFromHeaders } from '@/server/api/context';
import { appRouter } from '@/server/api/root';
import { logger } from '@/server/logger';

export const dynamic = 'force-dynamic';

function handler(req: Request): Promise<Response> {
  return fetchRequestHandler({
    endpoint: '/api/trpc',
    req,
    router: appRouter,
    createContext: () => createContextFromHeaders(req.headers),
    onError: ({ error, path }) => {
      if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error, path }, 'tRPC procedure failed');
    },
  });
}

export { handler as GET, handler as POST };
