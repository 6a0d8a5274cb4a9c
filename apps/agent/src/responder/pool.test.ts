import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SiteView } from '../backend/site.js';
import { LeaseTable } from './lease-table.js';
import { PoolAllocator } from './pool.js';

const site = SiteView.parse({
  subnets: [{ id: 'lab', cidr: '10.214.1.0/24', pool: { start: '10.214.1.100', end: '10.214.1.104' } }],
  hosts: [{ mac: '02:00:00:00:00:01', ip: '10.214.1.102' }],
});
const subnet = site.subnets[0]!;
const ip = (last: number) => ((10 << 24) | (214 << 16) | (1 << 8) | last) >>> 0;

function setup() {
  const table = new LeaseTable();
  const pool = new PoolAllocator();
  const base = {
    subnet,
    table,
    isReserved: (n: number) => site.hostByIp(n) !== undefined,
    excluded: new Set([ip(103)]),
  };
  const take = (client: string, now: number, requested?: number) => {
    const got = pool.allocate({ ...base, client, requested, now });
    if (got !== undefined)
      table.put({ ip: got, client, mac: client, subnet: 'lab', state: 'bound', expiresAt: now + 100 }, now);
    return got;
  };
  return { table, take };
}

describe('PoolAllocator', () => {
  it('skips reserved and excluded addresses and runs out cleanly', () => {
    const { take } = setup();
    expect([take('a', 0), take('b', 0), take('c', 0), take('d', 0)]).toEqual([
      ip(100),
      ip(101),
      ip(104),
      undefined,
    ]);
  });

  it('gives a client its previous address back, then honours option 50 when free', () => {
    const { take } = setup();
    expect(take('a', 0)).toBe(ip(100));
    expect(take('a', 10)).toBe(ip(100));
    expect(take('b', 10, ip(104))).toBe(ip(104));
    expect(take('c', 10, ip(104))).toBe(ip(101));
    expect(take('d', 10, ip(102))).toBeUndefined();
  });

  it('reuses expired addresses', () => {
    const { take } = setup();
    take('a', 0);
    take('b', 0);
    take('c', 0);
    expect(take('d', 50)).toBeUndefined();
    expect(take('d', 100)).toBeDefined();
  });

  it('never hands one address to two live clients (seeded property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 6 }),
            fc.integer({ min: 0, max: 300 }),
            fc.option(fc.integer({ min: 95, max: 110 })),
          ),
          {
            maxLength: 60,
          },
        ),
        (ops) => {
          const { table, take } = setup();
          let now = 0;
          for (const [client, dt, req] of ops) {
            now += dt;
            take(`c${client}`, now, req === null ? undefined : ip(req));
            const live = table.all().filter((l) => l.expiresAt > now);
            const owners = new Set(live.map((l) => l.ip));
            expect(owners.size).toBe(live.length);
            for (const l of live) {
              expect(l.ip === ip(102) || l.ip === ip(103)).toBe(false);
              expect(l.ip).toBeGreaterThanOrEqual(ip(100));
              expect(l.ip).toBeLessThanOrEqual(ip(104));
            }
          }
        },
      ),
      { seed: 0x5eed, numRuns: 200 },
    );
  });
});
