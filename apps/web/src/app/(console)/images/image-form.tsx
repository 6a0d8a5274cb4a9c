'use client';

import { useState } from 'react';
import { Field, FormError } from '@/components/ui';
import { useSubmit } from '@/components/use-submit';
import { api } from '@/lib/trpc-client';

export function ImageForm() {
  const [v, setV] = useState({ name: '', description: '' });
  const form = useSubmit(() => api.image.create.mutate(v), {
    fields: ['name', 'description'],
    onDone: () => setV({ name: '', description: '' }),
  });
  return (
    <form
      className="panel form"
      aria-label="New image"
      onSubmit={(e) => {
        e.preventDefault();
        void form.submit();
      }}
    >
      <h2 className="form-title">New image</h2>
      <FormError message={form.formError} />
      <div className="form-grid">
        <Field
          label="Name"
          htmlFor="image-name"
          error={form.fieldError('name')}
          hint="Becomes the release name in signed manifests: letters, digits, . _ -"
        >
          <input
            id="image-name"
            name="name"
            value={v.name}
            onChange={(e) => setV({ ...v, name: e.target.value })}
            required
            maxLength={128}
          />
        </Field>
        <Field label="Description" htmlFor="image-description" error={form.fieldError('description')}>
          <input
            id="image-description"
            name="description"
            value={v.description}
            onChange={(e) => setV({ ...v, description: e.target.value })}
          />
        </Field>
      </div>
      <div className="form-actions">
        <button className="btn btn-primary" type="submit" disabled={form.pending}>
          {form.pending ? 'Creating…' : 'Create image'}
        </button>
      </div>
    </form>
  );
}
