import Link from 'next/link';
import { EmptyState, PageHeader } from '@/components/ui';
import { serverApi } from '@/server/session';

export default async function DashboardPage() {
  const api = await serverApi();
  const d = await api.dashboard.summary({});
  const cards = [
    { label: 'Hosts', value: d.totals.hosts, href: '/hosts' },
    { label: 'Sites', value: d.totals.sites, href: '/sites' },
    { label: 'Subnets', value: d.totals.subnets, href: '/subnets' },
    { label: 'Boot profiles', value: d.totals.bootProfiles, href: '/boot-profiles' },
  ];
  return (
    <>
      <PageHeader title="Dashboard" subtitle="Fleet counts per site and state" />
      <div className="cards">
        {cards.map((c) => (
          <Link key={c.label} href={c.href} className="card">
            <div className="card-value">{c.value.toLocaleString('en-US')}</div>
            <div className="card-label">{c.label}</div>
          </Link>
        ))}
      </div>
      <h2>Hosts per site and state</h2>
      {d.sites.length === 0 ? (
        <EmptyState title="No sites yet">Create a site, then a subnet, then add hosts.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="fleet-table">
            <thead>
              <tr>
                <th>Site</th>
                {d.states.map((s) => (
                  <th key={s} className="num">
                    {s.toLowerCase()}
                  </th>
                ))}
                <th className="num">Total</th>
              </tr>
            </thead>
            <tbody>
              {d.sites.map((site) => (
                <tr key={site.siteId}>
                  <td>
                    <Link href={`/hosts?siteId=${site.siteId}`}>{site.siteName}</Link>
                  </td>
                  {d.states.map((s) => (
                    <td key={s} className="num">
                      {site.byState[s] ? (
                        <Link href={`/hosts?siteId=${site.siteId}&state=${s}`}>{site.byState[s]}</Link>
                      ) : (
                        <span className="muted">0</span>
                      )}
                    </td>
                  ))}
                  <td className="num strong">{site.total}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <StateBars sites={d.sites} states={d.states} />
        </div>
      )}
    </>
  );
}

function StateBars({
  sites,
  states,
}: {
  sites: { siteId: string; siteName: string; total: number; byState: Record<string, number> }[];
  states: string[];
}) {
  const max = Math.max(1, ...sites.map((s) => s.total));
  return (
    <div className="bars" aria-hidden>
      {sites.map((site) => (
        <div key={site.siteId} className="bar-row">
          <div className="bar-label">{site.siteName}</div>
          <div className="bar-track">
            {states.map((s) =>
              site.byState[s] ? (
                <div
                  key={s}
                  className={`bar-seg seg-${s.toLowerCase()}`}
                  style={{ width: `${(100 * site.byState[s]) / max}%` }}
                  title={`${s.toLowerCase()}: ${site.byState[s]}`}
                />
              ) : null,
            )}
          </div>
        </div>
      ))}
    </div>
  );
}
