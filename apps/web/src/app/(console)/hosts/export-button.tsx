'use client';

import { useState } from 'react';
import { api, toClientError } from '@/lib/trpc-client';

type Filter = Parameters<typeof api.host.export.query>[0];

/** Downloads the hosts matching the current filters as a CSV file in the import format. */
export function ExportButton({ filter }: { filter: Filter }) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function download() {
    setPending(true);
    setError(null);
    try {
      const { csv } = await api.host.export.query(filter);
      const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `hosts-${new Date().toISOString().slice(0, 10)}.csv`;
      a.click();
      URL.revokeObjectURL(url);
    } catch (err) {
      setError(toClientError(err).message);
    } finally {
      setPending(false);
    }
  }
  return (
    <>
      <button type="button" className="btn" onClick={() => void download()} disabled={pending}>
        {pending ? 'Exporting…' : 'Export CSV'}
      </button>
      {error ? <span className="field-error">{error}</span> : null}
    </>
  );
}
