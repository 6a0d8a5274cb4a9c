import { Badge, EmptyState, PageHeader, Time } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { requireUser, serverApi } from '@/server/session';
import { NewUserForm, UserControls } from './user-forms';

export const metadata = { title: 'Users' };

export default async function UsersPage() {
  const user = await requireUser();
  if (!can(user.role, 'user.read')) return <EmptyState title="You may not manage users" />;
  const api = await serverApi();
  const users = await api.user.list({});
  return (
    <>
      <PageHeader
        title="Users"
        subtitle="Changing a role or disabling an account ends that person's sessions immediately."
      />
      {can(user.role, 'user.create') ? <NewUserForm /> : null}
      <div className="table-wrap">
        <table className="table" data-testid="users-table">
          <thead>
            <tr>
              <th>Email</th>
              <th>Name</th>
              <th>Role</th>
              <th>Status</th>
              <th>Last sign-in</th>
              {can(user.role, 'user.update') ? <th className="actions">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td>{u.email}</td>
                <td>{u.name}</td>
                <td>
                  <Badge value={u.role} />
                </td>
                <td>
                  {u.disabled ? (
                    <span className="badge badge-danger">disabled</span>
                  ) : (
                    <span className="badge badge-ok">active</span>
                  )}
                </td>
                <td>
                  <Time iso={u.lastLoginAt} />
                </td>
                {can(user.role, 'user.update') ? (
                  <td className="actions">
                    <UserControls
                      id={u.id}
                      email={u.email}
                      role={u.role}
                      disabled={u.disabled}
                      self={u.id === user.id}
                    />
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
