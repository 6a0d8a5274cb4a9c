import { EmptyState, PageHeader } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { requireUser, serverApi } from '@/server/session';
import { HostForm } from '../host-form';

export const metadata = { title: 'New host' };

export default async function NewHostPage() {
  const user = await requireUser();
  if (!can(user.role, 'host.create')) return <EmptyState title="You may not create hosts" />;
  const api = await serverApi();
  const [subnets, profiles] = await Promise.all([api.subnet.list({}), api.bootProfile.list({})]);
  return (
    <>
      <PageHeader title="New host" />
      {subnets.length === 0 ? (
        <EmptyState title="No subnets yet">An admin creates a site and a subnet first.</EmptyState>
      ) : (
        <HostForm subnets={subnets} profiles={profiles} />
      )}
    </>
  );
}
