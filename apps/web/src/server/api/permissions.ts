/**
 * The one permission table. Every procedure declares exactly one `resource.action` permission; a role
 * holds a permission only if it is listed here (deny by default). The UI asks the same table which
 * controls to show, and the permission test walks it against the router.
 */
export const ROLES = ['ADMIN', 'OPERATOR', 'VIEWER'] as const;
export type Role = (typeof ROLES)[number];

const VIEWER = ['VIEWER', 'OPERATOR', 'ADMIN'] as const;
const OPERATOR = ['OPERATOR', 'ADMIN'] as const;
const ADMIN = ['ADMIN'] as const;

export const PERMISSIONS = {
  'dashboard.read': VIEWER,

  'site.read': VIEWER,
  'site.create': ADMIN,
  'site.update': ADMIN,
  'site.delete': ADMIN,

  'subnet.read': VIEWER,
  'subnet.create': ADMIN,
  'subnet.update': ADMIN,
  'subnet.delete': ADMIN,

  'host.read': VIEWER,
  'host.export': VIEWER,
  'host.create': OPERATOR,
  'host.update': OPERATOR,
  'host.delete': OPERATOR,
  'host.import': OPERATOR,

  'bootProfile.read': VIEWER,
  'bootProfile.create': OPERATOR,
  'bootProfile.update': OPERATOR,
  'bootProfile.delete': OPERATOR,

  'image.read': VIEWER,
  'image.manage': OPERATOR,
  'release.read': VIEWER,
  'release.manage': OPERATOR,
  'rollout.read': VIEWER,
  'rollout.manage': OPERATOR,

  'agent.read': VIEWER,
  'agent.manage': ADMIN,
  'signingKey.read': VIEWER,
  'signingKey.manage': ADMIN,
  'settings.read': OPERATOR,
  'settings.update': ADMIN,

  'audit.read': OPERATOR,

  'token.read': ADMIN,
  'token.create': ADMIN,
  'token.revoke': ADMIN,

  'user.read': ADMIN,
  'user.create': ADMIN,
  'user.update': ADMIN,
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function isPermission(name: unknown): name is Permission {
  return typeof name === 'string' && Object.hasOwn(PERMISSIONS, name);
}

export function can(role: Role | null | undefined, permission: Permission): boolean {
  if (!role) return false;
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

const RANK: Record<Role, number> = { VIEWER: 0, OPERATOR: 1, ADMIN: 2 };

/** True when `role` grants no more than `ceiling` (a token never outranks the person who made it). */
export function roleAtMost(role: Role, ceiling: Role): boolean {
  return RANK[role] <= RANK[ceiling];
}

/** The lower of two roles: a token's effective role is capped by its creator's current role. */
export function lowerRole(a: Role, b: Role): Role {
  return RANK[a] <= RANK[b] ? a : b;
}
