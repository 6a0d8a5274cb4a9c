import { EmptyState, PageHeader } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { orNotFound, requireUser, serverApi } from '@/server/session';
import { SubnetForm } from '../subnet-form';

export default async function EditSubnetPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const user = await requireUser();
  if (!can(user.role, 'subnet.update')) return <EmptyState title="You may not edit subnets" />;
  const api = await serverApi();
  const subnet = await orNotFound(api.subnet.get({ id }));
  const [sites, agents] = await Promise.all([api.site.list({}), api.subnet.agentOptions({})]);
  return (
    <>
      <PageHeader title={`Subnet ${subnet.name}`} subtitle={subnet.cidr} />
      <SubnetForm
        sites={sites}
        agents={agents}
        initial={{
          id: subnet.id,
          siteId: subnet.siteId,
          name: subnet.name,
          cidr: subnet.cidr,
          gateway: subnet.gateway ?? '',
          dnsServers: subnet.dnsServers.join(' '),
          broadcastAddress: subnet.broadcastAddress,
          multicastRangeStart: subnet.multicastRangeStart ?? '',
          multicastRangeEnd: subnet.multicastRangeEnd ?? '',
          agentId: subnet.agentId ?? '',
        }}
      />
    </>
  );
}
