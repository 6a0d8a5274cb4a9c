import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../generated/prisma/client';
import { disconnectDb, getDb } from '../db/client';
import { callerFor, createTestUser, runId, testNetwork, userIdentity } from '../testing/fixtures';
import { TRPCError } from '@trpc/server';
import { errorBody } from '../api/errors';
import type { Identity } from '../api/identity';
import { appRouter } from '../api/root';

/** The API error body (code, message, field) of a failed call. */
async function failure(call: Promise<unknown>) {
  const err = await call.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(err)}`);
  return errorBody(err);
}

/** Inventory rules through the tRPC procedures (validation, conflicts, audit) against the real database. */
let db: PrismaClient;
let admin: Identity;
let operator: Identity;
const tag = runId();
const net = testNetwork();
let siteId: string;
let subnetId: string;

beforeAll(async () => {
  db = getDb();
  admin = userIdentity(await createTestUser(db, 'ADMIN', tag));
  operator = userIdentity(await createTestUser(db, 'OPERATOR', tag));
  const api = callerFor(db, admin);
  siteId = (await api.site.create({ name: `site-${tag}`, timezone: 'Europe/Berlin' })).id;
  subnetId = (
    await api.subnet.create({
      siteId,
      name: `net-${tag}`,
      cidr: `${net.prefix}.0.0/24`,
      gateway: `${net.prefix}.0.1`,
      dnsServers: [`${net.prefix}.0.1`],
      multicastRangeStart: '239.1.1.1',
      multicastRangeEnd: '239.1.1.20',
      poolStart: `${net.prefix}.0.200`,
      poolEnd: `${net.prefix}.0.250`,
    })
  ).id;
});

afterAll(async () => {
  await disconnectDb();
});

const mac = (n: number) =>
  `02:${tag.slice(0, 2)}:${tag.slice(2, 4)}:${tag.slice(4, 6)}:00:${n.toString(16).padStart(2, '0')}`;

describe('subnets', () => {
  it('rejects malformed CIDRs, host bits, overlaps, gateways outside and half-set multicast ranges with the field', async () => {
    const api = callerFor(db, admin);
    const base = { siteId, name: `bad-${tag}` };
    await expect(api.subnet.create({ ...base, cidr: '10.0.0.0/33' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    const cases: [Record<string, unknown>, string][] = [
      [{ cidr: 'not-a-network' }, 'cidr'],
      [{ cidr: `${net.prefix}.1.5/24` }, 'cidr'],
      [{ cidr: `${net.prefix}.2.0/24`, gateway: `${net.prefix}.3.1` }, 'gateway'],
      [{ cidr: `${net.prefix}.2.0/24`, multicastRangeStart: '239.0.0.1' }, 'multicastRangeEnd'],
      [
        { cidr: `${net.prefix}.2.0/24`, multicastRangeStart: '10.0.0.1', multicastRangeEnd: '239.0.0.9' },
        'multicastRangeStart',
      ],
      [{ cidr: `${net.prefix}.0.128/25` }, 'cidr'],
    ];
    for (const [patch, field] of cases) {
      const err = await failure(api.subnet.create({ ...base, cidr: '', ...patch }));
      const code = field === 'cidr' && patch.cidr === `${net.prefix}.0.128/25` ? 'CONFLICT' : 'BAD_REQUEST';
      expect(err, JSON.stringify(patch)).toMatchObject({ code, field });
    }
  });

  it('derives the broadcast address when none is set', async () => {
    const s = await callerFor(db, admin).subnet.get({ id: subnetId });
    expect(s.broadcastAddress).toBe(`${net.prefix}.0.255`);
    expect(s.cidr).toBe(`${net.prefix}.0.0/24`);
  });
});

describe('hosts', () => {
  it('creates a host, normalising the MAC and tags, and audits it', async () => {
    const api = callerFor(db, operator);
    const h = await api.host.create({
      mac: mac(1).toUpperCase().replace(/:/g, '-'),
      hostname: `node-${tag}-1`,
      subnetId,
      ipv4: `${net.prefix}.0.10`,
      architecture: 'X86_64_UEFI',
      tags: ['Rack-A', 'kiosk', 'rack-a'],
      powerDriver: 'REDFISH',
      powerParams: { address: 'https://bmc-1' },
    });
    expect(h).toMatchObject({ mac: mac(1), siteId, tags: ['rack-a', 'kiosk'], ipv4: `${net.prefix}.0.10` });
    const audit = await db.auditLog.findFirstOrThrow({ where: { targetId: h.id, action: 'host.create' } });
    expect(audit).toMatchObject({ actorUserId: operator.userId, actorType: 'USER', ip: '127.0.0.1' });
    expect(audit.after).toMatchObject({ mac: mac(1), hostname: `node-${tag}-1` });
  });

  it('rejects a duplicate MAC, an address outside the subnet, in the pool, or already reserved', async () => {
    const api = callerFor(db, operator);
    const base = { hostname: `node-${tag}-2`, subnetId };
    const cases: [Record<string, unknown>, string, string][] = [
      [{ mac: mac(1) }, 'mac', 'CONFLICT'],
      [{ mac: 'zz:zz' }, 'mac', 'BAD_REQUEST'],
      [{ mac: mac(2), ipv4: '192.0.2.1' }, 'ipv4', 'BAD_REQUEST'],
      [{ mac: mac(2), ipv4: `${net.prefix}.0.255` }, 'ipv4', 'BAD_REQUEST'],
      [{ mac: mac(2), ipv4: `${net.prefix}.0.1` }, 'ipv4', 'BAD_REQUEST'],
      [{ mac: mac(2), ipv4: `${net.prefix}.0.210` }, 'ipv4', 'BAD_REQUEST'],
      [{ mac: mac(2), ipv4: `${net.prefix}.0.10` }, 'ipv4', 'CONFLICT'],
      [{ mac: mac(2), hostname: 'bad_name' }, 'hostname', 'BAD_REQUEST'],
      [{ mac: mac(2), powerDriver: 'IPMI' }, 'powerParams.address', 'BAD_REQUEST'],
    ];
    for (const [patch, field, code] of cases) {
      const err = await failure(api.host.create({ ...base, ...patch } as never));
      expect(err, JSON.stringify(patch)).toMatchObject({ code, field });
    }
  });

  it('updates only the fields given and records what changed', async () => {
    const api = callerFor(db, operator);
    const h = await api.host.create({ mac: mac(3), hostname: `node-${tag}-3`, subnetId, tags: ['x'] });
    const u = await api.host.update({ id: h.id, ipv4: `${net.prefix}.0.13` });
    expect(u).toMatchObject({ ipv4: `${net.prefix}.0.13`, tags: ['x'], hostname: `node-${tag}-3` });
    const audit = await db.auditLog.findFirstOrThrow({ where: { targetId: h.id, action: 'host.update' } });
    expect(audit.before).toEqual({ ipv4: null });
    expect(audit.after).toEqual({ ipv4: `${net.prefix}.0.13` });
  });

  it('lists with search, filters, sort and pagination', async () => {
    const api = callerFor(db, operator);
    for (let i = 4; i < 9; i++) {
      await api.host.create({
        mac: mac(i),
        hostname: `node-${tag}-${i}`,
        subnetId,
        tags: i % 2 ? ['odd'] : ['even'],
      });
    }
    const page1 = await api.host.list({ siteId, sort: 'hostname', order: 'desc', pageSize: 3 });
    expect(page1.total).toBe(7);
    expect(page1.items.map((h) => h.hostname)).toEqual([`node-${tag}-8`, `node-${tag}-7`, `node-${tag}-6`]);
    const page3 = await api.host.list({ siteId, sort: 'hostname', order: 'desc', pageSize: 3, page: 3 });
    expect(page3.items).toHaveLength(1);
    expect((await api.host.list({ siteId, tag: 'odd' })).total).toBe(2);
    expect((await api.host.list({ q: `node-${tag}-5` })).items.map((h) => h.mac)).toEqual([mac(5)]);
    expect((await api.host.list({ q: mac(6).toUpperCase() })).total).toBe(1);
    expect((await api.host.list({ siteId, state: 'FAILED' })).total).toBe(0);
  });

  it('refuses to delete a subnet or site that still has hosts', async () => {
    const api = callerFor(db, admin);
    await expect(api.subnet.delete({ id: subnetId })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(api.site.delete({ id: siteId })).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});

describe('CSV import and export', () => {
  it('imports good rows, reports the bad ones by line and column, and round-trips through export', async () => {
    const api = callerFor(db, operator);
    const csv = [
      'hostname,mac,ipv4,site,subnet,tags,architecture',
      `imp-${tag}-1,${mac(0x41)},${net.prefix}.0.41,site-${tag},net-${tag},a;b,x86_64_uefi`,
      `imp-${tag}-2,${mac(0x42)},${net.prefix}.9.9,site-${tag},net-${tag},,`,
      `imp-${tag}-3,${mac(0x41)},,site-${tag},net-${tag},,`,
      `imp-${tag}-4,${mac(0x44)},${net.prefix}.0.41,site-${tag},net-${tag},,`,
      `imp-${tag}-5,${mac(0x45)},,site-${tag},no-such-net,,`,
      `imp-${tag}-6,${mac(0x46)},,site-${tag},${net.prefix}.0.0/24,,ppc`,
      `imp-${tag}-7,${mac(0x47)},,site-${tag},${net.prefix}.0.0/24,,`,
    ].join('\n');
    const dry = await api.host.import({ csv, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, rows: 7, created: 2, failed: 5 });
    expect(await db.host.count({ where: { hostname: { startsWith: `imp-${tag}` } } })).toBe(0);

    const report = await api.host.import({ csv, dryRun: false });
    expect(report.errors.map((e) => [e.line, e.field])).toEqual([
      [3, 'ipv4'],
      [4, 'mac'],
      [5, 'ipv4'],
      [6, 'subnet'],
      [7, 'architecture'],
    ]);
    expect(report).toMatchObject({ created: 2, updated: 0, failed: 5 });
    const created = await db.host.findFirstOrThrow({ where: { mac: mac(0x41) } });
    expect(created).toMatchObject({
      hostname: `imp-${tag}-1`,
      tags: ['a', 'b'],
      architecture: 'X86_64_UEFI',
    });
    expect(await db.auditLog.count({ where: { action: 'host.import', actorUserId: operator.userId } })).toBe(
      1,
    );

    const exported = await api.host.export({ siteId, q: `imp-${tag}` });
    expect(exported.count).toBe(2);
    const renamed = exported.csv.replace(`imp-${tag}-7`, `imp-${tag}-7b`);
    const again = await api.host.import({ csv: renamed, dryRun: false });
    expect(again).toMatchObject({ created: 0, updated: 2, failed: 0 });
    expect((await db.host.findFirstOrThrow({ where: { mac: mac(0x47) } })).hostname).toBe(`imp-${tag}-7b`);
  });

  it('rejects files with unknown or missing columns or broken quoting as a whole', async () => {
    const api = callerFor(db, operator);
    expect(await failure(api.host.import({ csv: 'hostname,mac,colour\n', dryRun: true }))).toMatchObject({
      field: 'csv',
    });
    await expect(api.host.import({ csv: 'hostname,mac\n', dryRun: true })).rejects.toMatchObject({
      message: expect.stringContaining('subnet') as string,
    });
    await expect(
      api.host.import({ csv: 'hostname,mac,subnet\n"x,y,z\n', dryRun: true }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('audit log', () => {
  it('is filterable by action, actor and target, newest first with a cursor', async () => {
    const api = callerFor(db, admin);
    const page = await api.audit.list({ actor: operator.label, limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.nextCursor).not.toBeNull();
    const next = await api.audit.list({ actor: operator.label, limit: 2, before: page.nextCursor! });
    expect(BigInt(next.items[0]!.id)).toBeLessThan(BigInt(page.items[1]!.id));
    const hostOnly = await api.audit.list({ action: 'host', actor: operator.label, limit: 200 });
    expect(hostOnly.items.every((a) => a.action.startsWith('host.'))).toBe(true);
    const sites = await api.audit.list({ action: 'site.create', actor: admin.label });
    expect(sites.items).toHaveLength(1);
    expect(sites.items[0]).toMatchObject({ targetType: 'site', targetId: siteId, ip: '127.0.0.1' });
  });

  it('is append-only in the database too; deleting the actor only clears the link', async () => {
    const entry = await db.auditLog.findFirstOrThrow({ where: { actorUserId: operator.userId } });
    await expect(
      db.auditLog.update({ where: { id: entry.id }, data: { action: 'host.tampered' } }),
    ).rejects.toThrow(/append-only/);
    await expect(db.auditLog.delete({ where: { id: entry.id } })).rejects.toThrow(/append-only/);
    const leaver = await createTestUser(db, 'OPERATOR');
    await db.auditLog.create({
      data: { actorType: 'USER', actorUserId: leaver.id, actorLabel: leaver.email, action: 'host.update' },
    });
    await db.user.delete({ where: { id: leaver.id } });
    const kept = await db.auditLog.findFirstOrThrow({ where: { actorLabel: leaver.email } });
    expect(kept).toMatchObject({ actorUserId: null, action: 'host.update' });
  });

  it('offers no procedure that changes or removes entries', () => {
    const auditProcedures = Object.keys(appRouter._def.procedures).filter((p) => p.startsWith('audit.'));
    expect(auditProcedures).toEqual(['audit.list']);
  });
});
