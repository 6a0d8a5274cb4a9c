import { EmptyState, PageHeader } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { requireUser } from '@/server/session';
import { ImportForm } from './import-form';

export const metadata = { title: 'Import hosts' };

export default async function ImportPage() {
  const user = await requireUser();
  if (!can(user.role, 'host.import')) return <EmptyState title="You may not import hosts" />;
  return (
    <>
      <PageHeader
        title="Import hosts"
        subtitle="Every row is checked first; rows with problems are listed and skipped, the rest are saved together."
      />
      <ImportForm />
    </>
  );
}
