'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { Field, FormError } from '@/components/ui';
import { useSubmit } from '@/components/use-submit';
import { api } from '@/lib/trpc-client';

const ARCHES = ['X86_BIOS', 'X86_UEFI', 'X86_64_UEFI', 'ARM32_UEFI', 'ARM64_UEFI', 'RISCV64_UEFI'] as const;
type Arch = (typeof ARCHES)[number];

export interface ProfileValues {
  id?: string;
  name: string;
  description: string;
  entries: { architecture: Arch; releaseId: string; bootFile: string; kernelCmdline: string }[];
}

export function ProfileForm({
  initial,
  releases,
}: {
  initial?: ProfileValues;
  releases: { id: string; label: string }[];
}) {
  const router = useRouter();
  const [v, setV] = useState<ProfileValues>(initial ?? { name: '', description: '', entries: [] });
  const payload = () => ({
    name: v.name,
    description: v.description,
    entries: v.entries.map((e) => ({
      architecture: e.architecture,
      releaseId: e.releaseId || null,
      bootFile: e.bootFile.trim() || null,
      kernelCmdline: e.kernelCmdline.trim() || null,
    })),
  });
  const form = useSubmit(
    () =>
      v.id
        ? api.bootProfile.update.mutate({ id: v.id, ...payload() })
        : api.bootProfile.create.mutate(payload()),
    {
      fields: ['name', 'description', 'entries'],
      onDone: () => {
        if (v.id) router.push('/boot-profiles');
        else setV({ name: '', description: '', entries: [] });
      },
    },
  );
  const unused = ARCHES.filter((a) => !v.entries.some((e) => e.architecture === a));
  const setEntry = (i: number, patch: Partial<ProfileValues['entries'][number]>) =>
    setV({ ...v, entries: v.entries.map((e, j) => (j === i ? { ...e, ...patch } : e)) });
  return (
    <form
      className="panel form"
      aria-label={v.id ? 'Edit boot profile' : 'New boot profile'}
      onSubmit={(e) => {
        e.preventDefault();
        void form.submit();
      }}
    >
      <h2 className="form-title">{v.id ? 'Edit boot profile' : 'New boot profile'}</h2>
      <FormError message={form.formError} />
      <div className="form-grid">
        <Field label="Name" htmlFor="profile-name" error={form.fieldError('name')}>
          <input
            id="profile-name"
            value={v.name}
            onChange={(e) => setV({ ...v, name: e.target.value })}
            required
          />
        </Field>
        <Field label="Description" htmlFor="profile-description" error={form.fieldError('description')}>
          <input
            id="profile-description"
            value={v.description}
            onChange={(e) => setV({ ...v, description: e.target.value })}
          />
        </Field>
      </div>
      <h3 className="subhead">What each architecture boots</h3>
      {v.entries.length === 0 ? (
        <p className="muted">No entries: hosts with this profile get no boot file until one is added.</p>
      ) : null}
      {v.entries.map((e, i) => (
        <div className="entry-row" key={e.architecture}>
          <strong className="entry-arch">{e.architecture.toLowerCase().replace(/_/g, '-')}</strong>
          <select
            aria-label={`Release for ${e.architecture}`}
            value={e.releaseId}
            onChange={(ev) => setEntry(i, { releaseId: ev.target.value })}
          >
            <option value="">No release (legacy boot file only)</option>
            {releases.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
          <input
            aria-label={`Boot file for ${e.architecture}`}
            placeholder="Boot file, e.g. ipxe.efi"
            value={e.bootFile}
            onChange={(ev) => setEntry(i, { bootFile: ev.target.value })}
          />
          <input
            aria-label={`Kernel command line for ${e.architecture}`}
            placeholder="Extra kernel command line"
            value={e.kernelCmdline}
            onChange={(ev) => setEntry(i, { kernelCmdline: ev.target.value })}
          />
          <button
            type="button"
            className="btn btn-sm"
            onClick={() => setV({ ...v, entries: v.entries.filter((_, j) => j !== i) })}
          >
            Remove
          </button>
        </div>
      ))}
      {form.fieldError('entries') ? (
        <div className="field-error" role="alert">
          {form.fieldError('entries')}
        </div>
      ) : null}
      {unused.length ? (
        <div className="form-inline">
          <select
            aria-label="Add an architecture"
            value=""
            onChange={(ev) => {
              const arch = ARCHES.find((a) => a === ev.target.value);
              if (arch)
                setV({
                  ...v,
                  entries: [
                    ...v.entries,
                    { architecture: arch, releaseId: '', bootFile: '', kernelCmdline: '' },
                  ],
                });
            }}
          >
            <option value="">Add an architecture…</option>
            {unused.map((a) => (
              <option key={a} value={a}>
                {a.toLowerCase().replace(/_/g, '-')}
              </option>
            ))}
          </select>
        </div>
      ) : null}
      <div className="form-actions">
        <button className="btn btn-primary" type="submit" disabled={form.pending}>
          {form.pending ? 'Saving…' : v.id ? 'Save profile' : 'Create profile'}
        </button>
      </div>
    </form>
  );
}
