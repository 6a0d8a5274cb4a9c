import Link from 'next/link';
import { EmptyState, PageHeader, Time } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { requireUser, serverApi } from '@/server/session';
import { ImageForm } from './image-form';

export const metadata = { title: 'Images' };

export default async function ImagesPage() {
  const [user, api] = [await requireUser(), await serverApi()];
  const images = await api.image.list({});
  const canManage = can(user.role, 'image.manage');
  return (
    <>
      <PageHeader
        title="Images"
        subtitle="Layers uploaded per image (chunked for delta transfers) and the releases built from them"
      />
      {canManage ? <ImageForm /> : null}
      {images.length === 0 ? (
        <EmptyState title="No images yet">
          {canManage ? 'Create one above, then upload its layers.' : 'An operator creates images.'}
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="images-table">
            <thead>
              <tr>
                <th>Name</th>
                <th className="num">Layers</th>
                <th className="num">Releases</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {images.map((i) => (
                <tr key={i.id}>
                  <td>
                    <Link href={`/images/${i.id}`}>{i.name}</Link>
                    {i.description ? <div className="muted small">{i.description}</div> : null}
                  </td>
                  <td className="num">{i.layerCount}</td>
                  <td className="num">
                    <Link href={`/releases?imageId=${i.id}`}>{i.releaseCount}</Link>
                  </td>
                  <td>
                    <Time iso={i.updatedAt} />
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
