'use client';

import { signIn } from 'next-auth/react';
import { useState, type FormEvent } from 'react';

export function LoginForm({
  callbackUrl,
  initialError,
}: {
  callbackUrl: string;
  initialError?: string | undefined;
}) {
  const [error, setError] = useState(initialError ? 'Sign-in failed. Check your email and password.' : '');
  const [pending, setPending] = useState(false);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setPending(true);
    setError('');
    const form = new FormData(e.currentTarget);
    const res = await signIn('credentials', {
      email: String(form.get('email') ?? ''),
      password: String(form.get('password') ?? ''),
      redirect: false,
    });
    setPending(false);
    if (!res || res.error) {
      setError(
        res?.status === 429
          ? 'Too many failed attempts. Wait a minute and try again.'
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
    </form>
  );
}
