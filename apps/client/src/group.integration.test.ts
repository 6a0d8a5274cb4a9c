import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateManifestKeyPair } from '@bootpt/protocol';
import { hasNetns, TestLan } from '../../../tests/lib/netns.js';
import type { ExecResult, NetnsProcess } from '../../../tests/lib/netns.js';
import { publishRelease, type PublishedRelease } from '../../../tests/images/publish.js';
import { metricValue, pseudoRandom } from '../../agent/src/tftp/testing.js';
import type { BootResult } from './client.js';

/**
 * Cold boots of one release by several clients at once over a TFTP group stream, on a LAN of network
 * namespaces: the real `bootpt-agent` (DHCP responder with Turbo, content store + HTTP/2, TFTP with
 * multicast and sbroadcast) on host 1, three `bootpt-client` processes on hosts 2-4. Each client discovers,
 * verifies the signed manifest over HTTP/2, joins the group transfer of the release's boot files, verifies
 * every layer and chunk and caches them. Checked: identical verified outputs, populated caches (the next
 * boot moves no image byte), the delivery reported, and about one copy of the image on the agent's wire
 * instead of three. Then the same with sbroadcast; a stream that
 * does not verify and a group endpoint that does not answer both fall back to HTTP/2.
 */

const netns = hasNetns();
const subnet = `10.216.${100 + (process.pid % 50)}`;
const AGENT_BIN = resolve(import.meta.dirname, '../../agent/src/bin/bootpt-agent.ts');
const CLIENT_BIN = resolve(import.meta.dirname, './bin/bootpt-client.ts');
const SYNCED_CLIENT = resolve(import.meta.dirname, './testing/synced-client.ts');
const CLIENTS = [2, 3, 4];
const KERNEL_SIZE = 2 * 1024 * 1024 + 311;
const BASE_SIZE = 9 * 1024 * 1024 + 4099;
const OVERLAY_SIZE = 1024 * 1024 + 17;
const IMAGE = KERNEL_SIZE + BASE_SIZE + OVERLAY_SIZE;
const CONTENT_PORT = 8443;
const METRICS_PORT = 9467;

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe.skipIf(!netns.ok)(
  `cold boot by TFTP group stream${netns.ok ? '' : ` (skipped: ${netns.reason})`}`,
  () => {
    let lan: TestLan;
    let agent: NetnsProcess;
    let work: string;
    let release: PublishedRelease;
    let fingerprint: string;
    const layers = {
      kernel: pseudoRandom(KERNEL_SIZE, 11),
      initramfs: Buffer.concat([pseudoRandom(BASE_SIZE, 12), pseudoRandom(OVERLAY_SIZE, 13)]),
    };

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'bpt-group-'));
      const key = generateManifestKeyPair();
      release = await publishRelease({
        dir: join(work, 'publish'),
        key,
        name: 'group-test',
        version: '1',
        layers: [
          { bytes: layers.kernel, mediaType: 'application/vnd.bootpt.kernel' },
          {
            bytes: layers.initramfs.subarray(0, BASE_SIZE),
            mediaType: 'application/vnd.bootpt.initramfs.cpio',
          },
          { bytes: layers.initramfs.subarray(BASE_SIZE), mediaType: 'application/vnd.bootpt.initramfs.cpio' },
        ],
      });
      writeFileSync(
        join(work, 'trust.json'),
        JSON.stringify([{ publicKey: key.publicKeyRaw, state: 'active' }]),
      );
      lan = await TestLan.create({ subnet, hosts: 4, tag: 'cgrp', broadcastRoute: true });
      for (const h of lan.hosts) lan.addMulticastRoute(h);
      const server = lan.host(1).address!;
      mkdirSync(join(work, 'tftp'));
      writeFileSync(
        join(work, 'site.json'),
        JSON.stringify({
          subnets: [{ id: 'lan', cidr: `${subnet}.0/24` }],
          hosts: CLIENTS.map((i) => ({
            mac: lan.host(i).mac,
            ip: lan.host(i).address,
            manifest: release.digest,
          })),
          manifests: [{ digest: release.digest, name: '1' }],
          endpoints: [{ kind: 'http2', address: server, port: CONTENT_PORT, id: 1 }],
        }),
      );
      writeFileSync(
        join(work, 'agent.json'),
        JSON.stringify({
          agentId: 'group-agent',
          dataDir: join(work, 'agent'),
          log: { level: 'info' },
          metrics: { enabled: true, host: '127.0.0.1', port: METRICS_PORT },
          responder: {
            interfaces: ['eth0'],
            turbo: { keys: [{ id: 1, secret: '00112233445566778899aabbccddeeff' }], maxPacingDelayMs: 0 },
          },
          backend: { kind: 'file', path: join(work, 'site.json') },
          content: {
            enabled: true,
            host: server,
            port: CONTENT_PORT,
            upstream: { kind: 'directory', path: join(work, 'publish') },
            trustedKeys: [{ publicKey: key.publicKeyRaw, state: 'active' }],
          },
          tftp: {
            enabled: true,
            interfaces: ['eth0'],
            root: join(work, 'tftp'),
            retry: { timeoutMs: 300, maxTimeoutMs: 1200, maxRetries: 8 },
          },
        }),
      );
      agent = lan.spawn(
        lan.host(1).namespace,
        [
          process.execPath,
          '--conditions=source',
          '--import',
          'tsx',
          AGENT_BIN,
          '--config',
          join(work, 'agent.json'),
        ],
        { env: { ...process.env, NODE_NO_WARNINGS: '1' } },
      );
      await agent.waitForOutput('agent started', 120_000);
      fingerprint = readFileSync(join(work, 'agent', 'content', 'tls', 'fingerprint'), 'utf8').trim();
    }, 180_000);

    afterAll(async () => {
      await agent?.stop('SIGTERM', 8000);
      await lan?.destroy();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    function clientArgs(host: number, run: string, extra: string[]): string[] {
      return [
        '--mac',
        lan.host(host).mac,
        '--trust-file',
        join(work, 'trust.json'),
        '--pin',
        fingerprint,
        '--cache-dir',
        join(work, `cache-${run}-${host}`),
        '--output-dir',
        join(work, `out-${run}-${host}`),
        '--window-ms',
        '500',
        '--backoff-initial-ms',
        '500',
        '--group-timeout-ms',
        '300',
        '--group-idle-ms',
        '5000',
        '--log-level',
        'warn',
        ...extra,
      ];
    }

    const NODE = [process.execPath, '--conditions=source', '--import', 'tsx'];
    const ENV = { ...process.env, NODE_NO_WARNINGS: '1' };

    function boot(host: number, run: string, extra: string[]): Promise<ExecResult> {
      return lan.exec(lan.host(host).namespace, [...NODE, CLIENT_BIN, ...clientArgs(host, run, extra)], {
        env: ENV,
        timeoutMs: 60_000,
      });
    }

    /** Starts the clients, waits until each has loaded, then lets them boot at the same moment. */
    async function bootTogether(run: string, extra: string[]): Promise<ExecResult[]> {
      const go = join(work, `go-${run}`);
      const procs = CLIENTS.map((h) =>
        lan.spawn(lan.host(h).namespace, [...NODE, SYNCED_CLIENT, ...clientArgs(h, run, extra)], {
          env: { ...ENV, BOOTPT_TEST_GO: go },
        }),
      );
      await Promise.all(procs.map((p) => p.waitForOutput('ready', 60_000)));
      writeFileSync(go, '');
      return Promise.all(procs.map((p) => p.exited));
    }

    function parse(r: ExecResult, host: number): BootResult {
      expect(r.code, `client ${host}: ${r.stderr.slice(-3000)}${r.stdout.slice(-1000)}`).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as BootResult;
    }

    async function tftpBytesSent(): Promise<Record<string, number>> {
      const r = await lan.exec(lan.host(1).namespace, [
        'curl',
        '-sf',
        `http://127.0.0.1:${METRICS_PORT}/metrics`,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const out: Record<string, number> = {};
      for (const mode of ['unicast', 'multicast', 'sbroadcast'])
        out[mode] = metricValue(r.stdout, 'bootpt_agent_tftp_bytes_sent_total', { mode });
      return out;
    }

    /** `flags` select the group mode (none: the default `auto`, which takes the agent's multicast first). */
    async function coldBootTogether(run: string, group: string, flags: string[]): Promise<BootResult[]> {
      const before = await tftpBytesSent();
      const results = await bootTogether(run, flags);
      const booted = results.map((r, i) => parse(r, CLIENTS[i]!));
      const after = await tftpBytesSent();
      const sent = Object.keys(after).reduce((n, m) => n + after[m]! - before[m]!, 0);
      const mode = group === 'multicast' ? 'multicast' : 'sbroadcast';
      for (const [i, b] of booted.entries()) {
        const host = CLIENTS[i]!;
        expect(b.manifestDigest).toBe(release.digest);
        expect(b.decision).toBe('update');
        // Both boot files (kernel and the two initramfs layers) came whole from the group, verified.
        expect(b.delivery, `client ${host}`).toMatchObject({
          endpoint: group,
          files: 2,
          bytes: IMAGE,
        });
        expect(b.delivery!.fallback).toBeUndefined();
        expect(b.bytes.chunks).toBe(IMAGE);
        // Over HTTP/2 only the signed manifest, the chunk indexes and the report: no chunk.
        expect(b.bytes.wire).toBeLessThan(IMAGE / 20);
        expect(sha(readFileSync(join(work, `out-${run}-${host}`, 'kernel')))).toBe(sha(layers.kernel));
        expect(sha(readFileSync(join(work, `out-${run}-${host}`, 'initramfs')))).toBe(sha(layers.initramfs));
      }
      // One stream for three clients instead of three copies (unicast): one copy plus what a member that
      // fell behind or joined late missed (re-sent once it is master) and retransmissions. How much extra
      // depends on scheduling (measured 1.07-1.48 copies, 2.02 once at load average 21 on 2 cores), so the
      // bound checked is only that the clients shared the stream: less than the three copies of unicast.
      expect(after[mode]! - before[mode]!).toBeGreaterThanOrEqual(IMAGE);
      expect(sent).toBeLessThan(CLIENTS.length * IMAGE);
      console.log(
        `${group}: 3 clients, image ${IMAGE} B, agent sent ${sent} B over TFTP (${(sent / IMAGE).toFixed(2)} copies); ` +
          booted.map((b) => `${b.delivery!.ms} ms`).join(', '),
      );
      return booted;
    }

    it('three clients (default config) cold-boot one release over one multicast stream and cache it', async () => {
      await coldBootTogether('mc', 'multicast', []);
      // The caches are populated: booting again moves no image byte (valid offer, or a delta of nothing).
      const again = parse(await boot(2, 'mc', []), 2);
      expect(again.decision).toBe('cache');
      expect(again.bytes.chunks).toBe(0);
      expect(again.delivery).toBeNull();
      const reports = agent
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"client report"'))
        .map((l) => JSON.parse(l) as { delivery?: { endpoint: string; bytes: number } });
      expect(
        reports.filter((r) => r.delivery?.endpoint === 'multicast' && r.delivery.bytes === IMAGE),
      ).toHaveLength(3);
    }, 240_000);

    it('three clients cold-boot over one sbroadcast stream', async () => {
      await coldBootTogether('sb', 'broadcast', ['--group', 'broadcast']);
    }, 240_000);

    it('falls back to HTTP/2 when the group stream delivers bytes that do not verify', async () => {
      // The agent trusts its assembled file once built: damage it (same size) and it serves bad bytes.
      const path = join(work, 'agent', 'content', 'assembled', release.digest, 'initramfs');
      const bytes = readFileSync(path);
      bytes[BASE_SIZE + 1000]! ^= 0x01;
      writeFileSync(path, bytes);
      const r = parse(await boot(2, 'tamper', ['--group', 'multicast']), 2);
      expect(r.delivery).toMatchObject({ endpoint: 'multicast', files: 1, bytes: KERNEL_SIZE });
      expect(r.delivery!.fallback).toMatch(/verification failed: initramfs: layer 2 digests to/);
      expect(r.bytes.wire).toBeGreaterThan(BASE_SIZE);
      expect(sha(readFileSync(join(work, 'out-tamper-2', 'initramfs')))).toBe(sha(layers.initramfs));
    }, 120_000);

    it('falls back to HTTP/2 when the offered group endpoint does not answer', async () => {
      const site = JSON.parse(readFileSync(join(work, 'site.json'), 'utf8')) as { endpoints: object[] };
      // Listed before the agent's own group endpoints, so the client tries it: nothing listens there.
      site.endpoints.push({ kind: 'multicast', address: lan.host(1).address, port: 6999, id: 9 });
      writeFileSync(join(work, 'site.json'), JSON.stringify(site));
      process.kill(agent.pid, 'SIGHUP');
      await agent.waitForOutput('site data reloaded', 10_000);
      const r = parse(await boot(3, 'dead', ['--group', 'multicast']), 3);
      expect(r.delivery).toMatchObject({ endpoint: 'multicast', endpointId: 9, files: 0, bytes: 0 });
      expect(r.delivery!.fallback).toMatch(/^kernel: timeout/);
      expect(r.bytes.chunks).toBe(IMAGE);
      expect(sha(readFileSync(join(work, 'out-dead-3', 'initramfs')))).toBe(sha(layers.initramfs));
    }, 120_000);
  },
);
