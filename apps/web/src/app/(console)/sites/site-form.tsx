'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { Field, FormError } from '@/components/ui';
import { useSubmit } from '@/components/use-submit';
import { api } from '@/lib/trpc-client';

interface SiteValues {
  id?: string;
  name: string;
  description: string;
  timezone: string;
}

export function SiteForm({ initial }: { initial?: SiteValues }) {
  const router = useRouter();
  const [v, setV] = useState<SiteValues>(initial ?? { name: '', description: '', timezone: 'UTC' });
  const form = useSubmit(
    () => (v.id ? api.site.update.mutate({ ...v, id: v.id }) : api.site.create.mutate(v)),
    {
      fields: ['name', 'description', 'timezone'],
      onDone: () => {
        if (v.id) router.push('/sites');
        else setV({ name: '', description: '', timezone: 'UTC' });
      },
    },
  );
  const set = (k: keyof SiteValues) => (e: { target: { value: string } }) =>
    setV({ ...v, [k]: e.target.value });
  return (
    <form
      className="panel form"
      aria-label={v.id ? 'Edit site' : 'New site'}
      onSubmit={(e) => {
        e.preventDefault();
        void form.submit();
      }}
    >
      <h2 className="form-title">{v.id ? 'Edit site' : 'New site'}</h2>
      <FormError message={form.formError} />
      <div className="form-grid">
        <Field label="Name" htmlFor="site-name" error={form.fieldError('name')}>
          <input id="site-name" name="name" value={v.name} onChange={set('name')} required maxLength={200} />
        </Field>
        <Field
          label="Time zone"
          htmlFor="site-timezone"
          error={form.fieldError('timezone')}
          hint="IANA name, e.g. Europe/Berlin"
        >
          <input id="site-timezone" name="timezone" value={v.timezone} onChange={set('timezone')} />
        </Field>
        <Field label="Description" htmlFor="site-description" error={form.fieldError('description')}>
          <input
            id="site-description"
            name="description"
            value={v.description}
            onChange={set('description')}
          />
        </Field>
      </div>
      <div className="form-actions">
        <button className="btn btn-primary" type="submit" disabled={form.pending}>
          {form.pending ? 'Saving…' : v.id ? 'Save site' : 'Create site'}
        </button>
      </div>
    </form>
  );
}
