import { join } from 'node:path';
import { rendezvousOrder } from '@bootpt/protocol/turbo/index';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess } from '../testing/agent-process.js';
import { netnsUnavailable, sh, TestLan } from '../testing/netns.js';

/**
 * Two agents on one subnet (SPEC §9): both know the subnet's agent ids, each holds its offer back by its
 * rendezvous rank for the client, so the client hears the preferred agent first and the other ~200 ms
 * later, with no coordination between the agents.
 */

const skipReason = await netnsUnavailable();
const tag = process.pid % 100000;
const octet = 100 + (process.pid % 60) * 2 + 40;
const net = `10.214.${octet}`;
const AGENTS = { 'agent-a': `${net}.1`, 'agent-b': `${net}.2` } as const;
const DIGEST = 'ab'.repeat(32);
const PROBE = join(import.meta.dirname, '../testing/turbo-probe.ts');
const mac = (n: number) =>
  `02:43:${((tag >> 8) & 255).toString(16).padStart(2, '0')}:${(tag & 255).toString(16).padStart(2, '0')}:00:${n.toString(16).padStart(2, '0')}`;
const chaddr = (m: string) => Uint8Array.from(m.split(':').map((h) => parseInt(h, 16)));

const site = {
  subnets: [{ id: 'shared', cidr: `${net}.0/24`, profile: 'p', agents: Object.keys(AGENTS) }],
  profiles: [{ id: 'p', bootFiles: { default: 'pxelinux.0' }, manifest: DIGEST }],
  manifests: [{ digest: DIGEST }],
  hosts: [1, 2, 3, 4, 5, 6].map((n) => ({ mac: mac(n), ip: `${net}.${10 + n}` })),
};

describe.skipIf(skipReason !== undefined)(
  `several agents on one subnet${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    const lan = new TestLan(`bpt-ag-${tag}m`);
    const agents: AgentProcess[] = [];

    beforeAll(async () => {
      await lan.create();
      for (const [id, address] of Object.entries(AGENTS)) {
        const ns = await lan.addHost(id, { cidr: `${address}/24` });
        agents.push(
          await AgentProcess.start(lan, {
            ns,
            site,
            config: { agentId: id, responder: { interfaces: ['eth0'] }, log: { level: 'debug' } },
          }),
        );
      }
    }, 60_000);

    afterAll(async () => {
      for (const a of agents) await a.cleanup();
      await lan.destroy();
    });

    it('the preferred agent answers first and the other one rank-delayed', async () => {
      const preferred = new Set<string>();
      for (const n of [1, 2, 3, 4, 5, 6]) {
        const ns = await lan.addHost(`c${n}`, { mac: mac(n) });
        await sh('ip', ['-n', ns, 'route', 'add', '255.255.255.255/32', 'dev', 'eth0']);
        const r = await lan.exec(
          ns,
          process.execPath,
          ['--conditions=source', '--import', 'tsx', PROBE, mac(n)],
          20_000,
        );
        expect(r.code, r.stderr).toBe(0);
        const order = rendezvousOrder(chaddr(mac(n)), Object.keys(AGENTS));
        const first = JSON.parse(r.stdout.split('\n')[0]!) as {
          serverId: string;
          turbo: { manifestDigest: string };
        };
        expect(first.serverId).toBe(AGENTS[order[0] as keyof typeof AGENTS]);
        expect(first.turbo.manifestDigest).toBe(DIGEST);
        preferred.add(order[0]!);
      }
      expect(preferred.size).toBe(2);
    });

    it('both offers reach the client, about one rank step apart', async () => {
      const ns = await lan.addHost('both', { mac: mac(1) });
      await sh('ip', ['-n', ns, 'route', 'add', '255.255.255.255/32', 'dev', 'eth0']);
      const r = await lan.exec(
        ns,
        'env',
        ['COLLECT_MS=900', process.execPath, '--conditions=source', '--import', 'tsx', PROBE, mac(1)],
        20_000,
      );
      expect(r.code, r.stderr).toBe(0);
      const offers = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { atMs: number; serverId: string });
      expect(offers.map((o) => o.serverId).sort()).toEqual(Object.values(AGENTS).sort());
      const gap = offers[1]!.atMs - offers[0]!.atMs;
      expect(gap).toBeGreaterThanOrEqual(150);
      expect(gap).toBeLessThan(600);
    });
  },
);
