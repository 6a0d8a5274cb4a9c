import Link from 'next/link';
import { Badge, PageHeader, Time } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { orNotFound, requireUser, serverApi } from '@/server/session';
import { formatBytes, MEDIA_TYPE_LABELS, percent, shortDigest } from '../../images/format';
import { UpdateCost } from '../update-cost';
import { ReleaseActions } from './release-actions';

export const metadata = { title: 'Release' };

export default async function ReleasePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const [user, api] = [await requireUser(), await serverApi()];
  const r = await orNotFound(api.release.get({ id }));
  const hex = r.manifestDigest?.replace(/^sha256:/, '');
  return (
    <>
      <PageHeader
        title={`${r.imageName} ${r.version}`}
        subtitle={
          <>
            <Badge value={r.status} /> {r.notes}
          </>
        }
        actions={
          can(user.role, 'release.manage') ? (
            <ReleaseActions id={r.id} status={r.status} version={r.version} />
          ) : null
        }
      />
      <div className="detail-grid">
        <section className="panel">
          <h2 className="form-title">Manifest</h2>
          <dl className="small">
            <dt>Digest</dt>
            <dd className="mono wrap" data-testid="manifest-digest">
              {r.manifestDigest ?? 'not published yet'}
            </dd>
            <dt>Kernel command line</dt>
            <dd className="mono wrap">{r.kernelCmdline || '—'}</dd>
            <dt>Published</dt>
            <dd>
              <Time iso={r.publishedAt} />
            </dd>
            <dt>Signatures</dt>
            <dd>
              {r.signatures.length === 0
                ? '—'
                : r.signatures.map((s) => (
                    <div key={s.keyId}>
                      <span className="mono">{s.keyId}</span> <Badge value={s.keyState} />
                    </div>
                  ))}
            </dd>
            {hex ? (
              <>
                <dt>Signed envelope</dt>
                <dd>
                  <a href={`/api/agent/v1/manifests/${hex}`}>download</a>
                </dd>
              </>
            ) : null}
          </dl>
        </section>
        <section className="panel">
          <h2 className="form-title">Update from the previous release</h2>
          <p>
            <UpdateCost update={r.update} error={r.updateError} />
          </p>
          {r.update ? (
            <dl className="small">
              <dt>Chunks to fetch</dt>
              <dd>
                {r.update.fetchChunks} ({formatBytes(r.update.fetchBytes)})
              </dd>
              <dt>Reused from {r.update.fromVersion}</dt>
              <dd>{formatBytes(r.update.reusedBytes)}</dd>
              <dt>Full download</dt>
              <dd>
                {formatBytes(r.update.totalBytes)} · the update moves{' '}
                {percent(r.update.fetchBytes, r.update.totalBytes)} of it
              </dd>
            </dl>
          ) : (
            <p className="muted small">
              No earlier published release of this image (or its layers are not indexed yet).
            </p>
          )}
        </section>
      </div>
      <h2 className="subhead">Layers ({formatBytes(r.totalSize)})</h2>
      <div className="table-wrap">
        <table className="table" data-testid="release-layers-table">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>Role</th>
              <th>Media type</th>
              <th>Digest</th>
              <th className="num">Size</th>
              <th className="num">Chunks</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {r.layers.map((l) => (
              <tr key={l.position}>
                <td className="num">{l.position + 1}</td>
                <td>{l.position === 0 ? 'base' : 'overlay'}</td>
                <td>{MEDIA_TYPE_LABELS[l.mediaType] ?? l.mediaType}</td>
                <td className="mono" title={l.digest}>
                  {l.imageId ? (
                    <Link href={`/images/${l.imageId}`}>{shortDigest(l.digest)}</Link>
                  ) : (
                    shortDigest(l.digest)
                  )}
                </td>
                <td className="num">{formatBytes(l.size)}</td>
                <td className="num">{l.chunkCount ?? '—'}</td>
                <td>
                  <Badge value={l.status} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
