import { createOpenApiFetchHandler } from 'trpc-to-openapi';
import { logger } from '../logger';
import { createContextFromHeaders } from './context';
import type { ApiError } from './errors';
import { REST_BASE_PATH } from './openapi';
import { appRouter } from './root';

interface HandlerErrorBody {
  code?: unknown;
  message?: unknown;
  data?: { code?: unknown; field?: unknown; message?: unknown };
}

/** Rewrites the adapter's error body (tRPC error shape plus zod issues) to the API's one shape. */
function toApiError(body: HandlerErrorBody): ApiError {
  const data = body.data ?? {};
  return {
    code:
      typeof data.code === 'string'
        ? data.code
        : typeof body.code === 'string'
          ? body.code
          : 'INTERNAL_SERVER_ERROR',
    message:
      typeof data.message === 'string'
        ? data.message
        : typeof body.message === 'string'
          ? body.message
          : 'Error',
    field: typeof data.field === 'string' ? data.field : null,
  };
}

/** Serves /api/v1/* from the tRPC procedures that carry REST metadata. */
export async function handleRest(req: Request): Promise<Response> {
  const res = await createOpenApiFetchHandler({
    endpoint: REST_BASE_PATH,
    router: appRouter,
    req,
    createContext: () => createContextFromHeaders(req.headers),
    onError: ({ error, path }) => {
      if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error, path }, 'REST procedure failed');
    },
  });
  if (res.status < 400) return res;
  let body: HandlerErrorBody = {};
  try {
    body = (await res.json()) as HandlerErrorBody;
  } catch {
    /* empty or non-JSON body: fall back to the status */
  }
  const headers = new Headers(res.headers);
  headers.set('content-type', 'application/json');
  headers.delete('content-length');
  return new Response(JSON.stringify(toApiError(body)), { status: res.status, headers });
}
