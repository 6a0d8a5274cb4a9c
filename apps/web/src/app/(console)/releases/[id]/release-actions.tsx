'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { ConfirmButton } from '@/components/confirm-button';
import { FormError } from '@/components/ui';
import { api, toClientError } from '@/lib/trpc-client';

const ARCHITECTURES = [
  'x86_64',
  'aarch64',
  'i686',
  'armv7',
  'riscv64',
  'ppc64le',
  's390x',
  'loongarch64',
] as const;

/** Publish (sign) or delete a draft; retire a published release. */
export function ReleaseActions({ id, status, version }: { id: string; status: string; version: string }) {
  const router = useRouter();
  const [architecture, setArchitecture] = useState<(typeof ARCHITECTURES)[number]>('x86_64');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function publish() {
    setPending(true);
    setError(null);
    try {
      await api.release.publish.mutate({ id, architecture });
      router.refresh();
    } catch (err) {
      setError(toClientError(err).message);
    } finally {
      setPending(false);
    }
  }

  if (status === 'DRAFT') {
    return (
      <div className="panel form">
        <FormError message={error ?? undefined} />
        <div className="form-inline">
          <label htmlFor="release-arch">Architecture</label>
          <select
            id="release-arch"
            value={architecture}
            onChange={(e) => setArchitecture(e.target.value as (typeof ARCHITECTURES)[number])}
          >
            {ARCHITECTURES.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
          <button type="button" className="btn btn-primary" disabled={pending} onClick={() => void publish()}>
            {pending ? 'Signing…' : 'Publish and sign'}
          </button>
          <ConfirmButton
            label="Delete draft"
            title={`Delete draft ${version}?`}
            body="The draft and its layer list are removed; the layers stay."
            action={() => api.release.delete.mutate({ id })}
            redirectTo="/releases"
          />
        </div>
      </div>
    );
  }
  if (status === 'PUBLISHED') {
    return (
      <ConfirmButton
        label="Retire"
        confirmLabel="Retire"
        title={`Retire release ${version}?`}
        body="Hosts are no longer pointed at it; its signed manifest stays valid for hosts that still hold it."
        action={() => api.release.retire.mutate({ id })}
      />
    );
  }
  return null;
}
