import { EmptyState, PageHeader } from '@/components/ui';
import { can } from '@/server/api/permissions';
import { orNotFound, requireUser, serverApi } from '@/server/session';
import { ProfileForm } from '../profile-form';

export default async function EditProfilePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const user = await requireUser();
  if (!can(user.role, 'bootProfile.update')) return <EmptyState title="You may not edit boot profiles" />;
  const api = await serverApi();
  const profile = await orNotFound(api.bootProfile.get({ id }));
  const releases = await api.bootProfile.releaseOptions({});
  return (
    <>
      <PageHeader title={`Boot profile ${profile.name}`} />
      <ProfileForm
        releases={releases}
        initial={{
          id: profile.id,
          name: profile.name,
          description: profile.description,
          entries: profile.entries.map((e) => ({
            architecture: e.architecture,
            releaseId: e.releaseId ?? '',
            bootFile: e.bootFile ?? '',
            kernelCmdline: e.kernelCmdline ?? '',
          })),
        }}
      />
    </>
  );
}
