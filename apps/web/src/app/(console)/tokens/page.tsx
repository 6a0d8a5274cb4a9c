import { Badge, EmptyState, PageHeader, Time } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { requireUser, serverApi } from '@/server/session';
import { RevokeToken, TokenForm } from './token-form';

export const metadata = { title: 'API tokens' };

export default async function TokensPage() {
  const user = await requireUser();
  if (!can(user.role, 'token.read')) return <EmptyState title="You may not manage API tokens" />;
  const api = await serverApi();
  const tokens = await api.token.list({});
  const now = Date.now();
  return (
    <>
      <PageHeader
        title="API tokens"
        subtitle={
          <>
            For automation: send <code>Authorization: Bearer &lt;token&gt;</code> to /api/v1 or /api/trpc.
            Only a hash is stored.
          </>
        }
      />
      {can(user.role, 'token.create') ? <TokenForm maxRole={user.role} /> : null}
      {tokens.length === 0 ? (
        <EmptyState title="No tokens yet" />
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="tokens-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Prefix</th>
                <th>Role</th>
                <th>Created by</th>
                <th>Created</th>
                <th>Expires</th>
                <th>Last used</th>
                <th>Status</th>
                <th className="actions">Actions</th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => {
                const expired = t.expiresAt !== null && Date.parse(t.expiresAt) <= now;
                return (
                  <tr key={t.id}>
                    <td className="strong">{t.name}</td>
                    <td className="mono">{t.prefix}…</td>
                    <td>
                      <Badge value={t.role} />
                    </td>
                    <td>{t.createdBy}</td>
                    <td>
                      <Time iso={t.createdAt} />
                    </td>
                    <td>{t.expiresAt ? <Time iso={t.expiresAt} /> : 'never'}</td>
                    <td>
                      <Time iso={t.lastUsedAt} />
                    </td>
                    <td>
                      {t.revokedAt ? (
                        <span className="badge badge-danger">revoked</span>
                      ) : expired ? (
                        <span className="badge badge-warn">expired</span>
                      ) : (
                        <span className="badge badge-ok">active</span>
                      )}
                    </td>
                    <td className="actions">
                      {!t.revokedAt && can(user.role, 'token.revoke') ? (
                        <RevokeToken id={t.id} name={t.name} />
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
