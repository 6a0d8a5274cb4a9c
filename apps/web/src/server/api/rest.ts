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

/** The first of `values` that is a string, else `fallback`. */
function firstString<T extends string | null>(values: unknown[], fallback: T): string | T {
  return values.find((v): v is string => typeof v === 'string') ?? fallback;
}

/** Rewrites the adapter's error body (tRPC error shape plus zod issues) to the API's one shape. */
function toApiError(body: HandlerErrorBody): ApiError {
  const data = body.data ?? {};
  return {
    code: firstString([data.code, body.code], 'INTERNAL_SERVER_ERROR'),
    message: firstString([data.message, body.message], 'Error'),
    field: firstString([data.field], null),
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
