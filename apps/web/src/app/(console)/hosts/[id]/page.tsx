import type { ReactNode } from 'react';
import Link from 'next/link';
import { Badge, EmptyState, PageHeader, Time } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { orNotFound, requireUser, serverApi } from '@/server/session';
import { HostForm } from '../host-form';
import { DeleteHost } from './delete-host';

export default async function HostPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const user = await requireUser();
  const api = await serverApi();
  const detail = await orNotFound(api.host.detail({ id }));
  const h = detail.host;
  const canEdit = can(user.role, 'host.update');
  const [subnets, profiles] = canEdit
    ? await Promise.all([api.subnet.list({}), api.bootProfile.list({})])
    : [[], []];
  const facts: [string, ReactNode][] = [
    [
      'MAC',
      <span className="mono" key="mac">
        {h.mac}
      </span>,
    ],
    [
      'Address',
      <span className="mono" key="ip">
        {h.ipv4 ?? 'dynamic'}
      </span>,
    ],
    [
      'Site / subnet',
      <Link key="s" href={`/hosts?subnetId=${h.subnetId}`}>
        {h.siteName} / {h.subnetName} ({h.subnetCidr})
      </Link>,
    ],
    ['Architecture', h.architecture?.toLowerCase().replace(/_/g, '-') ?? '—'],
    ['Boot profile', h.bootProfileName ?? '—'],
    ['Desired release', detail.desiredRelease ?? '—'],
    ['Current release', detail.currentRelease ?? '—'],
    [
      'Tags',
      h.tags.length
        ? h.tags.map((t) => (
            <span className="tag" key={t}>
              {t}
            </span>
          ))
        : '—',
    ],
    ['Failure domain', h.failureDomain ?? '—'],
    [
      'Power',
      `${h.powerDriver.toLowerCase()}${typeof h.powerParams.address === 'string' ? ` @ ${h.powerParams.address}` : ''}`,
    ],
    ['Last boot', <Time key="b" iso={h.lastBootAt} />],
    ['Last seen', <Time key="l" iso={h.lastSeenAt} />],
  ];
  return (
    <>
      <PageHeader
        title={h.hostname}
        subtitle={<Badge value={h.state} />}
        actions={can(user.role, 'host.delete') ? <DeleteHost id={h.id} hostname={h.hostname} /> : null}
      />
      <div className="detail-grid">
        <section className="panel">
          <h2 className="form-title">Overview</h2>
          <dl className="facts">
            {facts.map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))}
          </dl>
        </section>
        <section className="panel">
          <h2 className="form-title">Recent boot events</h2>
          {detail.events.length === 0 ? (
            <EmptyState title="No boot events yet">
              Events appear when the agent reports this host booting.
            </EmptyState>
          ) : (
            <table className="table table-compact">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Event</th>
                  <th>Protocol</th>
                  <th className="num">Latency</th>
                </tr>
              </thead>
              <tbody>
                {detail.events.map((e) => (
                  <tr key={e.id}>
                    <td>
                      <Time iso={e.occurredAt} />
                    </td>
                    <td>
                      {e.kind.toLowerCase()}
                      {e.cacheHit ? ' (cache hit)' : ''}
                    </td>
                    <td>{e.protocol?.toLowerCase() ?? '—'}</td>
                    <td className="num">{e.latencyMs !== null ? `${e.latencyMs} ms` : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
      {canEdit ? (
        <>
          <h2>Edit</h2>
          <HostForm
            subnets={subnets}
            profiles={profiles}
            initial={{
              id: h.id,
              mac: h.mac,
              hostname: h.hostname,
              subnetId: h.subnetId,
              ipv4: h.ipv4 ?? '',
              architecture: h.architecture ?? '',
              tags: h.tags.join(' '),
              bootProfileId: h.bootProfileId ?? '',
              failureDomain: h.failureDomain ?? '',
              powerDriver: h.powerDriver,
              powerAddress: typeof h.powerParams.address === 'string' ? h.powerParams.address : '',
              powerUser: typeof h.powerParams.username === 'string' ? h.powerParams.username : '',
            }}
          />
        </>
      ) : null}
      {detail.history.length ? (
        <>
          <h2>Change history</h2>
          <div className="table-wrap">
            <table className="table table-compact">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Who</th>
                  <th>Action</th>
                  <th>Changed to</th>
                </tr>
              </thead>
              <tbody>
                {detail.history.map((a) => (
                  <tr key={a.id}>
                    <td>
                      <Time iso={a.createdAt} />
                    </td>
                    <td>{a.actor}</td>
                    <td className="mono">{a.action}</td>
                    <td className="mono small">{a.after ? JSON.stringify(a.after) : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </>
  );
}
