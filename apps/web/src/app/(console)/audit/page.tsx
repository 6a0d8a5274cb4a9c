import Link from 'next/link';
import { EmptyState, PageHeader, Time } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { requireUser, serverApi } from '@/server/session';

export const metadata = { title: 'Audit log' };

type Params = Record<string, string | undefined>;

function summary(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 157)}…` : s;
}

export default async function AuditPage({ searchParams }: { searchParams: Promise<Params> }) {
  const p = await searchParams;
  const user = await requireUser();
  if (!can(user.role, 'audit.read')) return <EmptyState title="You may not read the audit log" />;
  const api = await serverApi();
  const filter = {
    action: p.action?.trim() || undefined,
    actor: p.actor?.trim() || undefined,
    targetType: p.targetType?.trim() || undefined,
    targetId: p.targetId?.trim() || undefined,
    from: p.from ? `${p.from}T00:00:00Z` : undefined,
    to: p.to ? `${p.to}T23:59:59.999Z` : undefined,
    before: p.before && /^\d+$/.test(p.before) ? p.before : undefined,
    limit: 50,
  };
  const page = await api.audit.list(filter).catch(() => ({ items: [], nextCursor: null }));
  const next = new URLSearchParams(
    Object.entries({ ...p, before: page.nextCursor ?? '' }).filter((e): e is [string, string] =>
      Boolean(e[1]),
    ),
  );
  return (
    <>
      <PageHeader
        title="Audit log"
        subtitle="Every change, who made it and from where. Entries are never edited or removed by the application."
      />
      <form className="toolbar" method="get" action="/audit" role="search">
        <input
          name="action"
          defaultValue={p.action ?? ''}
          placeholder="Action (host.update or host)"
          aria-label="Action"
        />
        <input
          name="actor"
          defaultValue={p.actor ?? ''}
          placeholder="Who (email or token)"
          aria-label="Actor"
        />
        <select name="targetType" defaultValue={p.targetType ?? ''} aria-label="Target type">
          <option value="">Any target</option>
          {['site', 'subnet', 'host', 'bootProfile', 'apiToken', 'user'].map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <input type="date" name="from" defaultValue={p.from ?? ''} aria-label="From" />
        <input type="date" name="to" defaultValue={p.to ?? ''} aria-label="To" />
        <button className="btn" type="submit">
          Filter
        </button>
        <Link className="btn btn-link" href="/audit">
          Clear
        </Link>
      </form>
      {page.items.length === 0 ? (
        <EmptyState title="No entries match" />
      ) : (
        <div className="table-wrap">
          <table className="table table-compact" data-testid="audit-table">
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>Action</th>
                <th>Target</th>
                <th>Before</th>
                <th>After</th>
                <th>From</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((a) => (
                <tr key={a.id}>
                  <td className="nowrap">
                    <Time iso={a.createdAt} />
                  </td>
                  <td>
                    {a.actor}
                    {a.actorType === 'API_TOKEN' ? <span className="tag">token</span> : null}
                  </td>
                  <td className="mono">{a.action}</td>
                  <td className="small">
                    {a.targetType === 'host' && a.targetId ? (
                      <Link href={`/hosts/${a.targetId}`}>host</Link>
                    ) : (
                      a.targetType
                    )}
                    {a.targetId ? <div className="mono muted">{a.targetId.slice(0, 8)}</div> : null}
                  </td>
                  <td className="mono small wrap">{summary(a.before)}</td>
                  <td className="mono small wrap">{summary(a.after)}</td>
                  <td className="mono small">{a.ip ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page.nextCursor ? (
        <nav className="pagination">
          <span />
          <Link className="btn btn-sm" href={`/audit?${next.toString()}`}>
            Older entries
          </Link>
        </nav>
      ) : null}
    </>
  );
}
