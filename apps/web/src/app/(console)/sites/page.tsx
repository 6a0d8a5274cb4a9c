import Link from 'next/link';
import { EmptyState, PageHeader, Time } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { requireUser, serverApi } from '@/server/session';
import { DeleteSite } from './delete-site';
import { SiteForm } from './site-form';

export const metadata = { title: 'Sites' };

export default async function SitesPage() {
  const [user, api] = [await requireUser(), await serverApi()];
  const sites = await api.site.list({});
  const canEdit = can(user.role, 'site.update');
  const canDelete = can(user.role, 'site.delete');
  return (
    <>
      <PageHeader title="Sites" subtitle="Locations that group subnets, agents and hosts" />
      {can(user.role, 'site.create') ? <SiteForm /> : null}
      {sites.length === 0 ? (
        <EmptyState title="No sites yet">
          {can(user.role, 'site.create') ? 'Create the first one above.' : 'An admin creates sites.'}
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="sites-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Time zone</th>
                <th className="num">Subnets</th>
                <th className="num">Hosts</th>
                <th>Updated</th>
                {canEdit || canDelete ? <th className="actions">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {sites.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link href={`/hosts?siteId=${s.id}`}>{s.name}</Link>
                    {s.description ? <div className="muted small">{s.description}</div> : null}
                  </td>
                  <td>{s.timezone}</td>
                  <td className="num">
                    <Link href={`/subnets?siteId=${s.id}`}>{s.subnetCount}</Link>
                  </td>
                  <td className="num">{s.hostCount}</td>
                  <td>
                    <Time iso={s.updatedAt} />
                  </td>
                  {canEdit || canDelete ? (
                    <td className="actions">
                      {canEdit ? (
                        <Link className="btn btn-sm" href={`/sites/${s.id}`}>
                          Edit
                        </Link>
                      ) : null}
                      {canDelete ? <DeleteSite id={s.id} name={s.name} /> : null}
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
