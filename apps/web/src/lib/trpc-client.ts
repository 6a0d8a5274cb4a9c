'use client';

import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '@/server/api/root';

/** The browser's tRPC client (session cookie auth). Pages read on the server; the browser mutates. */
export const api = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: '/api/trpc' })],
});

export interface ClientError {
  code: string;
  message: string;
  field: string | null;
}

export function toClientError(err: unknown): ClientError {
  if (err instanceof TRPCClientError) {
    const data = (err.data ?? {}) as { code?: string; field?: string | null; message?: string };
    return { code: data.code ?? 'ERROR', message: data.message ?? err.message, field: data.field ?? null };
  }
  return { code: 'ERROR', message: err instanceof Error ? err.message : 'Something went wrong', field: null };
}
