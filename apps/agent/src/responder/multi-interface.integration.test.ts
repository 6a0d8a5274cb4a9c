import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasNetns, TestLan } from '../../../../tests/lib/netns.js';
import { AgentProcess } from '../testing/agent-process.js';
import { loadSockoptBinder } from './listener.js';

/**
 * One agent serving two subnets from two interfaces (`eth0` on one bridge, `eth1` on another), with a
 * dynamic pool on each and no reservations: a broadcast DISCOVER from an unknown client carries nothing
 * that names its subnet, so only the interface it arrived on can. With a per-interface broadcast socket
 * (SO_BINDTOIFINDEX through `sockopt`) each busybox udhcpc must lease from its own subnet's pool, from its
 * own interface's address, and nothing is dropped as `wrong_interface`. Namespaces `bpt-mi-<pid>-*`.
 */

const netns = hasNetns();
const binder = loadSockoptBinder();
// The fallback (no `sockopt` binary) is expected to fail this test: say so instead.
const capability =
  typeof binder === 'function' || !netns.ok ? netns : { ok: false, reason: binder.unavailable };
const NET = ['10.216.1', '10.216.2'] as const;
const SERVER = NET.map((n) => `${n}.1`);

const site = {
  subnets: NET.map((n, i) => ({
    id: `lan${i + 1}`,
    cidr: `${n}.0/24`,
    routers: [`${n}.1`],
    pool: { start: `${n}.100`, end: `${n}.149` },
    profile: 'default',
  })),
  profiles: [{ id: 'default', bootFiles: { default: 'pxelinux.0' } }],
  hosts: [],
};

// Both socket paths: the add-on sets SO_BINDTOIFINDEX before bind, node:dgram through `sockopt` after it.
for (const sockets of ['native', 'dgram'] as const)
  describe.skipIf(!capability.ok)(
    `agent on two interfaces, ${sockets} sockets${capability.ok ? '' : ` (skipped: ${capability.reason})`}`,
    () => {
      const lans: TestLan[] = [];
      let agent: AgentProcess | undefined;
      let work: string;

      beforeAll(async () => {
        work = await mkdtemp(join(tmpdir(), 'bpt-mi-'));
        // LAN 1: the agent (eth0, .1) and a client; LAN 2: a client, and the agent's second leg (eth1, .1).
        lans.push(
          await TestLan.create({ subnet: NET[0], tag: 'mi', hosts: [{ hostOctet: 1 }, { hostOctet: null }] }),
        );
        lans.push(await TestLan.create({ subnet: NET[1], tag: 'mi', hosts: [{ hostOctet: null }] }));
        const agentNs = lans[0]!.host(1).namespace;
        lans[1]!.connect(agentNs, 'eth1', SERVER[1]);
        agent = await AgentProcess.start(lans[0]!, {
          namespace: agentNs,
          site,
          config: {
            responder: {
              interfaces: ['eth0', 'eth1'],
              nativeSockets: sockets === 'native' ? 'required' : 'off',
            },
            log: { level: 'debug' },
          },
        });
      }, 60_000);

      afterAll(async () => {
        await agent?.cleanup();
        // LAN 2 first: its veth into the agent's namespace goes with either side.
        for (const lan of [...lans].reverse()) await lan.destroy();
        if (work) await rm(work, { recursive: true, force: true });
      });

      async function udhcpc(lan: TestLan, name: string): Promise<Record<string, string>> {
        const hook = join(work, `${name}.hook.sh`);
        const out = join(work, `${name}.env`);
        await writeFile(hook, `#!/bin/sh\n[ "$1" = bound ] && env > "${out}"\nexit 0\n`);
        await chmod(hook, 0o755);
        const client = lan.hosts.find((h) => h.address === null)!;
        const argv = ['busybox', 'udhcpc', '-i', 'eth0', '-f', '-q', '-n', '-t', '4', '-T', '1', '-s', hook];
        const r = await lan.exec(client.namespace, argv, { timeoutMs: 15_000 });
        expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
        const text = await readFile(out, 'utf8');
        return Object.fromEntries(
          text.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
        );
      }

      it('starts with one broadcast socket per interface', async () => {
        const listening = agent!.logLines.find((l) => l.includes('"responder listening"'));
        expect(listening).toContain('"broadcast":"per_interface"');
        expect(listening).toContain(`"sockets":"${sockets}"`);
        expect(
          await agent!.metric('bootpt_agent_responder_broadcast_sockets', { mode: 'per_interface' }),
        ).toBe(2);
        expect(await agent!.metric('bootpt_agent_responder_broadcast_sockets', { mode: 'shared' })).toBe(0);
      });

      it("each pool client leases from its own interface's subnet, at the same time", async () => {
        const [one, two] = await Promise.all([udhcpc(lans[0]!, 'lan1'), udhcpc(lans[1]!, 'lan2')]);
        for (const [i, env] of [one, two].entries()) {
          expect(env.ip, `client on ${NET[i]}`).toMatch(
            new RegExp(`^${NET[i]!.replaceAll('.', '\\.')}\\.1[0-4]\\d$`),
          );
          expect(env.serverid).toBe(SERVER[i]);
          expect(env.router).toBe(SERVER[i]);
          expect(env.subnet).toBe('255.255.255.0');
        }
        expect(
          await agent!.metric('bootpt_agent_dhcp_packets_dropped_total', { reason: 'wrong_interface' }),
        ).toBe(0);
        expect(await agent!.metric('bootpt_agent_dhcp_requests_total', { outcome: 'ack' })).toBe(2);
        expect(await agent!.metric('bootpt_agent_dhcp_requests_total', { outcome: 'nak' })).toBe(0);
      });
    },
  );
