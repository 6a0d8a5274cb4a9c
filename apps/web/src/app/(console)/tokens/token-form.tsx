'use client';

import { useState } from 'react';
import { ConfirmButton } from '@/components/confirm-button';
import { Field, FormError } from '@/components/ui';
import { useSubmit } from '@/components/use-submit';
import { api } from '@/lib/trpc-client';

const ROLES = ['VIEWER', 'OPERATOR', 'ADMIN'] as const;

export function TokenForm({ maxRole }: { maxRole: (typeof ROLES)[number] }) {
  const allowed = ROLES.slice(0, ROLES.indexOf(maxRole) + 1);
  const [name, setName] = useState('');
  const [role, setRole] = useState<(typeof ROLES)[number]>('VIEWER');
  const [days, setDays] = useState('90');
  const [created, setCreated] = useState<{ token: string; name: string } | null>(null);
  const form = useSubmit(
    () => api.token.create.mutate({ name, role, expiresInDays: days ? Number(days) : null }),
    {
      fields: ['name', 'role', 'expiresInDays'],
      onDone: (r) => {
        setCreated({ token: r.token, name });
        setName('');
      },
    },
  );
  return (
    <form
      className="panel form"
      aria-label="New API token"
      onSubmit={(e) => {
        e.preventDefault();
        void form.submit();
      }}
    >
      <h2 className="form-title">New API token</h2>
      {created ? (
        <div className="alert alert-ok" role="status" data-testid="new-token">
          <div>
            Token <strong>{created.name}</strong> created. Copy it now: it is shown only once.
          </div>
          <code className="token-value">{created.token}</code>
        </div>
      ) : null}
      <FormError message={form.formError} />
      <div className="form-grid">
        <Field
          label="Name"
          htmlFor="token-name"
          error={form.fieldError('name')}
          hint="What uses it, e.g. ci-inventory-sync"
        >
          <input id="token-name" value={name} onChange={(e) => setName(e.target.value)} required />
        </Field>
        <Field label="Role" htmlFor="token-role" error={form.fieldError('role')} hint="At most your own role">
          <select
            id="token-role"
            value={role}
            onChange={(e) => setRole(e.target.value as (typeof ROLES)[number])}
          >
            {allowed.map((r) => (
              <option key={r} value={r}>
                {r.toLowerCase()}
              </option>
            ))}
          </select>
        </Field>
        <Field
          label="Expires after (days)"
          htmlFor="token-days"
          error={form.fieldError('expiresInDays')}
          hint="Empty: never expires"
        >
          <input
            id="token-days"
            type="number"
            min={1}
            max={3650}
            value={days}
            onChange={(e) => setDays(e.target.value)}
          />
        </Field>
      </div>
      <div className="form-actions">
        <button className="btn btn-primary" type="submit" disabled={form.pending}>
          {form.pending ? 'Creating…' : 'Create token'}
        </button>
      </div>
    </form>
  );
}

export function RevokeToken({ id, name }: { id: string; name: string }) {
  return (
    <ConfirmButton
      small
      label="Revoke"
      confirmLabel="Revoke"
      title={`Revoke token ${name}?`}
      body="Automation using it is refused from the next request on. This cannot be undone."
      action={() => api.token.revoke.mutate({ id })}
    />
  );
}
