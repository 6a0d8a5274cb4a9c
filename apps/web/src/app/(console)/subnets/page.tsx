import Link from 'next/link';
import { EmptyState, PageHeader } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { requireUser, serverApi } from '@/server/session';
import { DeleteSubnet } from './delete-subnet';
import { SubnetForm } from './subnet-form';

export const metadata = { title: 'Subnets' };

export default async function SubnetsPage({ searchParams }: { searchParams: Promise<{ siteId?: string }> }) {
  const { siteId } = await searchParams;
  const user = await requireUser();
  const api = await serverApi();
  const [subnets, sites] = await Promise.all([
    api.subnet.list(siteId && /^[0-9a-f-]{36}$/.test(siteId) ? { siteId } : {}),
    api.site.list({}),
  ]);
  const canCreate = can(user.role, 'subnet.create');
  const agents = canCreate ? await api.subnet.agentOptions({}) : [];
  const canEdit = can(user.role, 'subnet.update');
  const canDelete = can(user.role, 'subnet.delete');
  return (
    <>
      <PageHeader
        title="Subnets"
        subtitle="IPv4 networks served by an agent: addresses, boot options, shared streams"
      />
      {canCreate && sites.length > 0 ? <SubnetForm sites={sites} agents={agents} /> : null}
      {subnets.length === 0 ? (
        <EmptyState title="No subnets">
          {sites.length === 0
            ? 'Create a site first.'
            : canCreate
              ? 'Create the first one above.'
              : 'An admin creates subnets.'}
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="subnets-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Site</th>
                <th>Network</th>
                <th>Gateway</th>
                <th>Broadcast</th>
                <th>Multicast</th>
                <th>Agent</th>
                <th className="num">Hosts</th>
                {canEdit || canDelete ? <th className="actions">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {subnets.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link href={`/hosts?subnetId=${s.id}`}>{s.name}</Link>
                  </td>
                  <td>{s.siteName}</td>
                  <td className="mono">{s.cidr}</td>
                  <td className="mono">{s.gateway ?? '—'}</td>
                  <td className="mono">{s.broadcastAddress}</td>
                  <td className="mono">
                    {s.multicastRangeStart ? `${s.multicastRangeStart} – ${s.multicastRangeEnd}` : '—'}
                  </td>
                  <td>{s.agentName ?? <span className="muted">none</span>}</td>
                  <td className="num">{s.hostCount}</td>
                  {canEdit || canDelete ? (
                    <td className="actions">
                      {canEdit ? (
                        <Link className="btn btn-sm" href={`/subnets/${s.id}`}>
                          Edit
                        </Link>
                      ) : null}
                      {canDelete ? <DeleteSubnet id={s.id} name={s.name} /> : null}
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
