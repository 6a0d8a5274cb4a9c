import { getServerSession } from 'next-auth';
import { redirect } from 'next/navigation';
import { authOptions } from '@/server/auth';

export const dynamic = 'force-dynamic';

export default async function Home() {
  const session = await getServerSession(authOptions);
  if (!session?.user) redirect('/login');
  return (
    <main style={{ padding: 32 }}>
      <h1>BOOTP Turbo</h1>
      <p className="muted">Signed in as {session.user.email}.</p>
    </main>
  );
}
