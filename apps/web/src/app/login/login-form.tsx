'use client';

import { signIn } from 'next-auth/react';
import { useState, type FormEvent } from 'react';

function fieldText(form: FormData, name: string): string {
  const v = form.get(name);
  return typeof v === 'string' ? v : '';
}

function describe(code: string | undefined): string {
  if (!code) return '';
  if (code === 'RATE_LIMITED') return 'Too many failed attempts. Wait 15 minutes and try again.';
  if (code === 'AccessDenied') return 'This account is disabled.';
  return 'Sign-in failed. Check your email and password.';
}

export function LoginForm({
  callbackUrl,
  initialError,
  oidcName,
}: {
  callbackUrl: string;
  initialError?: string | undefined;
  oidcName?: string | undefined;
}) {
  const [error, setError] = useState(describe(initialError));
  const [pending, setPending] = useState(false);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setPending(true);
    setError('');
    const form = new FormData(e.currentTarget);
    const res = await signIn('credentials', {
      email: fieldText(form, 'email'),
      password: fieldText(form, 'password'),
      redirect: false,
    });
    setPending(false);
    if (!res || res.error) {
      setError(
        res?.error === 'RATE_LIMITED'
          ? 'Too many failed attempts. Wait 15 minutes and try again.'
          : 'Sign-in failed. Check your email and password.',
      );
      return;
    }
    window.location.assign(callbackUrl);
  }

  return (
    <form onSubmit={(e) => void onSubmit(e)} noValidate>
      {error ? (
        <div className="alert alert-error" role="alert">
          {error}
        </div>
      ) : null}
      <label htmlFor="email">Email</label>
      <input id="email" name="email" type="email" autoComplete="username" required autoFocus />
      <label htmlFor="password">Password</label>
      <input id="password" name="password" type="password" autoComplete="current-password" required />
      <div style={{ marginTop: 18 }}>
        <button
          className="btn btn-primary"
          type="submit"
          disabled={pending}
          style={{ width: '100%', justifyContent: 'center' }}
        >
          {pending ? 'Signing in…' : 'Sign in'}
        </button>
      </div>
      {oidcName ? (
        <div className="oidc">
          <div className="divider">
            <span>or</span>
          </div>
          <button
            className="btn"
            type="button"
            style={{ width: '100%', justifyContent: 'center' }}
            onClick={() => void signIn('oidc', { callbackUrl })}
          >
            Sign in with {oidcName}
          </button>
        </div>
      ) : null}
    </form>
  );
}
