import type { ReactNode } from 'react';
import { Nav, SignOutButton, type NavItem } from '@/components/nav';
import { Badge } from '@/components/ui';
import { can, type Permission } from '@/server/api/permissions';
import { requireUser } from '@/server/session';

export const dynamic = 'force-dynamic';

const NAV: (NavItem & { permission: Permission })[] = [
  { href: '/', label: 'Dashboard', permission: 'dashboard.read' },
  { href: '/hosts', label: 'Hosts', permission: 'host.read' },
  { href: '/sites', label: 'Sites', permission: 'site.read' },
  { href: '/subnets', label: 'Subnets', permission: 'subnet.read' },
  { href: '/boot-profiles', label: 'Boot profiles', permission: 'bootProfile.read' },
  { href: '/images', label: 'Images', permission: 'image.read' },
  { href: '/releases', label: 'Releases', permission: 'release.read' },
  { href: '/keys', label: 'Signing keys', permission: 'signingKey.read' },
  { href: '/audit', label: 'Audit log', permission: 'audit.read' },
  { href: '/tokens', label: 'API tokens', permission: 'token.read' },
  { href: '/users', label: 'Users', permission: 'user.read' },
];

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const user = await requireUser();
  const items = NAV.filter((n) => can(user.role, n.permission)).map(({ href, label }) => ({ href, label }));
  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="brand">
          <span className="brand-mark" aria-hidden />
          BOOTP Turbo
        </div>
        <Nav items={items} />
      </aside>
      <div className="main">
        <header className="topbar">
          <span className="muted">Fleet provisioning</span>
          <div className="topbar-user">
            <span data-testid="current-user">{user.email}</span>
            <Badge value={user.role} />
            <SignOutButton />
          </div>
        </header>
        <main className="content">{children}</main>
      </div>
    </div>
  );
}
