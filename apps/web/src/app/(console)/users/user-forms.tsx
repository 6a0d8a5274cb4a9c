'use client';

import { useState } from 'react';
import { ConfirmButton } from '@/components/confirm-button';
import { Field, FormError } from '@/components/ui';
import { useSubmit } from '@/components/use-submit';
import { api, toClientError } from '@/lib/trpc-client';
import { useRouter } from 'next/navigation';

const ROLES = ['VIEWER', 'OPERATOR', 'ADMIN'] as const;
type Role = (typeof ROLES)[number];

export function NewUserForm() {
  const [v, setV] = useState({ email: '', name: '', role: 'VIEWER' as Role, password: '' });
  const form = useSubmit(() => api.user.create.mutate(v), {
    fields: ['email', 'name', 'role', 'password'],
    onDone: () => setV({ email: '', name: '', role: 'VIEWER', password: '' }),
  });
  return (
    <form
      className="panel form"
      aria-label="New user"
      onSubmit={(e) => {
        e.preventDefault();
        void form.submit();
      }}
    >
      <h2 className="form-title">New user</h2>
      <FormError message={form.formError} />
      <div className="form-grid">
        <Field label="Email" htmlFor="user-email" error={form.fieldError('email')}>
          <input
            id="user-email"
            type="email"
            value={v.email}
            onChange={(e) => setV({ ...v, email: e.target.value })}
            required
          />
        </Field>
        <Field label="Name" htmlFor="user-name" error={form.fieldError('name')}>
          <input
            id="user-name"
            value={v.name}
            onChange={(e) => setV({ ...v, name: e.target.value })}
            required
          />
        </Field>
        <Field label="Role" htmlFor="user-role" error={form.fieldError('role')}>
          <select
            id="user-role"
            value={v.role}
            onChange={(e) => setV({ ...v, role: e.target.value as Role })}
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r.toLowerCase()}
              </option>
            ))}
          </select>
        </Field>
        <Field
          label="Initial password"
          htmlFor="user-password"
          error={form.fieldError('password')}
          hint="At least 12 characters"
        >
          <input
            id="user-password"
            type="password"
            autoComplete="new-password"
            value={v.password}
            onChange={(e) => setV({ ...v, password: e.target.value })}
            required
          />
        </Field>
      </div>
      <div className="form-actions">
        <button className="btn btn-primary" type="submit" disabled={form.pending}>
          {form.pending ? 'Creating…' : 'Create user'}
        </button>
      </div>
    </form>
  );
}

/** Role select and enable/disable for one user row; both end the user's sessions. */
export function UserControls({
  id,
  email,
  role,
  disabled,
  self,
}: {
  id: string;
  email: string;
  role: Role;
  disabled: boolean;
  self: boolean;
}) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  async function changeRole(next: Role) {
    setError(null);
    try {
      await api.user.update.mutate({ id, role: next });
      router.refresh();
    } catch (err) {
      setError(toClientError(err).message);
    }
  }
  if (self) return <span className="muted small">you</span>;
  return (
    <>
      <select
        aria-label={`Role of ${email}`}
        value={role}
        onChange={(e) => void changeRole(e.target.value as Role)}
        className="select-sm"
      >
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {r.toLowerCase()}
          </option>
        ))}
      </select>
      {disabled ? (
        <button
          type="button"
          className="btn btn-sm"
          onClick={() => void api.user.update.mutate({ id, disabled: false }).then(() => router.refresh())}
        >
          Enable
        </button>
      ) : (
        <ConfirmButton
          small
          label="Disable"
          confirmLabel="Disable"
          title={`Disable ${email}?`}
          body="Their sessions end at once and their API tokens stop working."
          action={() => api.user.update.mutate({ id, disabled: true })}
        />
      )}
      {error ? <div className="field-error">{error}</div> : null}
    </>
  );
}
