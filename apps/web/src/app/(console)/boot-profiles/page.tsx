import Link from 'next/link';
import { EmptyState, PageHeader } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { requireUser, serverApi } from '@/server/session';
import { DeleteProfile } from './delete-profile';
import { ProfileForm } from './profile-form';

export const metadata = { title: 'Boot profiles' };

export default async function BootProfilesPage() {
  const user = await requireUser();
  const api = await serverApi();
  const profiles = await api.bootProfile.list({});
  const canCreate = can(user.role, 'bootProfile.create');
  const releases = canCreate ? await api.bootProfile.releaseOptions({}) : [];
  const canEdit = can(user.role, 'bootProfile.update');
  const canDelete = can(user.role, 'bootProfile.delete');
  return (
    <>
      <PageHeader
        title="Boot profiles"
        subtitle="Which release or boot file each architecture boots, and the kernel command line"
      />
      {canCreate ? <ProfileForm releases={releases} /> : null}
      {profiles.length === 0 ? (
        <EmptyState title="No boot profiles yet" />
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="profiles-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Entries</th>
                <th className="num">Hosts</th>
                {canEdit || canDelete ? <th className="actions">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {profiles.map((p) => (
                <tr key={p.id}>
                  <td>
                    <strong>{p.name}</strong>
                    {p.description ? <div className="muted small">{p.description}</div> : null}
                  </td>
                  <td>
                    {p.entries.length === 0 ? <span className="muted">none</span> : null}
                    {p.entries.map((e) => (
                      <div key={e.architecture} className="small">
                        <span className="tag">{e.architecture.toLowerCase().replace(/_/g, '-')}</span>{' '}
                        {e.releaseLabel ?? e.bootFile}
                        {e.kernelCmdline ? <span className="mono muted"> {e.kernelCmdline}</span> : null}
                      </div>
                    ))}
                  </td>
                  <td className="num">{p.hostCount}</td>
                  {canEdit || canDelete ? (
                    <td className="actions">
                      {canEdit ? (
                        <Link className="btn btn-sm" href={`/boot-profiles/${p.id}`}>
                          Edit
                        </Link>
                      ) : null}
                      {canDelete ? <DeleteProfile id={p.id} name={p.name} /> : null}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
