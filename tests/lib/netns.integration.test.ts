import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePcap } from '@bootpt/protocol/pcap/index';
import { afterAll, describe, expect, it } from 'vitest';
import { hasNetns, listNamespaces, TestLan } from './netns.js';

const capability = hasNetns();

function hasTcpdump(): boolean {
  return spawnSync('tcpdump', ['--version'], { timeout: 5_000 }).status === 0;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Node one-liners run inside a namespace with `ip netns exec`; they print what they received as JSON. */
const RECEIVER = `
const dgram = require('node:dgram');
const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
s.on('message', (m, r) => { console.log(JSON.stringify({ text: m.toString(), from: r.address })); process.exit(0); });
s.bind(Number(process.argv[1]), '0.0.0.0', () => console.log('READY'));
setTimeout(() => { console.log('TIMEOUT'); process.exit(3); }, 8000);
`;

const SENDER = `
const dgram = require('node:dgram');
const [host, port, text] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
s.bind(0, () => {
  s.setBroadcast(true);
  s.send(text, Number(port), host, (err) => { if (err) { console.error(err.message); process.exit(2); } s.close(); });
});
`;

describe.skipIf(!capability.ok)(
  `netns test LAN${capability.ok ? '' : ` (skipped: ${capability.reason})`}`,
  () => {
    const lans: TestLan[] = [];
    afterAll(async () => {
      for (const lan of lans) await lan.destroy();
    });

    it('builds a bridge and hosts that can ping each other', async () => {
      const lan = await TestLan.create({ subnet: '10.213.40', hosts: 2, tag: 'nstest' });
      lans.push(lan);
      expect(lan.prefix).toMatch(new RegExp(`^bpt-nstest-${process.pid}-[0-9a-f]{6}$`));
      expect(lan.hosts.map((h) => h.address)).toEqual(['10.213.40.1', '10.213.40.2']);
      expect(listNamespaces(lan.prefix).sort()).toEqual(lan.namespaces().sort());
      const ping = await lan.exec(
        lan.host(1).namespace,
        ['busybox', 'ping', '-c', '1', '-W', '2', '10.213.40.2'],
        { timeoutMs: 10_000 },
      );
      expect(ping.code, ping.stderr).toBe(0);
      expect(ping.stdout).toContain('1 packets received');
      // The MAC we assigned is the one on the wire (seen from the peer's neighbour table).
      const neigh = await lan.exec(lan.host(2).namespace, ['ip', 'neigh', 'show', '10.213.40.1'], {
        timeoutMs: 5_000,
      });
      expect(neigh.stdout).toContain(lan.host(1).mac);
    });

    it('carries a UDP datagram between two hosts (node scripts under ip netns exec)', async () => {
      const lan = await TestLan.create({ subnet: '10.213.41', hosts: 2, tag: 'nstest' });
      lans.push(lan);
      const receiver = lan.spawn(lan.host(2).namespace, [process.execPath, '-e', RECEIVER, '4101']);
      await receiver.waitForOutput('READY');
      const send = await lan.exec(
        lan.host(1).namespace,
        [process.execPath, '-e', SENDER, '10.213.41.2', '4101', 'hello'],
        {
          timeoutMs: 10_000,
        },
      );
      expect(send.code, send.stderr).toBe(0);
      const r = await receiver.exited;
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout.split('\n')[1] ?? '')).toEqual({ text: 'hello', from: '10.213.41.1' });
    });

    it('delivers a subnet-directed broadcast to every other host, and limited broadcast with the /32 route', async () => {
      const lan = await TestLan.create({ subnet: '10.213.42', hosts: 3, tag: 'nstest' });
      lans.push(lan);
      const receivers = [lan.host(2), lan.host(3)].map((h) =>
        lan.spawn(h.namespace, [process.execPath, '-e', RECEIVER, '4102']),
      );
      await Promise.all(receivers.map((r) => r.waitForOutput('READY')));
      const send = await lan.exec(
        lan.host(1).namespace,
        [process.execPath, '-e', SENDER, lan.broadcast, '4102', 'all'],
        {
          timeoutMs: 10_000,
        },
      );
      expect(send.code, send.stderr).toBe(0);
      for (const r of receivers) {
        const result = await r.exited;
        expect(result.code).toBe(0);
        expect(JSON.parse(result.stdout.split('\n')[1] ?? '')).toEqual({ text: 'all', from: '10.213.42.1' });
      }

      // Without the /32 route the limited broadcast is unroutable (no default route in the namespace).
      const noRoute = await lan.exec(
        lan.host(1).namespace,
        [process.execPath, '-e', SENDER, '255.255.255.255', '4103', 'x'],
        {
          timeoutMs: 10_000,
        },
      );
      expect(noRoute.code).toBe(2);
      expect(noRoute.stderr).toContain('ENETUNREACH');
      lan.addBroadcastRoute(lan.host(1));
      const receiver = lan.spawn(lan.host(3).namespace, [process.execPath, '-e', RECEIVER, '4103']);
      await receiver.waitForOutput('READY');
      const withRoute = await lan.exec(
        lan.host(1).namespace,
        [process.execPath, '-e', SENDER, '255.255.255.255', '4103', 'lim'],
        {
          timeoutMs: 10_000,
        },
      );
      expect(withRoute.code, withRoute.stderr).toBe(0);
      expect((await receiver.exited).stdout).toContain('"lim"');
    });

    it('times out commands, stops processes by PID and reports exit codes', async () => {
      const lan = await TestLan.create({ subnet: '10.213.43', hosts: 1, tag: 'nstest' });
      lans.push(lan);
      const ns = lan.host(1).namespace;
      const slow = await lan.exec(ns, ['sleep', '30'], { timeoutMs: 300 });
      expect(slow.timedOut).toBe(true);
      expect(slow.signal).toBe('SIGKILL');
      const failing = await lan.exec(ns, ['sh', '-c', 'echo out; echo err >&2; exit 7']);
      expect(failing).toMatchObject({ code: 7, stdout: 'out\n', stderr: 'err\n', timedOut: false });
      const missing = await lan.exec(ns, ['/nonexistent/binary']);
      expect(missing.code).not.toBe(0);
      const echoed = await lan.exec(ns, ['cat'], { input: 'piped' });
      expect(echoed.stdout).toBe('piped');

      const daemon = lan.spawn(ns, ['sleep', '60']);
      expect(lan.trackedPids()).toContain(daemon.pid);
      // `ip netns exec` execs the program: the PID we hold becomes sleep itself, inside the namespace (once
      // `ip` has entered it, a moment after spawn() returns).
      let listed: string[] = [];
      for (let i = 0; i < 40 && !listed.includes(String(daemon.pid)); i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 50));
        listed = (await lan.exec(lan.bridgeNamespace, ['ip', 'netns', 'pids', ns])).stdout.split('\n');
      }
      expect(listed).toContain(String(daemon.pid));
      const stopped = await daemon.stop();
      expect(stopped.signal).toBe('SIGTERM');
      expect(daemon.running).toBe(false);
      expect(lan.trackedPids()).not.toContain(daemon.pid);
    });

    it('destroy() ends leftover processes (even forked ones), deletes every namespace and is idempotent', async () => {
      const lan = await TestLan.create({ subnet: '10.213.44', hosts: 2, tag: 'nstest' });
      lans.push(lan);
      const extra = lan.addNamespace('relay', 'eth0', '10.213.44.9');
      expect(listNamespaces(lan.prefix)).toContain(extra.namespace);
      const tracked = lan.spawn(lan.host(1).namespace, ['sleep', '60']);
      // A daemon that detaches from us: only `ip netns pids` can find it.
      await lan.exec(lan.host(2).namespace, ['sh', '-c', 'setsid sleep 60 >/dev/null 2>&1 < /dev/null &']);
      const listed = await lan.exec(lan.host(2).namespace, ['ip', 'netns', 'pids', lan.host(2).namespace]);
      const orphans = listed.stdout.split('\n').filter(Boolean).map(Number);
      expect(orphans.length).toBeGreaterThan(0);
      await lan.destroy();
      await lan.destroy();
      expect(lan.isDestroyed).toBe(true);
      expect(listNamespaces(lan.prefix)).toEqual([]);
      expect((await tracked.exited).signal).toMatch(/SIGTERM|SIGKILL/);
      // SIGKILL was sent; give init a moment to reap the zombie before checking the PID is gone.
      for (let i = 0; i < 40 && orphans.some(pidExists); i++) await new Promise((r) => setTimeout(r, 50));
      expect(orphans.filter(pidExists)).toEqual([]);
      expect(() => lan.spawn(lan.host(1).namespace, ['true'])).toThrow(/destroyed/);
    });

    it('connects a namespace to two LANs (a relay leg on each) and routes between them', async () => {
      const a = await TestLan.create({ subnet: '10.213.48', hosts: 1, tag: 'nstest' });
      lans.push(a);
      const b = await TestLan.create({ subnet: '10.213.49', hosts: 1, tag: 'nstest' });
      lans.push(b);
      const relay = a.addNamespace('relay', 'eth0', '10.213.48.254');
      const leg = b.connect(relay.namespace, 'eth1', '10.213.49.254');
      expect(leg.namespace).toBe(relay.namespace);
      expect(a.namespaces()).toContain(relay.namespace);
      expect(b.namespaces()).not.toContain(relay.namespace);
      await a.exec(relay.namespace, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      await a.exec(a.host(1).namespace, ['ip', 'route', 'add', '10.213.49.0/24', 'via', '10.213.48.254']);
      await b.exec(b.host(1).namespace, ['ip', 'route', 'add', '10.213.48.0/24', 'via', '10.213.49.254']);
      const ping = await a.exec(a.host(1).namespace, [
        'busybox',
        'ping',
        '-c',
        '1',
        '-W',
        '2',
        '10.213.49.1',
      ]);
      expect(ping.code, ping.stdout + ping.stderr).toBe(0);
      // Destroying the owner removes the relay, and with it the leg on LAN b.
      await a.destroy();
      const links = await b.exec(b.bridgeNamespace, ['ip', '-o', 'link', 'show', 'master', 'br0']);
      expect(links.stdout).toContain('p-h1');
      expect(links.stdout).not.toContain(leg.port);
    });

    it('rejects malformed options before creating anything', async () => {
      await expect(TestLan.create({ subnet: '10.213.300', hosts: 1 })).rejects.toThrow(/subnet/);
      await expect(TestLan.create({ subnet: '10.213.45', hosts: [{ hostOctet: 255 }] })).rejects.toThrow(
        /hostOctet/,
      );
      expect(listNamespaces(`bpt-lan-${process.pid}-`)).toEqual([]);
    });

    it('leaves no namespaces of this process behind', async () => {
      for (const lan of lans) await lan.destroy();
      expect(listNamespaces(`bpt-nstest-${process.pid}-`)).toEqual([]);
    });
  },
);

describe.skipIf(!capability.ok || !hasTcpdump())('netns capture on the bridge', () => {
  it('captures a datagram between two hosts into a pcap that the protocol reader decodes', async () => {
    const lan = await TestLan.create({ subnet: '10.213.47', hosts: 2, tag: 'nscap' });
    const dir = mkdtempSync(join(tmpdir(), 'bpt-nscap-'));
    try {
      const file = join(dir, 'lan.pcap');
      const capture = await lan.startCapture(file, { filter: 'udp' });
      const receiver = lan.spawn(lan.host(2).namespace, [process.execPath, '-e', RECEIVER, '4107']);
      await receiver.waitForOutput('READY');
      await lan.exec(lan.host(1).namespace, [
        process.execPath,
        '-e',
        SENDER,
        '10.213.47.2',
        '4107',
        'captured',
      ]);
      await receiver.exited;
      await capture.stop();
      const decoded = decodePcap(new Uint8Array(readFileSync(file)));
      expect(decoded.ok).toBe(true);
      if (!decoded.ok) return;
      expect(decoded.value.header.linkType).toBe(1);
      expect(decoded.value.udp).toHaveLength(1);
      expect(decoded.value.udp[0]).toMatchObject({ src: '10.213.47.1', dst: '10.213.47.2', dstPort: 4107 });
      expect(new TextDecoder().decode(decoded.value.udp[0]?.payload)).toBe('captured');
    } finally {
      await lan.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
