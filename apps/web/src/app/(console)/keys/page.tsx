import { Badge, EmptyState, PageHeader, Time } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { requireUser, serverApi } from '@/server/session';
import { KeyRowActions, KeyToolbar } from './key-actions';

export const metadata = { title: 'Signing keys' };

export default async function KeysPage() {
  const [user, api] = [await requireUser(), await serverApi()];
  const keys = await api.signingKey.list({});
  const canManage = can(user.role, 'signingKey.manage');
  return (
    <>
      <PageHeader
        title="Signing keys"
        subtitle={
          <>
            Ed25519 keys that sign release manifests. Agents and clients fetch the trust set from{' '}
            <a href="/api/agent/v1/trusted-keys" className="mono">
              /api/agent/v1/trusted-keys
            </a>
            .
          </>
        }
        actions={canManage ? <KeyToolbar hasActive={keys.some((k) => k.state === 'ACTIVE')} /> : null}
      />
      {keys.length === 0 ? (
        <EmptyState title="No signing keys yet">
          {canManage ? 'Create one to publish releases.' : 'An admin creates signing keys.'}
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="keys-table">
            <thead>
              <tr>
                <th>Key id</th>
                <th>Public key (base64url)</th>
                <th>State</th>
                <th className="num">Signatures</th>
                <th>Created</th>
                <th>Retired / revoked</th>
                {canManage ? <th className="actions">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.id}>
                  <td className="mono">{k.keyId}</td>
                  <td className="mono small wrap">{k.publicKey}</td>
                  <td>
                    <Badge value={k.state} />
                  </td>
                  <td className="num">{k.signatureCount}</td>
                  <td>
                    <Time iso={k.createdAt} />
                  </td>
                  <td>
                    <Time iso={k.revokedAt ?? k.retiredAt} />
                  </td>
                  {canManage ? (
                    <td className="actions">
                      <KeyRowActions id={k.id} keyId={k.keyId} state={k.state} />
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
