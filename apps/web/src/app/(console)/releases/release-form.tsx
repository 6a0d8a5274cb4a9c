'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { Field, FormError } from '@/components/ui';
import { useSubmit } from '@/components/use-submit';
import { api } from '@/lib/trpc-client';
import { formatBytes, MEDIA_TYPE_LABELS, shortDigest } from '../images/format';

interface ImageOption {
  id: string;
  name: string;
}
interface LayerOption {
  id: string;
  imageId: string | null;
  digest: string;
  size: number;
  mediaType: string;
}

/**
 * A draft release: pick the image, then its layers in order. Position 1 is the base; each later layer
 * is an overlay applied after it (initramfs overlays are cpio archives the kernel unpacks in order).
 */
export function ReleaseForm({
  images,
  layers,
  initialImageId,
}: {
  images: ImageOption[];
  layers: LayerOption[];
  initialImageId?: string | undefined;
}) {
  const router = useRouter();
  const [imageId, setImageId] = useState(initialImageId ?? images[0]?.id ?? '');
  const [version, setVersion] = useState('');
  const [kernelCmdline, setKernelCmdline] = useState('');
  const [notes, setNotes] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [adding, setAdding] = useState('');
  const byId = new Map(layers.map((l) => [l.id, l]));
  const available = layers.filter((l) => !chosen.includes(l.id) && (l.imageId === imageId || !l.imageId));
  const form = useSubmit(
    () => api.release.create.mutate({ imageId, version, kernelCmdline, notes, layerIds: chosen }),
    {
      fields: ['imageId', 'version', 'kernelCmdline', 'notes', 'layerIds'],
      onDone: (r) => router.push(`/releases/${r.id}`),
    },
  );
  const move = (i: number, by: number) => {
    const next = [...chosen];
    const [item] = next.splice(i, 1);
    next.splice(i + by, 0, item!);
    setChosen(next);
  };
  return (
    <form
      className="panel form"
      aria-label="New release"
      onSubmit={(e) => {
        e.preventDefault();
        void form.submit();
      }}
    >
      <h2 className="form-title">New release</h2>
      <FormError message={form.formError} />
      <div className="form-grid">
        <Field label="Image" htmlFor="release-image" error={form.fieldError('imageId')}>
          <select
            id="release-image"
            value={imageId}
            onChange={(e) => {
              setImageId(e.target.value);
              setChosen([]);
            }}
          >
            {images.map((i) => (
              <option key={i.id} value={i.id}>
                {i.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Version" htmlFor="release-version" error={form.fieldError('version')}>
          <input id="release-version" value={version} onChange={(e) => setVersion(e.target.value)} required />
        </Field>
        <Field label="Kernel command line" htmlFor="release-cmdline" error={form.fieldError('kernelCmdline')}>
          <input
            id="release-cmdline"
            value={kernelCmdline}
            onChange={(e) => setKernelCmdline(e.target.value)}
          />
        </Field>
        <Field label="Notes" htmlFor="release-notes" error={form.fieldError('notes')}>
          <input id="release-notes" value={notes} onChange={(e) => setNotes(e.target.value)} />
        </Field>
      </div>
      <Field
        label="Layers, in order"
        htmlFor="release-add-layer"
        error={form.fieldError('layerIds')}
        hint="The first is the base; the others are overlays unpacked after it, in this order"
      >
        <div className="form-inline">
          <select id="release-add-layer" value={adding} onChange={(e) => setAdding(e.target.value)}>
            <option value="">Choose an indexed layer…</option>
            {available.map((l) => (
              <option key={l.id} value={l.id}>
                {MEDIA_TYPE_LABELS[l.mediaType] ?? l.mediaType} · {formatBytes(l.size)} ·{' '}
                {shortDigest(l.digest)}
              </option>
            ))}
          </select>
          <button
            type="button"
            className="btn btn-sm"
            disabled={!adding}
            onClick={() => {
              setChosen([...chosen, adding]);
              setAdding('');
            }}
          >
            Add
          </button>
        </div>
      </Field>
      {chosen.length > 0 ? (
        <table className="table table-compact" data-testid="release-layers">
          <tbody>
            {chosen.map((id, i) => {
              const l = byId.get(id)!;
              return (
                <tr key={id}>
                  <td className="num">{i + 1}</td>
                  <td>{i === 0 ? 'base' : 'overlay'}</td>
                  <td>{MEDIA_TYPE_LABELS[l.mediaType] ?? l.mediaType}</td>
                  <td className="mono" title={l.digest}>
                    {shortDigest(l.digest)}
                  </td>
                  <td className="num">{formatBytes(l.size)}</td>
                  <td className="actions">
                    <button
                      type="button"
                      className="btn btn-sm"
                      disabled={i === 0}
                      onClick={() => move(i, -1)}
                    >
                      ↑
                    </button>
                    <button
                      type="button"
                      className="btn btn-sm"
                      disabled={i === chosen.length - 1}
                      onClick={() => move(i, 1)}
                    >
                      ↓
                    </button>
                    <button
                      type="button"
                      className="btn btn-sm btn-danger-outline"
                      onClick={() => setChosen(chosen.filter((c) => c !== id))}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
      <div className="form-actions">
        <button className="btn btn-primary" type="submit" disabled={form.pending || chosen.length === 0}>
          {form.pending ? 'Creating…' : 'Create draft'}
        </button>
      </div>
    </form>
  );
}
