'use client';

import { ConfirmButton } from '@/components/confirm-button';
import { api } from '@/lib/trpc-client';

/** Create the first key, or rotate: a new active key, the old one retired and co-signing kept. */
export function KeyToolbar({ hasActive }: { hasActive: boolean }) {
  return hasActive ? (
    <ConfirmButton
      label="Rotate key"
      confirmLabel="Rotate"
      title="Rotate the signing key?"
      body="A new key becomes active and co-signs every published manifest; the current key is retired (it still verifies what it signed). Agents pick up the new trust set from the trusted-keys endpoint."
      action={() => api.signingKey.rotate.mutate({})}
    />
  ) : (
    <ConfirmButton
      label="Create signing key"
      confirmLabel="Create"
      title="Create a signing key?"
      body="A new Ed25519 key pair; the private key is encrypted at rest and never leaves the server."
      action={() => api.signingKey.create.mutate({})}
    />
  );
}

export function KeyRowActions({ id, keyId, state }: { id: string; keyId: string; state: string }) {
  return (
    <>
      {state === 'ACTIVE' ? (
        <ConfirmButton
          small
          label="Retire"
          confirmLabel="Retire"
          title={`Retire key ${keyId}?`}
          body="It stops signing (publishing needs a new key) but still verifies manifests created before now."
          action={() => api.signingKey.retire.mutate({ id })}
        />
      ) : null}
      {state !== 'REVOKED' ? (
        <ConfirmButton
          small
          label="Revoke"
          confirmLabel="Revoke"
          title={`Revoke key ${keyId}?`}
          body="For a compromised key: manifests signed only by it stop verifying on every agent and client that refreshes its trust set. This cannot be undone."
          action={() => api.signingKey.revoke.mutate({ id })}
        />
      ) : null}
    </>
  );
}
