import { describe, expect, it } from 'vitest';
import { PERMISSIONS, ROLES, can, isPermission, lowerRole, roleAtMost } from './permissions';

describe('the permission table', () => {
  it('denies by default: unknown permissions, no role', () => {
    expect(isPermission('host.explode')).toBe(false);
    expect(isPermission('toString')).toBe(false);
    expect(can(null, 'host.read')).toBe(false);
    expect(can(undefined, 'dashboard.read')).toBe(false);
  });

  it('is monotonic: whatever a viewer may do an operator may, and whatever an operator may an admin may', () => {
    for (const permission of Object.keys(PERMISSIONS) as (keyof typeof PERMISSIONS)[]) {
      if (can('VIEWER', permission)) expect(can('OPERATOR', permission), permission).toBe(true);
      if (can('OPERATOR', permission)) expect(can('ADMIN', permission), permission).toBe(true);
    }
  });

  it('matches the issue: viewers read, operators manage hosts, images and rollouts, admins the rest', () => {
    expect(can('VIEWER', 'host.read')).toBe(true);
    expect(can('VIEWER', 'host.update')).toBe(false);
    expect(can('OPERATOR', 'host.import')).toBe(true);
    expect(can('OPERATOR', 'image.manage')).toBe(true);
    expect(can('OPERATOR', 'rollout.manage')).toBe(true);
    for (const adminOnly of [
      'user.create',
      'token.create',
      'agent.manage',
      'signingKey.manage',
      'settings.update',
    ] as const) {
      expect(can('OPERATOR', adminOnly), adminOnly).toBe(false);
      expect(can('ADMIN', adminOnly), adminOnly).toBe(true);
    }
  });

  it('orders roles for token ceilings', () => {
    expect(roleAtMost('VIEWER', 'OPERATOR')).toBe(true);
    expect(roleAtMost('ADMIN', 'OPERATOR')).toBe(false);
    for (const r of ROLES) expect(roleAtMost(r, r)).toBe(true);
    expect(lowerRole('ADMIN', 'VIEWER')).toBe('VIEWER');
    expect(lowerRole('OPERATOR', 'ADMIN')).toBe('OPERATOR');
  });
});
