import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasNetns, TestLan, type LanHost } from '../../../../tests/lib/netns.js';
import { AgentProcess, sumMetric } from '../testing/agent-process.js';
import { LeaseStore } from './lease-store.js';

/**
 * The responder against real clients nobody here wrote, in network namespaces (`tests/lib/netns.ts`,
 * TESTBED.md): busybox udhcpc, ISC dhclient, dhcpcd, klibc ipconfig (236-octet BOOTP), bootpc, a client
 * behind ISC dhcrelay, a Turbo client built from the protocol package, and junk floods. Nothing leaves
 * the namespaces; they are deleted in afterAll. The whole suite runs twice: on the datagram add-on's
 * sockets and on node:dgram's (`responder.nativeSockets` required / off).
 */

const capability = hasNetns();
const tag = process.pid % 100000;
const octet = 100 + (process.pid % 60) * 2;
const net = `10.214.${octet}`;
const relayNet = `10.214.${octet + 1}`;
const SERVER = `${net}.1`;
const RELAY_UP = `${net}.2`;
const RELAY_DOWN = `${relayNet}.1`;

const DIGEST = 'c0ffee00'.repeat(8);
const TURBO_KEY = { id: 3, secret: '0f1e2d3c4b5a69788796a5b4c3d2e1f0' };
const PROBE = join(import.meta.dirname, '../testing/turbo-probe.ts');
const hex = (n: number) => n.toString(16).padStart(2, '0');
const mac = (n: number) => `02:42:${hex((tag >> 8) & 255)}:${hex(tag & 255)}:00:${hex(n)}`;
const reserved = (n: number) => ({
  mac: mac(n),
  ip: `${net}.${10 + n}`,
  hostname: `node${n}`,
  bootFile: `hosts/node${n}.img`,
});

const site = {
  subnets: [
    {
      id: 'lab',
      cidr: `${net}.0/24`,
      routers: [SERVER],
      dnsServers: [SERVER],
      domainName: 'lab.test',
      pool: { start: `${net}.100`, end: `${net}.119` },
      profile: 'default',
    },
    { id: 'far', cidr: `${relayNet}.0/24`, routers: [RELAY_DOWN], profile: 'default' },
  ],
  profiles: [{ id: 'default', bootFiles: { default: 'pxelinux.0', bios: 'undionly.kpxe' } }],
  manifests: [{ digest: DIGEST }],
  endpoints: [
    { kind: 'http2', address: SERVER, port: 8443, id: 1 },
    { kind: 'multicast', address: '239.255.0.1', port: 1758, id: 2 },
  ],
  hosts: [
    ...[1, 2, 3, 4, 5, 6, 8].map(reserved),
    { ...reserved(7), manifest: DIGEST },
    { mac: mac(20), ip: `${relayNet}.20`, hostname: 'far20', bootFile: 'far/boot.img' },
  ],
};

/** LAN hosts, in order: the agent, then one namespace per client (no address: they ask for one). */
const HOSTS = {
  server: { hostOctet: 1 },
  udhcpc: { hostOctet: null, mac: mac(1) },
  dhclient: { hostOctet: null, mac: mac(2) },
  dhcpcd: { hostOctet: null, mac: mac(3) },
  klibc: { hostOctet: null, mac: mac(4) },
  bootpc: { hostOctet: null, mac: mac(5) },
  victim: { hostOctet: null, mac: mac(6) },
  turbo: { hostOctet: null, mac: mac(7) },
  junk: { hostOctet: 250 },
  poolA: { hostOctet: null, mac: mac(40) },
  poolB: { hostOctet: null, mac: mac(41) },
} as const;
type HostName = keyof typeof HOSTS;

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

for (const sockets of ['native', 'dgram'] as const)
  describe.skipIf(!capability.ok)(
    `responder with real clients, ${sockets} sockets${capability.ok ? '' : ` (skipped: ${capability.reason})`}`,
    () => {
      let lan: TestLan;
      let agent: AgentProcess;
      let work: string;
      const scratch: string[] = [];
      const at = (name: HostName): LanHost => lan.host(Object.keys(HOSTS).indexOf(name) + 1);
      const run = (name: HostName, argv: string[], timeoutMs = 15_000) =>
        lan.exec(at(name).namespace, argv, { timeoutMs });

      /** Gives a client's interface a name of its own: dhcpcd and klibc keep per-interface files in /var/lib and /run. */
      function rename(name: HostName, ifname: string): void {
        const ns = at(name).namespace;
        ip(['-n', ns, 'link', 'set', 'eth0', 'down']);
        ip(['-n', ns, 'link', 'set', 'eth0', 'name', ifname]);
        ip(['-n', ns, 'link', 'set', ifname, 'up']);
      }

      beforeAll(async () => {
        work = await mkdtemp(join(tmpdir(), 'bpt-agent-clients-'));
        lan = await TestLan.create({ subnet: net, tag: 'ag', hosts: Object.values(HOSTS) });
        for (const name of ['bootpc', 'turbo', 'junk'] as const) lan.addBroadcastRoute(at(name));

        // A relay with one leg on the LAN and one on a second segment, where the far client lives.
        const relay = lan.addNamespace('rly', 'eth0', RELAY_UP);
        const far = lan.addNamespace('far', 'eth0');
        ip(['-n', far.namespace, 'link', 'set', 'eth0', 'down']);
        ip([
          '-n',
          relay.namespace,
          'link',
          'add',
          'eth1',
          'type',
          'veth',
          'peer',
          'name',
          'eth1',
          'netns',
          far.namespace,
        ]);
        ip(['-n', relay.namespace, 'addr', 'add', `${RELAY_DOWN}/24`, 'dev', 'eth1']);
        ip(['-n', relay.namespace, 'link', 'set', 'eth1', 'up']);
        ip(['-n', far.namespace, 'link', 'set', 'eth1', 'address', mac(20)]);
        ip(['-n', far.namespace, 'link', 'set', 'eth1', 'up']);
        ip(['-n', at('server').namespace, 'route', 'add', `${relayNet}.0/24`, 'via', RELAY_UP]);

        agent = await AgentProcess.start(lan, {
          namespace: at('server').namespace,
          site,
          config: {
            responder: {
              interfaces: ['eth0'],
              turbo: { keys: [TURBO_KEY] },
              nativeSockets: sockets === 'native' ? 'required' : 'off',
            },
            log: { level: 'debug' },
          },
        });
        lan.spawn(relay.namespace, [
          'dhcrelay',
          '-4',
          '-d',
          '-q',
          '-a',
          '--no-pid',
          '-iu',
          'eth0',
          '-id',
          'eth1',
          SERVER,
        ]);
      }, 60_000);

      afterAll(async () => {
        await agent?.cleanup();
        await lan?.destroy();
        for (const f of scratch) await rm(f, { force: true });
        if (work) await rm(work, { recursive: true, force: true });
      });

      async function hook(
        name: string,
      ): Promise<{ path: string; read: (event: string) => Promise<Record<string, string>> }> {
        const path = join(work, `${name}.hook.sh`);
        const out = join(work, `${name}.env`);
        await writeFile(path, `#!/bin/sh\nenv > "${out}-\${1:-$reason}"\nexit 0\n`);
        await chmod(path, 0o755);
        return {
          path,
          read: async (event) => {
            const text = await readFile(`${out}-${event}`, 'utf8');
            return Object.fromEntries(
              text.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
            );
          },
        };
      }

      const udhcpc = (hookPath: string, ifname = 'eth0', tries = '3') => [
        'busybox',
        'udhcpc',
        '-i',
        ifname,
        '-f',
        '-q',
        '-n',
        '-t',
        tries,
        '-T',
        '1',
        '-s',
        hookPath,
      ];

      it(`listens on ${sockets} sockets`, () => {
        const listening = agent.logLines.find((l) => l.includes('"responder listening"'));
        expect(listening).toContain(`"sockets":"${sockets}"`);
      });

      it('busybox udhcpc (DHCP) gets its reserved address and boot file', async () => {
        const h = await hook('udhcpc');
        const r = await run('udhcpc', [...udhcpc(h.path), '-O', 'bootfile']);
        expect(r.code, r.stderr).toBe(0);
        const env = await h.read('bound');
        expect(env.ip).toBe(`${net}.11`);
        expect(env.boot_file).toBe('hosts/node1.img');
        expect(env.bootfile).toBe('hosts/node1.img');
        expect(env.subnet).toBe('255.255.255.0');
        expect(env.router).toBe(SERVER);
        expect(env.hostname).toBe('node1');
        expect(env.siaddr).toBe(SERVER);
      });

      it('ISC dhclient gets its reserved address and boot file', async () => {
        const h = await hook('dhclient');
        const conf = join(work, 'dhclient.conf');
        await writeFile(conf, 'request subnet-mask, routers, host-name, domain-name;\n');
        const files = ['-lf', join(work, 'dhclient.leases'), '-pf', join(work, 'dhclient.pid')];
        const r = await run(
          'dhclient',
          ['dhclient', '-1', '-cf', conf, '-sf', h.path, ...files, 'eth0'],
          20_000,
        );
        await run('dhclient', ['dhclient', '-x', '-cf', conf, '-sf', h.path, ...files, 'eth0']);
        expect(r.code, r.stderr).toBe(0);
        const env = await h.read('BOUND');
        expect(env.new_ip_address).toBe(`${net}.12`);
        expect(env.new_filename).toBe('hosts/node2.img');
        expect(env.new_host_name).toBe('node2');
        expect(env.new_dhcp_server_identifier).toBe(SERVER);
      });

      it('dhcpcd gets its reserved address and boot file', async () => {
        const ifname = `bpt${tag}d`.slice(0, 15);
        rename('dhcpcd', ifname);
        scratch.push(
          `/var/lib/dhcpcd/${ifname}.lease`,
          `/run/dhcpcd/${ifname}.pid`,
          `/run/dhcpcd/${ifname}-4.pid`,
        );
        const h = await hook('dhcpcd');
        const r = await run(
          'dhcpcd',
          ['dhcpcd', '-4', '-1', '-B', '-A', '-t', '8', '-f', '/dev/null', '-c', h.path, ifname],
          20_000,
        );
        expect(r.code, r.stderr + r.stdout).toBe(0);
        const env = await h.read('BOUND');
        expect(env.new_ip_address).toBe(`${net}.13`);
        expect(env.new_filename).toBe('hosts/node3.img');
      });

      it('klibc ipconfig (pure BOOTP, 236-octet request) gets its reserved address and boot file', async () => {
        const ifname = `bpt${tag}k`.slice(0, 15);
        rename('klibc', ifname);
        scratch.push(`/run/net-${ifname}.conf`);
        const r = await run('klibc', [
          '/usr/lib/klibc/bin/ipconfig',
          '-n',
          '-t',
          '5',
          '-c',
          'bootp',
          '-d',
          ifname,
        ]);
        expect(r.code, r.stderr + r.stdout).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`address: +${net.replaceAll('.', '\\.')}\\.14\\b`));
        expect(r.stdout).toMatch(/filename *: *hosts\/node4\.img/);
        expect(
          await agent.metric('bootpt_agent_dhcp_requests_total', { client: 'bootp', outcome: 'bootreply' }),
        ).toBeGreaterThanOrEqual(1);
      });

      it('bootpc (pure BOOTP) gets its reserved address and boot file', async () => {
        const r = await run('bootpc', [
          'bootpc',
          '--dev',
          'eth0',
          '--timeoutwait',
          '5',
          '--serverbcast',
          '--returniffail',
        ]);
        expect(r.code, r.stderr + r.stdout).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`IPADDR='?${net.replaceAll('.', '\\.')}\\.15'?`));
        expect(r.stdout).toMatch(/BOOTFILE='?hosts\/node5\.img'?/);
      });

      it('a client behind dhcrelay gets its answer through the relay (giaddr, option 82)', async () => {
        const h = await hook('far');
        const far = lan.namespaces().find((n) => n.endsWith('-far'))!;
        const r = await lan.exec(far, udhcpc(h.path, 'eth1', '5'), { timeoutMs: 20_000 });
        expect(r.code, r.stderr).toBe(0);
        const env = await h.read('bound');
        expect(env.ip).toBe(`${relayNet}.20`);
        expect(env.boot_file).toBe('far/boot.img');
        expect(env.router).toBe(RELAY_DOWN);
        expect(
          agent.logLines.some((l) => l.includes('"replied"') && l.includes(`"to":"${RELAY_DOWN}"`)),
        ).toBe(true);
      });

      it('answers a Turbo discover built with the protocol codec with a Turbo offer for the right digest', async () => {
        const probe = async (...args: string[]) => {
          const r = await run(
            'turbo',
            [process.execPath, '--conditions=source', '--import', 'tsx', PROBE, mac(7), ...args],
            20_000,
          );
          expect(r.code, r.stderr).toBe(0);
          return JSON.parse(r.stdout) as {
            size: number;
            yiaddr: string;
            file: string;
            turbo: {
              manifestDigest: string;
              verdict: string;
              pacingMs: number;
              endpoints: { type: number; address: string }[];
              validationToken: string;
            } | null;
          };
        };
        const cold = await probe();
        expect(cold.yiaddr).toBe(`${net}.17`);
        expect(cold.file).toBe('hosts/node7.img');
        expect(cold.size).toBeLessThanOrEqual(548);
        expect(cold.turbo).toMatchObject({ manifestDigest: DIGEST, verdict: 'unknown', pacingMs: 0 });
        expect(cold.turbo!.endpoints).toEqual([{ type: 1, address: SERVER, port: 8443, id: 1 }]);
        expect(cold.turbo!.validationToken).toMatch(/^03[0-9a-f]{30}$/);

        const warm = await probe(DIGEST, cold.turbo!.validationToken);
        expect(warm.turbo).toMatchObject({ manifestDigest: DIGEST, verdict: 'valid' });
        const forged = await probe(DIGEST, '03' + '00'.repeat(15));
        expect(forged.turbo?.verdict).toBe('unknown');
        expect(await agent.metric('bootpt_agent_turbo_offers_total', { verdict: 'valid' })).toBe(1);
        expect(
          await agent.metric('bootpt_agent_dhcp_requests_total', { client: 'turbo', outcome: 'offer' }),
        ).toBe(3);
      });

      it('counts and drops malformed and oversized packets without disturbing a concurrent client', async () => {
        const h = await hook('victim');
        const before = await agent.metrics();
        const dropped = (text: string, reason: string) =>
          sumMetric(text, 'bootpt_agent_dhcp_packets_dropped_total', { reason });
        const script = `
      const dgram = require('node:dgram');
      const s = dgram.createSocket('udp4');
      s.bind(0, () => {
        s.setBroadcast(true);
        const header = (size) => { const b = Buffer.alloc(size); b[0] = 1; b[1] = 1; b[2] = 6; return b; };
        const malformed = header(300); malformed.writeUInt32BE(0x63825363, 236); malformed.set([53, 1, 1, 12, 250, 1], 240);
        const reply = header(300); reply[0] = 2;
        const kinds = [Buffer.alloc(100, 7), header(4000), malformed, reply];
        let sent = 0;
        const burst = () => {
          for (let i = 0; i < 25; i++) for (const k of kinds) {
            s.send(k, 67, i % 2 ? '255.255.255.255' : '${SERVER}');
            sent++;
          }
          if (sent < 800) setTimeout(burst, 5); else setTimeout(() => s.close(), 50);
        };
        burst();
      });`;
        const [junk, victim] = await Promise.all([
          run('junk', [process.execPath, '-e', script]),
          run('victim', udhcpc(h.path)),
        ]);
        expect(junk.code, junk.stderr).toBe(0);
        expect(victim.code, victim.stderr).toBe(0);
        expect((await h.read('bound')).ip).toBe(`${net}.16`);
        const after = await agent.metrics();
        for (const reason of ['too_short', 'oversized', 'malformed', 'not_request']) {
          expect(dropped(after, reason) - dropped(before, reason), reason).toBeGreaterThanOrEqual(150);
        }
      });

      it('keeps dynamic leases across a restart and never gives one address to two hosts', async () => {
        const ha = await hook('poola');
        const hb = await hook('poolb');
        expect((await run('poolA', udhcpc(ha.path))).code).toBe(0);
        const first = (await ha.read('bound')).ip;
        expect(first).toMatch(new RegExp(`^${net.replaceAll('.', '\\.')}\\.1[01]\\d$`));
        // What is durable while the agent runs: the snapshot plus the journal, read as the agent would.
        const persisted = await new LeaseStore(agent.leaseFile).load();
        expect(persisted.some((l) => l.mac === mac(40) && l.state === 'bound')).toBe(true);

        expect(await agent.stop()).toBe(0);
        await agent.launch();

        expect((await run('poolB', udhcpc(hb.path))).code).toBe(0);
        expect((await hb.read('bound')).ip).not.toBe(first);
        expect((await run('poolA', udhcpc(ha.path))).code).toBe(0);
        expect((await ha.read('bound')).ip).toBe(first);
      });
    },
  );
