import Link from 'next/link';
import { EmptyState, PageHeader } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { orNotFound, requireUser, serverApi } from '@/server/session';
import { LayerTable } from './layer-table';
import { Uploader } from './uploader';

export const metadata = { title: 'Image' };

export default async function ImagePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const [user, api] = [await requireUser(), await serverApi()];
  const image = await orNotFound(api.image.get({ id }));
  const canManage = can(user.role, 'image.manage');
  return (
    <>
      <PageHeader
        title={image.name}
        subtitle={image.description || 'Image'}
        actions={
          <Link className="btn" href={`/releases?imageId=${image.id}`}>
            Releases ({image.releaseCount})
          </Link>
        }
      />
      {canManage ? <Uploader imageId={image.id} active={image.uploads} /> : null}
      <h2 className="subhead">Layers</h2>
      {image.layers.length === 0 ? (
        <EmptyState title="No layers yet">
          {canManage
            ? 'Upload a kernel, a base initramfs and overlays above.'
            : 'An operator uploads layers.'}
        </EmptyState>
      ) : (
        <LayerTable layers={image.layers} canManage={canManage} />
      )}
    </>
  );
}
