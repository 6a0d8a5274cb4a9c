'use client';

import { ConfirmButton } from '@/components/confirm-button';
import { api } from '@/lib/trpc-client';

export function DeleteSite({ id, name }: { id: string; name: string }) {
  return (
    <ConfirmButton
      small
      label="Delete"
      title={`Delete site ${name}?`}
      body="The site must have no subnets, hosts or agents. This cannot be undone."
      action={() => api.site.delete.mutate({ id })}
    />
  );
}
