'use client';

import { ConfirmButton } from '@/components/confirm-button';
import { api } from '@/lib/trpc-client';

export function DeleteProfile({ id, name }: { id: string; name: string }) {
  return (
    <ConfirmButton
      small
      label="Delete"
      title={`Delete boot profile ${name}?`}
      body="Only a profile no host uses can be deleted."
      action={() => api.bootProfile.delete.mutate({ id })}
    />
  );
}
