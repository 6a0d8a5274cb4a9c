import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Lease } from './lease-table.js';
import { LeaseStore } from './lease-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpt-agent-leases-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lease = (ip: number): Lease => ({
  ip,
  client: `mac:${ip}`,
  mac: 'x',
  subnet: 's',
  state: 'bound',
  expiresAt: 9,
});

describe('LeaseStore', () => {
  it('returns nothing when no file exists yet', async () => {
    expect(await new LeaseStore(join(dir, 'sub', 'leases.json')).load()).toEqual([]);
  });

  it('round-trips leases and leaves no temp files behind', async () => {
    const store = new LeaseStore(join(dir, 'sub', 'leases.json'));
    await store.save(() => [lease(1), lease(2)]);
    expect(await new LeaseStore(store.path).load()).toEqual([lease(1), lease(2)]);
    expect(await readdir(join(dir, 'sub'))).toEqual(['leases.json']);
  });

  it('coalesces concurrent saves into the newest snapshot', async () => {
    const store = new LeaseStore(join(dir, 'leases.json'));
    let calls = 0;
    const snapshots = [1, 2, 3, 4, 5].map((n) => () => {
      calls++;
      return [lease(n)];
    });
    await Promise.all(snapshots.map((s) => store.save(s)));
    await store.flush();
    expect(calls).toBeLessThanOrEqual(2);
    expect(await store.load()).toEqual([lease(5)]);
  });

  it('rejects a foreign file and drops malformed entries', async () => {
    const path = join(dir, 'leases.json');
    await writeFile(path, JSON.stringify({ version: 2 }));
    await expect(new LeaseStore(path).load()).rejects.toThrow(/version 1/);
    await writeFile(path, JSON.stringify({ version: 1, leases: [lease(1), { ip: 'x' }] }));
    expect(await new LeaseStore(path).load()).toEqual([lease(1)]);
    expect(JSON.parse(await readFile(path, 'utf8'))).toHaveProperty('version', 1);
  });
});
