import { describe, expect, it } from 'vitest';
import { LeaseTable, type Lease } from './lease-table.js';

const lease = (ip: number, client: string, state: Lease['state'] = 'bound', expiresAt = 1000): Lease => ({
  ip,
  client,
  mac: client,
  subnet: 's',
  state,
  expiresAt,
});

describe('LeaseTable', () => {
  it('never gives one address to two live clients', () => {
    const t = new LeaseTable();
    expect(t.put(lease(10, 'a'), 0)).toBe(true);
    expect(t.isFreeFor(10, 'b', 500)).toBe(false);
    expect(t.put(lease(10, 'b'), 500)).toBe(false);
    expect(t.at(10)?.client).toBe('a');
    expect(t.isFreeFor(10, 'b', 1000)).toBe(true);
    expect(t.put(lease(10, 'b', 'bound', 5000), 1000)).toBe(true);
    expect(t.ofClient('a')).toBeUndefined();
    expect(t.ofClient('b')?.ip).toBe(10);
  });

  it('moves a client to a new address and frees the old one', () => {
    const t = new LeaseTable();
    t.put(lease(10, 'a'), 0);
    t.put(lease(11, 'a'), 0);
    expect(t.at(10)).toBeUndefined();
    expect(t.ofClient('a')?.ip).toBe(11);
    expect(t.size).toBe(1);
  });

  it('release keeps the memory of the client but frees the address', () => {
    const t = new LeaseTable();
    t.put(lease(10, 'a', 'bound', 10_000), 0);
    expect(t.release(10, 'b', 5)).toBe(false);
    expect(t.release(10, 'a', 5)).toBe(true);
    expect(t.isFreeFor(10, 'b', 5)).toBe(true);
    expect(t.ofClient('a')?.ip).toBe(10);
  });

  it('quarantines a declined address even from the client that declined it', () => {
    const t = new LeaseTable();
    t.put(lease(10, 'a', 'offered', 100), 0);
    t.decline(10, 'a', 'a', 's', 600, 50);
    expect(t.isFreeFor(10, 'a', 100)).toBe(false);
    expect(t.isFreeFor(10, 'b', 649)).toBe(false);
    expect(t.isFreeFor(10, 'b', 650)).toBe(true);
    expect(t.ofClient('a')).toBeUndefined();
  });

  it('counts by state and prunes old expired entries', () => {
    const t = new LeaseTable();
    t.put(lease(1, 'a', 'bound', 100), 0);
    t.put(lease(2, 'b', 'offered', 100), 0);
    t.put(lease(3, 'c', 'bound', 10), 0);
    expect(t.counts(50)).toEqual({ offered: 1, bound: 1, declined: 0, expired: 1 });
    expect(t.prune(50, 30)).toBe(1);
    expect(t.size).toBe(2);
  });

  it('loading skips entries that would put two clients on one address', () => {
    const t = new LeaseTable();
    const skipped = t.load([
      lease(1, 'a'),
      lease(1, 'b'),
      lease(2, 'c', 'bound', 5),
      lease(3, 'c', 'bound', 50),
    ]);
    expect(skipped).toBe(1);
    expect(t.at(1)?.client).toBe('a');
    expect(t.ofClient('c')?.ip).toBe(3);
    expect(t.at(2)).toBeUndefined();
  });

  it('moves one client through offered → bound on one record, seen the same way by both indexes', () => {
    const t = new LeaseTable();
    expect(t.put(lease(7, 'a', 'offered', 100), 0)).toBe(true);
    const record = t.at(7);
    const version = t.changes;
    expect(t.put(lease(7, 'a', 'bound', 5000), 50)).toBe(true);
    expect(t.changes).toBe(version + 1);
    expect(t.at(7)).toBe(record);
    expect(t.ofClient('a')).toBe(record);
    expect(t.all()).toEqual([lease(7, 'a', 'bound', 5000)]);
    // Another client, or a hostname to add, still gets a record of its own.
    expect(t.put(lease(7, 'b', 'offered', 9000), 6000)).toBe(true);
    expect(t.at(7)).not.toBe(record);
    expect(t.ofClient('a')).toBeUndefined();
    expect(t.put({ ...lease(7, 'b', 'bound', 9500), hostname: 'h' }, 6000)).toBe(true);
    expect(t.at(7)).toEqual({ ...lease(7, 'b', 'bound', 9500), hostname: 'h' });
  });
});
