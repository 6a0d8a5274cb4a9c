'use client';

import { ConfirmButton } from '@/components/confirm-button';
import { api } from '@/lib/trpc-client';

export function DeleteSubnet({ id, name }: { id: string; name: string }) {
  return (
    <ConfirmButton
      small
      label="Delete"
      title={`Delete subnet ${name}?`}
      body="The subnet must have no hosts. Its agent stops serving it at the next sync."
      action={() => api.subnet.delete.mutate({ id })}
    />
  );
}
