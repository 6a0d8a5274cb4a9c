import Link from 'next/link';
import type { ReactNode } from 'react';

/** Small presentational pieces shared by every page (server-safe, no state). */
export function PageHeader({
  title,
  subtitle,
  actions,
}: {
  title: string;
  subtitle?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <div className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle ? <p className="muted page-subtitle">{subtitle}</p> : null}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty-state" role="status">
      <div className="empty-title">{title}</div>
      {children ? <div className="muted">{children}</div> : null}
    </div>
  );
}

const STATE_CLASS: Record<string, string> = {
  UP: 'badge-ok',
  BOOTING: 'badge-info',
  REBOOTING: 'badge-info',
  FAILED: 'badge-danger',
  MAINTENANCE: 'badge-warn',
  UNKNOWN: 'badge-muted',
  ADMIN: 'badge-danger',
  OPERATOR: 'badge-info',
  VIEWER: 'badge-muted',
};

export function Badge({ value }: { value: string }) {
  return (
    <span className={`badge ${STATE_CLASS[value] ?? 'badge-muted'}`}>
      {value.toLowerCase().replace(/_/g, ' ')}
    </span>
  );
}

export function Field({
  label,
  htmlFor,
  error,
  hint,
  children,
}: {
  label: string;
  htmlFor: string;
  error?: string | undefined;
  hint?: string;
  children: ReactNode;
}) {
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      {error ? (
        <div className="field-error" id={`${htmlFor}-error`} role="alert">
          {error}
        </div>
      ) : hint ? (
        <div className="field-hint">{hint}</div>
      ) : null}
    </div>
  );
}

export function FormError({ message }: { message?: string | undefined }) {
  return message ? (
    <div className="alert alert-error" role="alert">
      {message}
    </div>
  ) : null;
}

export function Time({ iso }: { iso: string | null }) {
  if (!iso) return <span className="muted">—</span>;
  return <time dateTime={iso}>{iso.replace('T', ' ').slice(0, 19)}</time>;
}

export function LinkButton({
  href,
  children,
  primary,
}: {
  href: string;
  children: ReactNode;
  primary?: boolean;
}) {
  return (
    <Link className={`btn${primary ? ' btn-primary' : ''}`} href={href}>
      {children}
    </Link>
  );
}
