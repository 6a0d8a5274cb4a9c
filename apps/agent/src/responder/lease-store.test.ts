import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaseTable, type Lease } from './lease-table.js';
import { LeaseStore, type LeaseSource } from './lease-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpt-agent-leases-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lease = (ip: number, over: Partial<Lease> = {}): Lease => ({
  ip,
  client: `mac:${ip}`,
  mac: 'x',
  subnet: 's',
  state: 'bound',
  expiresAt: 9_000,
  ...over,
});

const byIp = (leases: readonly Lease[]) => [...leases].sort((a, b) => a.ip - b.ip);

/** A table holding `leases`, with those changes pending for the store. */
function tableWith(...leases: Lease[]): LeaseTable {
  const t = new LeaseTable();
  for (const l of leases) expect(t.put(l, 0)).toBe(true);
  return t;
}

describe('LeaseStore', () => {
  it('returns nothing when no file exists yet', async () => {
    expect(await new LeaseStore(join(dir, 'sub', 'leases.json')).load()).toEqual([]);
  });

  it('appends changes to the journal, reloads them, and leaves no temp files behind', async () => {
    const store = new LeaseStore(join(dir, 'sub', 'leases.json'));
    const table = tableWith(lease(1), lease(2));
    await store.save(table);
    expect(await readdir(join(dir, 'sub'))).toEqual(['leases.json.journal']);
    table.put(lease(2, { expiresAt: 12_000 }), 0);
    table.put(lease(3), 0);
    await store.save(table);
    const lines = (await readFile(store.journalPath, 'utf8')).trimEnd().split('\n');
    expect(JSON.parse(lines[0]!)).toEqual({ generation: 0 });
    expect(lines).toHaveLength(1 + 2 + 2); // header, first save, second save
    const loaded = await new LeaseStore(store.path).loadReport();
    expect(byIp(loaded.leases)).toEqual([lease(1), lease(2, { expiresAt: 12_000 }), lease(3)]);
    expect(loaded).toMatchObject({ replayed: 4, malformed: 0, tornTail: false });
    await store.close();
  });

  it('folds concurrent saves into one follow-up write (group commit)', async () => {
    const store = new LeaseStore(join(dir, 'leases.json'));
    const table = new LeaseTable();
    let takes = 0;
    const source: LeaseSource = {
      all: () => table.all(),
      takeChanges: () => {
        takes++;
        return table.takeChanges();
      },
    };
    const saves = [1, 2, 3, 4, 5].map((n) => {
      table.put(lease(n), 0);
      return store.save(source);
    });
    await Promise.all(saves);
    expect(takes).toBeLessThanOrEqual(2);
    expect(byIp(await new LeaseStore(store.path).load())).toEqual([1, 2, 3, 4, 5].map((n) => lease(n)));
    await store.close();
  });

  it('compacts into a new snapshot generation once the journal outgrows the snapshot', async () => {
    const store = new LeaseStore(join(dir, 'leases.json'), { compactAtBytes: 300 });
    const table = new LeaseTable();
    for (let round = 0; round < 20; round++) {
      table.put(lease(round % 4, { expiresAt: 10_000 + round }), 0);
      await store.save(table);
    }
    const snapshot = JSON.parse(await readFile(store.path, 'utf8')) as { generation: number };
    expect(snapshot.generation).toBeGreaterThanOrEqual(2);
    const header = JSON.parse((await readFile(store.journalPath, 'utf8')).split('\n')[0]!) as unknown;
    expect(header).toEqual({ generation: snapshot.generation });
    expect(store.journalSize).toBeLessThanOrEqual(Math.max(300, (await readFile(store.path)).length) + 200);
    expect(byIp(await new LeaseStore(store.path).load())).toEqual(byIp(table.all()));
    expect((await readdir(dir)).sort()).toEqual(['leases.json', 'leases.json.journal']);
    await store.close();
  });

  it('folds the journal into a snapshot when closed with a checkpoint', async () => {
    const store = new LeaseStore(join(dir, 'leases.json'));
    const table = tableWith(lease(1), lease(2));
    await store.save(table);
    await store.close(table);
    const snapshot = JSON.parse(await readFile(store.path, 'utf8')) as {
      generation: number;
      leases: Lease[];
    };
    expect(snapshot.generation).toBe(1);
    expect(byIp(snapshot.leases)).toEqual([lease(1), lease(2)]);
    expect(await readFile(store.journalPath, 'utf8')).toBe('{"generation":1}\n');
    const report = await new LeaseStore(store.path).loadReport();
    expect(report.replayed).toBe(0);
    expect(byIp(report.leases)).toEqual([lease(1), lease(2)]);
  });

  it('replays forgotten addresses (prune) as deletions', async () => {
    const store = new LeaseStore(join(dir, 'leases.json'));
    const table = tableWith(lease(1, { expiresAt: 5 }), lease(2));
    await store.save(table);
    expect(table.prune(1_000, 10)).toBe(1);
    await store.save(table);
    expect(await new LeaseStore(store.path).load()).toEqual([lease(2)]);
    await store.close();
  });

  it('journals the address a client moved away from', async () => {
    const store = new LeaseStore(join(dir, 'leases.json'));
    const table = tableWith(lease(1, { client: 'mac:a' }));
    await store.save(table);
    table.put(lease(2, { client: 'mac:a' }), 0);
    await store.save(table);
    expect(await new LeaseStore(store.path).load()).toEqual([lease(2, { client: 'mac:a' })]);
    await store.close();
  });

  it('drops a torn last line (an append cut short was never acknowledged) and rewrites at the next write', async () => {
    const store = new LeaseStore(join(dir, 'leases.json'));
    const table = tableWith(lease(1));
    await store.save(table);
    await store.close();
    await appendFile(store.journalPath, '{"ip":2,"lease":{"ip":2,"cli');
    const again = new LeaseStore(store.path);
    const report = await again.loadReport();
    expect(report).toMatchObject({ leases: [lease(1)], tornTail: true, replayed: 1 });
    const reloaded = new LeaseTable();
    reloaded.load(report.leases);
    reloaded.put(lease(3), 0);
    await again.save(reloaded);
    expect(await readFile(again.journalPath, 'utf8')).not.toContain('"cli\n');
    expect(byIp(await new LeaseStore(store.path).load())).toEqual([lease(1), lease(3)]);
    await again.close();
  });

  it('refuses a journal damaged in the middle, naming the line', async () => {
    const path = join(dir, 'leases.json');
    await writeFile(
      `${path}.journal`,
      `{"generation":0}\n${JSON.stringify({ ip: 1, lease: lease(1) })}\nnot json\n${JSON.stringify({ ip: 2, lease: lease(2) })}\n`,
    );
    await expect(new LeaseStore(path).load()).rejects.toThrow(/leases\.json\.journal:3: unreadable/);
  });

  it('ignores a journal of an older generation (a crash between the snapshot and the new journal)', async () => {
    const path = join(dir, 'leases.json');
    await writeFile(path, JSON.stringify({ version: 1, generation: 2, leases: [lease(1), lease(2)] }));
    await writeFile(`${path}.journal`, `{"generation":1}\n${JSON.stringify({ ip: 1, lease: null })}\n`);
    const report = await new LeaseStore(path).loadReport();
    expect(byIp(report.leases)).toEqual([lease(1), lease(2)]);
    expect(report.replayed).toBe(0);
  });

  it('reads a snapshot written before the journal existed (generation 0) with its journal', async () => {
    const path = join(dir, 'leases.json');
    await writeFile(path, JSON.stringify({ version: 1, leases: [lease(1)] }));
    await writeFile(`${path}.journal`, `{"generation":0}\n${JSON.stringify({ ip: 2, lease: lease(2) })}\n`);
    expect(byIp(await new LeaseStore(path).load())).toEqual([lease(1), lease(2)]);
  });

  it('rejects a foreign file and drops malformed entries', async () => {
    const path = join(dir, 'leases.json');
    await writeFile(path, JSON.stringify({ version: 2 }));
    await expect(new LeaseStore(path).load()).rejects.toThrow(/version 1/);
    await writeFile(path, JSON.stringify({ version: 1, leases: [lease(1), { ip: 'x' }] }));
    const report = await new LeaseStore(path).loadReport();
    expect(report.leases).toEqual([lease(1)]);
    expect(report.malformed).toBe(1);
  });

  it('after every acknowledged save, a fresh load equals the table (seeded random histories)', async () => {
    type Op =
      | { kind: 'put'; ip: number; client: number; expiresAt: number; state: 'offered' | 'bound' }
      | { kind: 'release'; ip: number; client: number }
      | { kind: 'decline'; ip: number; client: number }
      | { kind: 'prune'; advance: number }
      | { kind: 'save' };
    const ip = fc.integer({ min: 1, max: 12 });
    const client = fc.integer({ min: 1, max: 6 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant('put' as const),
        ip,
        client,
        expiresAt: fc.integer({ min: 0, max: 5_000 }),
        state: fc.constantFrom('offered' as const, 'bound' as const),
      }),
      fc.record({ kind: fc.constant('release' as const), ip, client }),
      fc.record({ kind: fc.constant('decline' as const), ip, client }),
      fc.record({ kind: fc.constant('prune' as const), advance: fc.integer({ min: 0, max: 3_000 }) }),
      fc.constant({ kind: 'save' as const }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 80 }),
        fc.integer({ min: 64, max: 20_000 }),
        async (ops, compact) => {
          const path = join(dir, `run-${run++}`, 'leases.json');
          const store = new LeaseStore(path, { compactAtBytes: compact });
          const table = new LeaseTable();
          let now = 1_000;
          for (const o of ops) {
            const key = `mac:${'client' in o ? o.client : 0}`;
            if (o.kind === 'put')
              table.put(
                { ip: o.ip, client: key, mac: key, subnet: 's', state: o.state, expiresAt: o.expiresAt },
                now,
              );
            else if (o.kind === 'release') table.release(o.ip, key, now);
            else if (o.kind === 'decline') table.decline(o.ip, key, key, 's', 500, now);
            else if (o.kind === 'prune') {
              now += o.advance; // time passes: leases expire and are forgotten
              table.prune(now, 0);
            } else {
              await store.save(table);
              expect(byIp(await new LeaseStore(path).load())).toEqual(byIp(table.all()));
            }
          }
          await store.save(table);
          await store.close();
          expect(byIp(await new LeaseStore(path).load())).toEqual(byIp(table.all()));
        },
      ),
      { seed: 0x1ea5e, numRuns: 60 },
    );
  });
});
