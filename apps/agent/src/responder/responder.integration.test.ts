import { mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, sumMetric } from '../testing/agent-process.js';
import { netnsUnavailable, sh, TestLan } from '../testing/netns.js';

/**
 * The responder against real clients nobody here wrote, in network namespaces (TESTBED.md): busybox
 * udhcpc, ISC dhclient, dhcpcd, klibc ipconfig (236-octet BOOTP), bootpc, and a client behind ISC
 * dhcrelay. Nothing leaves the namespaces; they are deleted in afterAll.
 */

const skipReason = await netnsUnavailable();
const tag = process.pid % 100000;
const prefix = `bpt-ag-${tag}`;
const octet = 100 + (process.pid % 60) * 2;
const net = `10.214.${octet}`;
const relayNet = `10.214.${octet + 1}`;
const SERVER = `${net}.1`;
const RELAY_UP = `${net}.2`;
const RELAY_DOWN = `${relayNet}.1`;

const DIGEST = 'c0ffee00'.repeat(8);
const TURBO_KEY = { id: 3, secret: '0f1e2d3c4b5a69788796a5b4c3d2e1f0' };
const PROBE = join(import.meta.dirname, '../testing/turbo-probe.ts');
const mac = (n: number) =>
  `02:42:${(tag >> 8) & 255 ? ((tag >> 8) & 255).toString(16).padStart(2, '0') : '01'}:${(tag & 255).toString(16).padStart(2, '0')}:00:${n.toString(16).padStart(2, '0')}`;
const host = (n: number) => ({
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
    ...[1, 2, 3, 4, 5, 6, 8].map(host),
    { ...host(7), manifest: DIGEST },
    { mac: mac(20), ip: `${relayNet}.20`, hostname: 'far20', bootFile: 'far/boot.img' },
  ],
};

describe.skipIf(skipReason !== undefined)(
  `responder with real clients${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    const lan = new TestLan(prefix);
    let agent: AgentProcess;
    let work: string;
    let serverNs: string;
    const scratch: string[] = [];

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'bpt-agent-clients-'));
      await lan.create();
      serverNs = await lan.addHost('srv', { cidr: `${SERVER}/24` });
      await lan.addBridge('br1');
      const relayNs = await lan.addHost('rly', { cidr: `${RELAY_UP}/24` });
      await lan.plug(relayNs, 'eth1', 'br1', undefined, `${RELAY_DOWN}/24`);
      const r = await sh('ip', ['-n', serverNs, 'route', 'add', `${relayNet}.0/24`, 'via', RELAY_UP]);
      expect(r.code).toBe(0);
      agent = await AgentProcess.start(lan, {
        ns: serverNs,
        site,
        config: {
          responder: { interfaces: ['eth0'], turbo: { keys: [TURBO_KEY] } },
          log: { level: 'debug' },
        },
      });
      lan.spawn(relayNs, 'dhcrelay', [
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
      await lan.destroy();
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

    it('busybox udhcpc (DHCP) gets its reserved address and boot file', async () => {
      const ns = await lan.addHost('udhcpc', { mac: mac(1) });
      const h = await hook('udhcpc');
      const r = await lan.exec(
        ns,
        'busybox',
        ['udhcpc', '-i', 'eth0', '-f', '-q', '-n', '-t', '3', '-T', '1', '-s', h.path, '-O', 'bootfile'],
        15_000,
      );
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
      const ns = await lan.addHost('dhclient', { mac: mac(2) });
      const h = await hook('dhclient');
      const conf = join(work, 'dhclient.conf');
      await writeFile(conf, 'request subnet-mask, routers, host-name, domain-name;\n');
      const leases = join(work, 'dhclient.leases');
      const pid = join(work, 'dhclient.pid');
      const r = await lan.exec(
        ns,
        'dhclient',
        ['-1', '-cf', conf, '-sf', h.path, '-lf', leases, '-pf', pid, 'eth0'],
        20_000,
      );
      await lan.killAllIn(ns);
      expect(r.code, r.stderr).toBe(0);
      const env = await h.read('BOUND');
      expect(env.new_ip_address).toBe(`${net}.12`);
      expect(env.new_filename).toBe('hosts/node2.img');
      expect(env.new_host_name).toBe('node2');
      expect(env.new_dhcp_server_identifier).toBe(SERVER);
    });

    it('dhcpcd gets its reserved address and boot file', async () => {
      const ifname = `bpt${tag}d`.slice(0, 15);
      const ns = await lan.addHost('dhcpcd', { mac: mac(3), ifname });
      scratch.push(
        `/var/lib/dhcpcd/${ifname}.lease`,
        `/run/dhcpcd/${ifname}.pid`,
        `/run/dhcpcd/${ifname}-4.pid`,
      );
      const h = await hook('dhcpcd');
      const r = await lan.exec(
        ns,
        'dhcpcd',
        ['-4', '-1', '-B', '-A', '-t', '8', '-f', '/dev/null', '-c', h.path, ifname],
        20_000,
      );
      await lan.killAllIn(ns);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      const env = await h.read('BOUND');
      expect(env.new_ip_address).toBe(`${net}.13`);
      expect(env.new_filename).toBe('hosts/node3.img');
    });

    it('klibc ipconfig (pure BOOTP, 236-octet request) gets its reserved address and boot file', async () => {
      const ifname = `bpt${tag}k`.slice(0, 15);
      const ns = await lan.addHost('klibc', { mac: mac(4), ifname });
      scratch.push(`/run/net-${ifname}.conf`);
      const r = await lan.exec(
        ns,
        '/usr/lib/klibc/bin/ipconfig',
        ['-n', '-t', '5', '-c', 'bootp', '-d', ifname],
        15_000,
      );
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`address: +${net.replaceAll('.', '\\.')}\\.14\\b`));
      expect(r.stdout).toMatch(/filename *: *hosts\/node4\.img/);
      expect(
        await agent.metric('bootpt_agent_dhcp_requests_total', { client: 'bootp', outcome: 'bootreply' }),
      ).toBeGreaterThanOrEqual(1);
    });

    it('bootpc (pure BOOTP) gets its reserved address and boot file', async () => {
      const ns = await lan.addHost('bootpc', { mac: mac(5) });
      await sh('ip', ['-n', ns, 'route', 'add', '255.255.255.255/32', 'dev', 'eth0']);
      const r = await lan.exec(
        ns,
        'bootpc',
        ['--dev', 'eth0', '--timeoutwait', '5', '--serverbcast', '--returniffail'],
        15_000,
      );
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`IPADDR='?${net.replaceAll('.', '\\.')}\\.15'?`));
      expect(r.stdout).toMatch(/BOOTFILE='?hosts\/node5\.img'?/);
    });

    it('a client behind dhcrelay gets its answer through the relay (giaddr, option 82)', async () => {
      const ns = await lan.addHost('far', { mac: mac(20), bridge: 'br1' });
      const h = await hook('far');
      const r = await lan.exec(
        ns,
        'busybox',
        ['udhcpc', '-i', 'eth0', '-f', '-q', '-n', '-t', '5', '-T', '1', '-s', h.path],
        20_000,
      );
      expect(r.code, r.stderr).toBe(0);
      const env = await h.read('bound');
      expect(env.ip).toBe(`${relayNet}.20`);
      expect(env.boot_file).toBe('far/boot.img');
      expect(env.router).toBe(RELAY_DOWN);
      expect(agent.logLines.some((l) => l.includes('"replied"') && l.includes(`"to":"${RELAY_DOWN}"`))).toBe(
        true,
      );
    });

    it('answers a Turbo discover built with the protocol codec with a Turbo offer for the right digest', async () => {
      const ns = await lan.addHost('turbo', { mac: mac(7) });
      await sh('ip', ['-n', ns, 'route', 'add', '255.255.255.255/32', 'dev', 'eth0']);
      const probe = async (...args: string[]) => {
        const r = await lan.exec(
          ns,
          process.execPath,
          ['--conditions=source', '--import', 'tsx', PROBE, mac(7), ...args],
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
            load: number;
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
      const junkNs = await lan.addHost('junk', { cidr: `${net}.250/24` });
      await sh('ip', ['-n', junkNs, 'route', 'add', '255.255.255.255/32', 'dev', 'eth0']);
      const client = await lan.addHost('victim', { mac: mac(6) });
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
      const junk = lan.exec(junkNs, process.execPath, ['-e', script], 15_000);
      const victim = lan.exec(
        client,
        'busybox',
        ['udhcpc', '-i', 'eth0', '-f', '-q', '-n', '-t', '3', '-T', '1', '-s', h.path],
        15_000,
      );
      const [junkResult, victimResult] = await Promise.all([junk, victim]);
      expect(junkResult.code, junkResult.stderr).toBe(0);
      expect(victimResult.code, victimResult.stderr).toBe(0);
      expect((await h.read('bound')).ip).toBe(`${net}.16`);
      const after = await agent.metrics();
      for (const reason of ['too_short', 'oversized', 'malformed', 'not_request']) {
        expect(dropped(after, reason) - dropped(before, reason), reason).toBeGreaterThanOrEqual(150);
      }
    });

    it('keeps dynamic leases across a restart and never gives one address to two hosts', async () => {
      const a = await lan.addHost('poola', { mac: mac(40) });
      const b = await lan.addHost('poolb', { mac: mac(41) });
      const ha = await hook('poola');
      const hb = await hook('poolb');
      const udhcpc = (ns: string, hookPath: string) =>
        lan.exec(
          ns,
          'busybox',
          ['udhcpc', '-i', 'eth0', '-f', '-q', '-n', '-t', '3', '-T', '1', '-s', hookPath],
          15_000,
        );
      expect((await udhcpc(a, ha.path)).code).toBe(0);
      const first = (await ha.read('bound')).ip;
      expect(first).toMatch(new RegExp(`^${net.replaceAll('.', '\\.')}\\.1[01]\\d$`));
      const persisted = JSON.parse(await readFile(agent.leaseFile, 'utf8')) as {
        leases: { mac: string; state: string }[];
      };
      expect(persisted.leases.some((l) => l.mac === mac(40) && l.state === 'bound')).toBe(true);

      await agent.stop();
      await agent.launch();

      expect((await udhcpc(b, hb.path)).code).toBe(0);
      expect((await hb.read('bound')).ip).not.toBe(first);
      expect((await udhcpc(a, ha.path)).code).toBe(0);
      expect((await ha.read('bound')).ip).toBe(first);
    });
  },
);
