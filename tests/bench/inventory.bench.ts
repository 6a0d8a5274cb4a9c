/**
 * Inventory at fleet size: imports 10,000 hosts from CSV through the import procedure (timed), then
 * times the host-list procedure (permission check, zod, Prisma, count) on filtered, sorted, paginated
 * pages. Everything runs against the DATABASE_URL it is given; the data it creates is removed at the end.
 * There is no peer implementation to compare with, so no ratios: the targets are in the notes.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { disconnectDb, getDb } from '../../apps/web/src/server/db/client';
import { createCaller } from '../../apps/web/src/server/api/root';
import type { HostListInput } from '../../apps/web/src/server/services/hosts';
import { percentile, result, type BenchResult, type Benchmark } from './lib.js';

const HOSTS = 10_000;
const STATES = ['UNKNOWN', 'BOOTING', 'UP', 'FAILED', 'MAINTENANCE', 'REBOOTING'] as const;

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

const bench: Benchmark = async ({ quick }) => {
  const db = getDb();
  const tag = randomUUID().slice(0, 8);
  const admin = await db.user.create({
    data: { email: `bench-${tag}@bench.bootpt`, name: 'Inventory bench', role: 'ADMIN' },
  });
  const api = createCaller({
    db,
    auth: { identity: { kind: 'user', userId: admin.id, label: admin.email, role: 'ADMIN' } },
    ip: '127.0.0.1',
    userAgent: 'inventory-bench',
  });
  const siteIds: string[] = [];
  const subnetIds: string[] = [];
  try {
    // 4 sites × 2 subnets (/19, 8,190 usable addresses each); 10,000 hosts spread over them.
    const subnets: { site: string; name: string; base: string }[] = [];
    for (let s = 0; s < 4; s++) {
      const site = await api.site.create({ name: `bench-${tag}-site-${s}` });
      siteIds.push(site.id);
      for (let n = 0; n < 2; n++) {
        const base = `10.${200 + s}.${n * 32}`;
        const subnet = await api.subnet.create({ siteId: site.id, name: `net-${n}`, cidr: `${base}.0/19` });
        subnetIds.push(subnet.id);
        subnets.push({ site: site.name, name: subnet.name, base });
      }
    }
    const macTag = tag.slice(0, 2);
    const rows = ['hostname,mac,ipv4,site,subnet,architecture,tags,failure_domain'];
    for (let i = 0; i < HOSTS; i++) {
      const sn = subnets[i % subnets.length]!;
      const k = Math.floor(i / subnets.length) + 10;
      const [b2, b3] = sn.base.split('.').slice(1).map(Number) as [number, number];
      const ip = `10.${b2}.${b3 + Math.floor(k / 256)}.${k % 256}`;
      const mac = `02:${macTag}:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:b0`;
      rows.push(
        `node-${String(i).padStart(5, '0')},${mac},${k % 256 === 0 || k % 256 === 255 ? '' : ip},${sn.site},${sn.name},X86_64_UEFI,rack-${i % 40};role-${i % 7},rack-${i % 40}`,
      );
    }
    const csv = rows.join('\n');

    const t0 = performance.now();
    const report = await api.host.import({ csv, dryRun: false });
    const importSeconds = (performance.now() - t0) / 1000;
    if (report.created !== HOSTS) {
      throw new Error(
        `import created ${report.created} of ${HOSTS}: ${JSON.stringify(report.errors.slice(0, 3))}`,
      );
    }
    // Spread states so the state filter selects a realistic share.
    await db.$executeRawUnsafe(
      `UPDATE hosts SET state = (ARRAY['${STATES.join("','")}'])[1 + (abs(hashtext(mac)) % ${STATES.length})]::host_state WHERE site_id = ANY($1::uuid[])`,
      siteIds,
    );
    await db.$executeRawUnsafe('ANALYZE hosts');

    const queries: Partial<HostListInput>[] = [
      { siteId: siteIds[0], state: 'UP', sort: 'hostname' },
      { subnetId: subnetIds[3], sort: 'ipv4', order: 'desc' },
      { tag: 'rack-7', sort: 'state' },
      { q: 'node-04', sort: 'hostname' },
      { q: `02:${macTag}:00:1`, sort: 'mac' },
      { siteId: siteIds[2], tag: 'role-3', state: 'FAILED', sort: 'lastBootAt', order: 'desc' },
      { sort: 'site' },
      { siteId: siteIds[1], sort: 'hostname', page: 40 },
    ];
    const runs = quick ? 80 : 400;
    for (let i = 0; i < 16; i++) await api.host.list({ ...queries[i % queries.length]!, pageSize: 50 });
    const times: number[] = [];
    const byQuery = queries.map(() => [] as number[]);
    for (let i = 0; i < runs; i++) {
      const input = { pageSize: 50, page: 1 + (i % 5), ...queries[i % queries.length]! } as HostListInput;
      const t = performance.now();
      await api.host.list(input);
      const ms = performance.now() - t;
      times.push(ms);
      byQuery[i % queries.length]!.push(ms);
    }
    times.sort((a, b) => a - b);
    for (const [i, q] of queries.entries()) {
      const sorted = byQuery[i]!.sort((a, b) => a - b);
      const shape = Object.entries(q)
        .map(([k, v]) => (k.endsWith('Id') ? k : `${k}=${String(v)}`))
        .join(' ');
      console.log(
        `    list ${shape.padEnd(52)} p50 ${round(percentile(sorted, 50))} ms, p95 ${round(percentile(sorted, 95))} ms`,
      );
    }

    const te = performance.now();
    const exported = await api.host.export({ siteId: siteIds[0] });
    const exportMs = performance.now() - te;

    const note = `${HOSTS} hosts; ${runs} filtered/sorted pages of 50 (site, subnet, tag, state, search, deep page) through the tRPC procedure; no peer implementation exists`;
    const out: BenchResult[] = [
      result(
        'inventory',
        'host list p50 (10k hosts, 50 per page)',
        round(percentile(times, 50)),
        'ms',
        'lower',
        {},
        note,
      ),
      result(
        'inventory',
        'host list p95 (10k hosts, 50 per page)',
        round(percentile(times, 95)),
        'ms',
        'lower',
        {},
        `${note}; target < 100 ms`,
      ),
      result(
        'inventory',
        'CSV import of 10,000 hosts',
        round(importSeconds),
        's',
        'lower',
        {},
        'host.import procedure: parse, validate every row, one transaction; no peer implementation exists; target < 10 s',
      ),
      result(
        'inventory',
        `CSV export of one site (${exported.count} hosts)`,
        round(exportMs),
        'ms',
        'lower',
        {},
        'no peer implementation exists',
      ),
    ];
    return out;
  } finally {
    await db.host.deleteMany({ where: { siteId: { in: siteIds } } });
    await db.subnet.deleteMany({ where: { id: { in: subnetIds } } });
    await db.site.deleteMany({ where: { id: { in: siteIds } } });
    await disconnectDb();
  }
};

export default bench;
