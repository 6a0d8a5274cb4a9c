'use client';

import { useRef, useState, type ReactNode } from 'react';
import { useRouter } from 'next/navigation';
import { toClientError } from '@/lib/trpc-client';

/**
 * A destructive action behind a confirmation dialog. The action runs only after "confirm"; its error,
 * if any, is shown in the dialog.
 */
export function ConfirmButton({
  label,
  title,
  body,
  confirmLabel = 'Delete',
  action,
  redirectTo,
  small,
}: {
  label: string;
  title: string;
  body: ReactNode;
  confirmLabel?: string;
  action: () => Promise<unknown>;
  redirectTo?: string;
  small?: boolean;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function confirm() {
    setPending(true);
    setError(null);
    try {
      await action();
      dialog.current?.close();
      if (redirectTo) router.push(redirectTo);
      router.refresh();
    } catch (err) {
      setError(toClientError(err).message);
    } finally {
      setPending(false);
    }
  }

  return (
    <>
      <button
        type="button"
        className={`btn btn-danger-outline${small ? ' btn-sm' : ''}`}
        onClick={() => {
          setError(null);
          dialog.current?.showModal();
        }}
      >
        {label}
      </button>
      <dialog ref={dialog} className="dialog" aria-labelledby="confirm-title">
        <h2 id="confirm-title">{title}</h2>
        <div className="dialog-body">{body}</div>
        {error ? (
          <div className="alert alert-error" role="alert">
            {error}
          </div>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={() => dialog.current?.close()} disabled={pending}>
            Cancel
          </button>
          <button type="button" className="btn btn-danger" onClick={() => void confirm()} disabled={pending}>
            {pending ? 'Working…' : confirmLabel}
          </button>
        </div>
      </dialog>
    </>
  );
}
