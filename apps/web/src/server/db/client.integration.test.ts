import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployMigrations } from '../../../../../scripts/lib/migrate.mjs';
import { createDb, disconnectDb, getDb } from './client';

// Lives next to the client (typed by the web app's tsconfig); the migration tooling's own tests are in
// tests/db. Needs DATABASE_URL pointing at a server where it may create a database of its own.
const MIGRATIONS_DIR = fileURLToPath(new URL('../../../../../prisma/migrations', import.meta.url));

async function onServer(sql: string): Promise<void> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('DATABASE_URL is not set: this test needs a PostgreSQL server');
  const admin = new pg.Client({
    connectionString: Object.assign(new URL(serverUrl), { pathname: '/postgres' }).toString(),
  });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

function scratchUrl(name: string): string {
  return Object.assign(new URL(process.env.DATABASE_URL ?? ''), { pathname: `/${name}` }).toString();
}

describe('the generated Prisma client over adapter-pg', () => {
  const name = `bootpt_t_client_${randomBytes(4).toString('hex')}`;
  const db = { url: '' };
  let prisma: ReturnType<typeof createDb>;

  beforeAll(async () => {
    await onServer(`CREATE DATABASE "${name}"`);
    db.url = scratchUrl(name);
    await deployMigrations(db.url, MIGRATIONS_DIR);
    prisma = createDb(db.url);
  });
  afterAll(async () => {
    await prisma?.$disconnect();
    await disconnectDb();
    await onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });

  it('creates and reads back a site, a subnet and a host', async () => {
    const site = await prisma.site.create({ data: { name: 'Lab', timezone: 'Europe/Berlin' } });
    const subnet = await prisma.subnet.create({
      data: {
        siteId: site.id,
        name: 'lab-net',
        cidr: '10.20.0.0/24',
        gateway: '10.20.0.1',
        dnsServers: ['10.20.0.1', '1.1.1.1'],
        multicastRangeStart: '239.1.1.1',
        multicastRangeEnd: '239.1.1.254',
      },
    });
    const host = await prisma.host.create({
      data: {
        mac: '52:54:00:12:34:56',
        hostname: 'node-01',
        ipv4: '10.20.0.11',
        subnetId: subnet.id,
        siteId: site.id,
        architecture: 'X86_64_UEFI',
        tags: ['rack-a', 'kiosk'],
        powerDriver: 'REDFISH',
        powerParams: { address: '10.20.1.11', username: 'admin' },
      },
    });

    const found = await prisma.host.findUniqueOrThrow({
      where: { mac: '52:54:00:12:34:56' },
      include: { subnet: true, site: true },
    });
    expect(found).toMatchObject({
      id: host.id,
      hostname: 'node-01',
      ipv4: '10.20.0.11',
      architecture: 'X86_64_UEFI',
      tags: ['rack-a', 'kiosk'],
      state: 'UNKNOWN',
      powerDriver: 'REDFISH',
      powerParams: { address: '10.20.1.11', username: 'admin' },
      site: { name: 'Lab', timezone: 'Europe/Berlin' },
      subnet: { cidr: '10.20.0.0/24', dnsServers: ['10.20.0.1', '1.1.1.1'], leaseTimeSeconds: 3600 },
    });
    expect(found.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/); // UUIDv7
    expect(found.createdAt).toBeInstanceOf(Date);

    const tagged = await prisma.host.findMany({ where: { tags: { has: 'kiosk' } }, select: { id: true } });
    expect(tagged).toEqual([{ id: host.id }]);
  });

  it('enforces what the schema promises: unique reservations, normalized MACs, host site = subnet site', async () => {
    const site = await prisma.site.create({ data: { name: 'Edge' } });
    const other = await prisma.site.create({ data: { name: 'Elsewhere' } });
    const subnet = await prisma.subnet.create({
      data: { siteId: site.id, name: 'edge', cidr: '10.30.0.0/24' },
    });
    const base = { subnetId: subnet.id, siteId: site.id };
    await prisma.host.create({
      data: { ...base, mac: '52:54:00:00:00:01', hostname: 'a', ipv4: '10.30.0.5' },
    });

    await expect(
      prisma.host.create({ data: { ...base, mac: '52:54:00:00:00:02', hostname: 'b', ipv4: '10.30.0.5' } }),
    ).rejects.toThrow(/Unique constraint/);
    await expect(
      prisma.host.create({ data: { ...base, mac: '52:54:00:00:00:0A', hostname: 'c' } }),
    ).rejects.toThrow(/hosts_mac_normalized/);
    await expect(
      prisma.host.create({
        data: { subnetId: subnet.id, siteId: other.id, mac: '52:54:00:00:00:03', hostname: 'd' },
      }),
    ).rejects.toThrow(/Foreign key constraint/);
    await expect(
      prisma.subnet.create({ data: { siteId: site.id, name: 'bad', cidr: '10.40.0.7/24' } }),
    ).rejects.toThrow(/subnets_cidr_is_v4_network/);
  });

  it('keeps one process-wide client per URL', async () => {
    const client = getDb(db.url);
    expect(getDb(db.url)).toBe(client);
    expect(() => getDb(`${db.url}_other`)).toThrow(/different database URL/);
    expect(await client.site.count()).toBeGreaterThan(0);
    await disconnectDb();
    await disconnectDb();
    expect(getDb(db.url)).not.toBe(client);
    await disconnectDb();
  });
});
