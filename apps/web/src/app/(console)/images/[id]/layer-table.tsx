'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { Badge, Time } from '@/components/ui';
import { api, toClientError } from '@/lib/trpc-client';
import { formatBytes, MEDIA_TYPE_LABELS, shortDigest } from '../format';

export interface LayerRow {
  id: string;
  digest: string;
  size: number;
  mediaType: string;
  status: 'UPLOADING' | 'INDEXING' | 'READY' | 'FAILED';
  error: string | null;
  chunkCount: number | null;
  createdAt: string;
}

type Progress = Record<string, { status: LayerRow['status']; progress: number | null; error: string | null }>;

/** The image's layers; while any is indexing, polls the job's progress every second. */
export function LayerTable({ layers, canManage }: { layers: LayerRow[]; canManage: boolean }) {
  const router = useRouter();
  const [progress, setProgress] = useState<Progress>({});
  const pending = layers.filter((l) => l.status === 'INDEXING' || l.status === 'UPLOADING').map((l) => l.id);
  const key = pending.join(',');

  useEffect(() => {
    if (!key) return;
    const ids = key.split(',');
    let stopped = false;
    const tick = async () => {
      try {
        const rows = await api.image.layerProgress.query({ ids });
        if (stopped) return;
        setProgress(Object.fromEntries(rows.map((r) => [r.id, r])));
        if (rows.every((r) => r.status === 'READY' || r.status === 'FAILED')) {
          router.refresh();
          return;
        }
      } catch {
        /* keep polling */
      }
      if (!stopped) timer = setTimeout(() => void tick(), 1000);
    };
    let timer = setTimeout(() => void tick(), 300);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [key, router]);

  return (
    <div className="table-wrap">
      <table className="table" data-testid="layers-table">
        <thead>
          <tr>
            <th>Digest</th>
            <th>Media type</th>
            <th className="num">Size</th>
            <th className="num">Chunks</th>
            <th>Status</th>
            <th>Uploaded</th>
          </tr>
        </thead>
        <tbody>
          {layers.map((l) => {
            const live = progress[l.id];
            const status = live?.status ?? l.status;
            const error = live?.error ?? l.error;
            return (
              <tr key={l.id}>
                <td className="mono" title={l.digest}>
                  {shortDigest(l.digest)}
                </td>
                <td>{MEDIA_TYPE_LABELS[l.mediaType] ?? l.mediaType}</td>
                <td className="num">{formatBytes(l.size)}</td>
                <td className="num">{l.chunkCount ?? '—'}</td>
                <td>
                  <Badge value={status} />
                  {status === 'INDEXING' && live?.progress != null ? (
                    <span className="muted small"> {live.progress} %</span>
                  ) : null}
                  {status === 'FAILED' ? (
                    <div className="small text-danger">
                      {error}{' '}
                      {canManage ? (
                        <button
                          type="button"
                          className="btn btn-sm"
                          onClick={() =>
                            void api.image.reindexLayer
                              .mutate({ id: l.id })
                              .then(() => router.refresh())
                              .catch((err: unknown) => alert(toClientError(err).message))
                          }
                        >
                          Retry
                        </button>
                      ) : null}
                    </div>
                  ) : null}
                </td>
                <td>
                  <Time iso={l.createdAt} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
