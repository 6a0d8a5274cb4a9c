import Link from 'next/link';
import { Badge, EmptyState, LinkButton, PageHeader, Time } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { HOST_STATES } from '@/server/services/host-rules';
import { HOST_SORTS, type HostListInput } from '@/server/services/hosts';
import { requireUser, serverApi } from '@/server/session';
import { ExportButton } from './export-button';

export const metadata = { title: 'Hosts' };

type Params = Record<string, string | undefined>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads the list query from the URL, dropping anything malformed instead of failing the page. */
function listInput(p: Params): HostListInput {
  const sort = HOST_SORTS.find((s) => s === p.sort) ?? 'hostname';
  const state = HOST_STATES.find((s) => s === p.state);
  const page = Math.max(1, Math.min(100_000, Number.parseInt(p.page ?? '1', 10) || 1));
  const pageSize = [25, 50, 100, 200].includes(Number(p.pageSize)) ? Number(p.pageSize) : 50;
  return {
    q: p.q?.trim() ? p.q.trim().slice(0, 100) : undefined,
    siteId: p.siteId && UUID.test(p.siteId) ? p.siteId : undefined,
    subnetId: p.subnetId && UUID.test(p.subnetId) ? p.subnetId : undefined,
    tag: p.tag?.trim() ? p.tag.trim().slice(0, 64) : undefined,
    state,
    sort,
    order: p.order === 'desc' ? 'desc' : 'asc',
    page,
    pageSize,
  };
}

function href(input: HostListInput, patch: Partial<HostListInput>): string {
  const merged = { ...input, ...patch };
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(merged)) {
    if (v === undefined || v === '') continue;
    if (
      (k === 'page' && v === 1) ||
      (k === 'pageSize' && v === 50) ||
      (k === 'sort' && v === 'hostname') ||
      (k === 'order' && v === 'asc')
    )
      continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `/hosts?${s}` : '/hosts';
}

export default async function HostsPage({ searchParams }: { searchParams: Promise<Params> }) {
  const input = listInput(await searchParams);
  const user = await requireUser();
  const api = await serverApi();
  const [page, sites, subnets] = await Promise.all([
    api.host.list(input),
    api.site.list({}),
    api.subnet.list({}),
  ]);
  const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
  const filtered = Boolean(input.q || input.siteId || input.subnetId || input.tag || input.state);
  const sortLink = (key: (typeof HOST_SORTS)[number], label: string) => {
    const active = input.sort === key;
    const order = active && input.order === 'asc' ? 'desc' : 'asc';
    return (
      <Link
        href={href(input, { sort: key, order, page: 1 })}
        className={`sort${active ? ' sort-active' : ''}`}
        aria-sort={active ? (input.order === 'asc' ? 'ascending' : 'descending') : undefined}
      >
        {label}
        {active ? (input.order === 'asc' ? ' ▲' : ' ▼') : ''}
      </Link>
    );
  };
  const { q, siteId, subnetId, tag, state } = input;
  return (
    <>
      <PageHeader
        title="Hosts"
        subtitle={`${page.total.toLocaleString('en-US')} host${page.total === 1 ? '' : 's'}${filtered ? ' match the filters' : ''}`}
        actions={
          <>
            {can(user.role, 'host.export') ? (
              <ExportButton filter={{ q, siteId, subnetId, tag, state }} />
            ) : null}
            {can(user.role, 'host.import') ? <LinkButton href="/hosts/import">Import CSV</LinkButton> : null}
            {can(user.role, 'host.create') ? (
              <LinkButton href="/hosts/new" primary>
                New host
              </LinkButton>
            ) : null}
          </>
        }
      />
      <form className="toolbar" method="get" action="/hosts" role="search">
        <input
          type="search"
          name="q"
          defaultValue={input.q ?? ''}
          placeholder="Search hostname, MAC or address"
          aria-label="Search"
          className="toolbar-search"
        />
        <select name="siteId" defaultValue={input.siteId ?? ''} aria-label="Site">
          <option value="">All sites</option>
          {sites.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
        <select name="subnetId" defaultValue={input.subnetId ?? ''} aria-label="Subnet">
          <option value="">All subnets</option>
          {subnets.map((s) => (
            <option key={s.id} value={s.id}>
              {s.siteName} / {s.name}
            </option>
          ))}
        </select>
        <select name="state" defaultValue={input.state ?? ''} aria-label="State">
          <option value="">Any state</option>
          {HOST_STATES.map((s) => (
            <option key={s} value={s}>
              {s.toLowerCase()}
            </option>
          ))}
        </select>
        <input
          name="tag"
          defaultValue={input.tag ?? ''}
          placeholder="Tag"
          aria-label="Tag"
          className="toolbar-tag"
        />
        <button className="btn" type="submit">
          Filter
        </button>
        {filtered ? (
          <Link className="btn btn-link" href="/hosts">
            Clear
          </Link>
        ) : null}
      </form>
      {page.items.length === 0 ? (
        <EmptyState title={filtered ? 'No hosts match these filters' : 'No hosts yet'}>
          {filtered
            ? 'Try fewer filters.'
            : can(user.role, 'host.create')
              ? 'Add a host or import a CSV file.'
              : 'Operators add hosts.'}
        </EmptyState>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" data-testid="hosts-table">
              <thead>
                <tr>
                  <th>{sortLink('hostname', 'Hostname')}</th>
                  <th>{sortLink('mac', 'MAC')}</th>
                  <th>{sortLink('ipv4', 'Address')}</th>
                  <th>{sortLink('site', 'Site / subnet')}</th>
                  <th>Arch</th>
                  <th>Tags</th>
                  <th>{sortLink('state', 'State')}</th>
                  <th>{sortLink('lastBootAt', 'Last boot')}</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((h) => (
                  <tr key={h.id}>
                    <td>
                      <Link href={`/hosts/${h.id}`} className="strong">
                        {h.hostname}
                      </Link>
                    </td>
                    <td className="mono">{h.mac}</td>
                    <td className="mono">{h.ipv4 ?? <span className="muted">dynamic</span>}</td>
                    <td>
                      {h.siteName} / {h.subnetName}
                    </td>
                    <td className="small">{h.architecture?.toLowerCase().replace(/_/g, '-') ?? '—'}</td>
                    <td>
                      {h.tags.map((t) => (
                        <Link key={t} href={href(input, { tag: t, page: 1 })} className="tag">
                          {t}
                        </Link>
                      ))}
                    </td>
                    <td>
                      <Badge value={h.state} />
                    </td>
                    <td>
                      <Time iso={h.lastBootAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pagination" aria-label="Pages">
            <span className="muted">
              Page {page.page} of {pages} · {page.pageSize} per page
            </span>
            <div className="pagination-links">
              {page.page > 1 ? (
                <Link className="btn btn-sm" href={href(input, { page: 1 })}>
                  First
                </Link>
              ) : null}
              {page.page > 1 ? (
                <Link className="btn btn-sm" href={href(input, { page: page.page - 1 })} rel="prev">
                  Previous
                </Link>
              ) : null}
              {page.page < pages ? (
                <Link className="btn btn-sm" href={href(input, { page: page.page + 1 })} rel="next">
                  Next
                </Link>
              ) : null}
              {page.page < pages ? (
                <Link className="btn btn-sm" href={href(input, { page: pages })}>
                  Last
                </Link>
              ) : null}
            </div>
          </nav>
        </>
      )}
    </>
  );
}
