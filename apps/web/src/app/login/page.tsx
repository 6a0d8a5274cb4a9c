import type { Metadata } from 'next';
import { oidcEnabled } from '@/server/auth';
import { LoginForm } from './login-form';

export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Sign in' };

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<{ callbackUrl?: string; error?: string }>;
}) {
  const { callbackUrl, error } = await searchParams;
  return (
    <main className="login-wrap">
      <div className="panel login-card">
        <div className="brand">
          <span className="brand-mark" aria-hidden />
          BOOTP Turbo
        </div>
        <h1>Sign in</h1>
        <LoginForm
          callbackUrl={callbackUrl?.startsWith('/') && !callbackUrl.startsWith('//') ? callbackUrl : '/'}
          initialError={error}
          oidcName={oidcEnabled()?.name}
        />
      </div>
    </main>
  );
}
