'use client';

import { useRouter } from 'next/navigation';
import { useRef, useState } from 'react';
import { Field, FormError } from '@/components/ui';
import { api, toClientError } from '@/lib/trpc-client';
import { formatBytes, MEDIA_TYPE_LABELS } from '../format';

/** Bytes per PATCH: big enough to keep the pipe full, small enough that a retry repeats little. */
const PIECE = 16 * 1024 * 1024;
const MAX_RETRIES = 8;

interface ActiveUpload {
  id: string;
  expectedSize: number;
  bytesReceived: number;
  mediaType: string;
}

type Phase = 'idle' | 'uploading' | 'verifying' | 'done' | 'error';

/** PATCHes one piece with XMLHttpRequest (fetch has no upload progress); resolves the new offset. */
function sendPiece(
  id: string,
  offset: number,
  piece: Blob,
  onProgress: (sent: number) => void,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PATCH', `/api/uploads/${id}`);
    xhr.setRequestHeader('Upload-Offset', String(offset));
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      const next = Number(xhr.getResponseHeader('Upload-Offset'));
      if (xhr.status === 204) resolve(next);
      else if (xhr.status === 409 && Number.isFinite(next)) resolve(next);
      else {
        let message = `HTTP ${xhr.status}`;
        try {
          message = (JSON.parse(xhr.responseText) as { message?: string }).message ?? message;
        } catch {
          /* not JSON */
        }
        reject(Object.assign(new Error(message), { status: xhr.status }));
      }
    };
    xhr.onerror = () => reject(new Error('network error'));
    xhr.send(piece);
  });
}

async function committedOffset(id: string): Promise<number> {
  const res = await fetch(`/api/uploads/${id}`, { method: 'HEAD' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return Number(res.headers.get('Upload-Offset'));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Uploads a layer in pieces with live progress. A failed piece is retried from the offset the server
 * committed (HEAD), so a dropped connection or a restarted server costs at most one piece; an upload
 * left unfinished (page closed) is listed below and resumes when the same file is chosen again.
 */
export function Uploader({ imageId, active }: { imageId: string; active: ActiveUpload[] }) {
  const router = useRouter();
  const fileInput = useRef<HTMLInputElement>(null);
  const [mediaType, setMediaType] = useState('application/vnd.bootpt.initramfs.cpio');
  const [phase, setPhase] = useState<Phase>('idle');
  const [sent, setSent] = useState(0);
  const [total, setTotal] = useState(0);
  const [rate, setRate] = useState(0);
  const [error, setError] = useState<string | null>(null);

  async function run(file: File, resume?: ActiveUpload) {
    setError(null);
    setTotal(file.size);
    try {
      const session =
        resume ??
        (await api.image.createUpload.mutate({ imageId, size: file.size, mediaType: mediaType as never }));
      setPhase('uploading');
      let offset = resume ? await committedOffset(session.id) : 0;
      const started = performance.now();
      const startOffset = offset;
      let retries = 0;
      while (offset < file.size) {
        const end = Math.min(offset + PIECE, file.size);
        const base = offset;
        try {
          offset = await sendPiece(session.id, offset, file.slice(offset, end), (n) => {
            setSent(base + n);
            const secs = (performance.now() - started) / 1000;
            if (secs > 0.5) setRate((base + n - startOffset) / secs);
          });
          retries = 0;
        } catch (err) {
          const status = (err as { status?: number }).status;
          if ((status !== undefined && status < 500 && status !== 400) || ++retries > MAX_RETRIES) throw err;
          await sleep(Math.min(30_000, 500 * 2 ** retries));
          offset = await committedOffset(session.id).catch(() => base);
        }
        setSent(offset);
      }
      setPhase('verifying');
      await api.image.completeUpload.mutate({ id: session.id });
      setPhase('done');
      if (fileInput.current) fileInput.current.value = '';
      router.refresh();
    } catch (err) {
      setPhase('error');
      setError(toClientError(err).message);
      router.refresh();
    }
  }

  function start(resume?: ActiveUpload) {
    const file = fileInput.current?.files?.[0];
    if (!file) {
      setError('Choose a file first');
      return;
    }
    if (resume && file.size !== resume.expectedSize) {
      setError(
        `That upload expects ${formatBytes(resume.expectedSize)}; the chosen file has ${formatBytes(file.size)}`,
      );
      return;
    }
    void run(file, resume);
  }

  const busy = phase === 'uploading' || phase === 'verifying';
  const pct = total > 0 ? Math.min(100, (sent / total) * 100) : 0;
  return (
    <section className="panel form" aria-label="Upload a layer">
      <h2 className="form-title">Upload a layer</h2>
      <FormError message={error ?? undefined} />
      <div className="form-grid">
        <Field
          label="File"
          htmlFor="layer-file"
          hint="Any size the server's disk holds; streamed in 16 MiB pieces"
        >
          <input id="layer-file" type="file" ref={fileInput} disabled={busy} />
        </Field>
        <Field label="Media type" htmlFor="layer-media-type">
          <select
            id="layer-media-type"
            value={mediaType}
            onChange={(e) => setMediaType(e.target.value)}
            disabled={busy}
          >
            {Object.entries(MEDIA_TYPE_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </Field>
      </div>
      {phase !== 'idle' ? (
        <div className="bars" data-testid="upload-progress">
          <div className="bar-row">
            <span className="bar-label">
              {phase === 'uploading'
                ? `${formatBytes(sent)} of ${formatBytes(total)}${rate > 0 ? ` · ${formatBytes(rate)}/s` : ''}`
                : phase === 'verifying'
                  ? 'verifying digest…'
                  : phase === 'done'
                    ? 'uploaded; indexing below'
                    : 'stopped'}
            </span>
            <div
              className="bar-track"
              role="progressbar"
              aria-valuenow={Math.round(pct)}
              aria-valuemin={0}
              aria-valuemax={100}
            >
              <div
                className={phase === 'error' ? 'seg-failed' : 'seg-booting'}
                style={{ width: `${pct}%` }}
              />
            </div>
          </div>
        </div>
      ) : null}
      <div className="form-actions">
        <button className="btn btn-primary" type="button" disabled={busy} onClick={() => start()}>
          {busy ? 'Uploading…' : 'Upload'}
        </button>
      </div>
      {active.length > 0 ? (
        <>
          <h3 className="subhead">Unfinished uploads</h3>
          <table className="table table-compact">
            <tbody>
              {active.map((u) => (
                <tr key={u.id}>
                  <td>{MEDIA_TYPE_LABELS[u.mediaType] ?? u.mediaType}</td>
                  <td className="num">
                    {formatBytes(u.bytesReceived)} of {formatBytes(u.expectedSize)}
                  </td>
                  <td className="actions">
                    <button className="btn btn-sm" type="button" disabled={busy} onClick={() => start(u)}>
                      Resume with chosen file
                    </button>
                    <button
                      className="btn btn-sm btn-danger-outline"
                      type="button"
                      disabled={busy}
                      onClick={() =>
                        void api.image.abortUpload
                          .mutate({ id: u.id })
                          .then(() => router.refresh())
                          .catch((err: unknown) => setError(toClientError(err).message))
                      }
                    >
                      Abort
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
