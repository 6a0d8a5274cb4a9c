import { EmptyState, PageHeader } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { orNotFound, requireUser, serverApi } from '@/server/session';
import { SiteForm } from '../site-form';

export default async function EditSitePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const user = await requireUser();
  if (!can(user.role, 'site.update')) return <EmptyState title="You may not edit sites" />;
  const api = await serverApi();
  const site = await orNotFound(api.site.get({ id }));
  return (
    <>
      <PageHeader title={`Site ${site.name}`} />
      <SiteForm
        initial={{ id: site.id, name: site.name, description: site.description, timezone: site.timezone }}
      />
    </>
  );
}
