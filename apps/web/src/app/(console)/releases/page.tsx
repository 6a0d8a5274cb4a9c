import Link from 'next/link';
import { Badge, EmptyState, PageHeader, Time } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { requireUser, serverApi } from '@/server/session';
import { formatBytes, shortDigest } from '../images/format';
import { ReleaseForm } from './release-form';
import { UpdateCost } from './update-cost';

export const metadata = { title: 'Releases' };

export default async function ReleasesPage({
  searchParams,
}: {
  searchParams: Promise<{ imageId?: string }>;
}) {
  const { imageId } = await searchParams;
  const [user, api] = [await requireUser(), await serverApi()];
  const filter = imageId && /^[0-9a-f-]{36}$/i.test(imageId) ? imageId : undefined;
  const releases = await api.release.list({ imageId: filter });
  const canManage = can(user.role, 'release.manage');
  const [images, layers] = canManage
    ? await Promise.all([api.image.list({}), api.image.layers({ status: 'READY' })])
    : [[], []];
  return (
    <>
      <PageHeader
        title="Releases"
        subtitle="Ordered layers plus a kernel command line, frozen into a signed manifest when published"
      />
      {canManage && images.length > 0 ? (
        <ReleaseForm images={images} layers={layers} initialImageId={filter} />
      ) : null}
      {releases.length === 0 ? (
        <EmptyState title="No releases yet">
          {canManage ? 'Compose one from indexed layers above.' : 'An operator composes releases.'}
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="releases-table">
            <thead>
              <tr>
                <th>Image</th>
                <th>Version</th>
                <th>Status</th>
                <th className="num">Layers</th>
                <th className="num">Size</th>
                <th>Update cost</th>
                <th>Manifest</th>
                <th>Published</th>
              </tr>
            </thead>
            <tbody>
              {releases.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Link href={`/images/${r.imageId}`}>{r.imageName}</Link>
                  </td>
                  <td>
                    <Link href={`/releases/${r.id}`}>{r.version}</Link>
                  </td>
                  <td>
                    <Badge value={r.status} />
                  </td>
                  <td className="num">{r.layerCount}</td>
                  <td className="num">{formatBytes(r.totalSize)}</td>
                  <td>
                    <UpdateCost update={r.update} error={r.updateError} />
                  </td>
                  <td className="mono" title={r.manifestDigest ?? ''}>
                    {shortDigest(r.manifestDigest)}
                  </td>
                  <td>
                    <Time iso={r.publishedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
