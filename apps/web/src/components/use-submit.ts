'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { toClientError, type ClientError } from '@/lib/trpc-client';

/**
 * Runs a mutation for a form: tracks pending state and maps the API's error (code, message, field) to
 * an inline message under the field at fault, or a form-level alert when the form has no such field.
 */
export function useSubmit<T>(
  action: () => Promise<T>,
  opts: { fields: readonly string[]; onDone?: (result: T) => void },
) {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ClientError | null>(null);

  async function submit() {
    setPending(true);
    setError(null);
    try {
      const result = await action();
      opts.onDone?.(result);
      router.refresh();
    } catch (err) {
      setError(toClientError(err));
    } finally {
      setPending(false);
    }
  }

  const errorField = error?.field ?? null;
  const owner = errorField
    ? opts.fields.find((f) => errorField === f || errorField.startsWith(`${f}.`))
    : undefined;
  return {
    pending,
    submit,
    /** The inline message for `field`, without the `field: ` prefix the API puts in messages. */
    fieldError: (field: string) => (error && owner === field ? stripField(error) : undefined),
    formError: error && !owner ? error.message : undefined,
  };
}

function stripField(e: ClientError): string {
  const prefix = `${e.field}: `;
  return e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
}
