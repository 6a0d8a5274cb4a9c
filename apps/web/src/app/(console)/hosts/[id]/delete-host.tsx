'use client';

import { ConfirmButton } from '@/components/confirm-button';
import { api } from '@/lib/trpc-client';

export function DeleteHost({ id, hostname }: { id: string; hostname: string }) {
  return (
    <ConfirmButton
      label="Delete host"
      title={`Delete ${hostname}?`}
      body="Its reservation is released and its agent stops answering it at the next sync. This cannot be undone."
      action={() => api.host.delete.mutate({ id })}
      redirectTo="/hosts"
    />
  );
}
