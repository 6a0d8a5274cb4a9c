import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasNetns, TestLan } from '../../../../tests/lib/netns.js';
import type { NetnsProcess } from '../../../../tests/lib/netns.js';
import { DATA_PATHS, metricValue, pseudoRandom, sha256, sha256File, startTftpServer } from './testing.js';

/**
 * Real TFTP clients (tftp-hpa, curl, busybox, atftp) against the agent's TFTP service in a namespace LAN:
 * boundary sizes around each client's blksize, block-number rollover, the root jail's refusals, and
 * completion under 10% random packet loss (nftables in both namespaces). Everything runs on both data
 * paths (native add-on, pure JS); tftp-hpa, curl and busybox transfer in lock-step, atftp in windows.
 */

const missing = ['tftp', 'curl', 'busybox', 'atftp', 'nft'].filter(
  (c) => spawnSync('which', [c], { encoding: 'utf8' }).status !== 0,
);
const netns = hasNetns();
const skip = !netns.ok ? netns.reason : missing.length ? `missing ${missing.join(', ')}` : '';
const subnet = `10.215.${40 + (process.pid % 50)}`;

interface Client {
  readonly name: string;
  readonly blksize: number;
  readonly argv: (server: string, file: string, out: string) => string[];
}

/** atftp fetching `file` with the given RFC 2347 options (`'blksize 1428'`, ...). */
function atftp(...options: string[]): Client['argv'] {
  return (s, f, o) => [
    'atftp',
    '-g',
    '-r',
    f,
    '-l',
    o,
    ...options.flatMap((opt) => ['--option', opt]),
    s,
    '69',
  ];
}

const CLIENTS: readonly Client[] = [
  {
    name: 'tftp-hpa',
    blksize: 512,
    argv: (s, f, o) => ['tftp', s, '69', '-m', 'binary', '-c', 'get', f, o],
  },
  {
    name: 'curl',
    blksize: 1428,
    argv: (s, f, o) => ['curl', '-sS', '-o', o, '--tftp-blksize', '1428', `tftp://${s}:69/${f}`],
  },
  {
    name: 'busybox',
    blksize: 1468,
    argv: (s, f, o) => ['busybox', 'tftp', '-g', '-r', f, '-l', o, '-b', '1468', s, '69'],
  },
  {
    name: 'atftp',
    blksize: 1428,
    argv: atftp('blksize 1428', 'windowsize 8'),
  },
];

describe.skipIf(skip !== '').each(DATA_PATHS)(
  `TFTP with real clients ($path path)${skip ? ` (skipped: ${skip})` : ''}`,
  ({ path, nativeFastPath }) => {
    let lan: TestLan;
    let server: NetnsProcess;
    let work: string;
    let root: string;
    const sums = new Map<string, string>();
    const serverAddress = `${subnet}.1`;

    function addFile(name: string, body: Buffer): void {
      writeFileSync(join(root, name), body);
      sums.set(name, sha256(body));
    }

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'bpt-tftp-it-'));
      root = join(work, 'root');
      mkdirSync(join(root, 'sub'), { recursive: true });
      let seed = 1;
      for (const c of CLIENTS) {
        const n = 3;
        for (const size of [0, n * c.blksize, n * c.blksize - 1, n * c.blksize + 1]) {
          addFile(`${c.name}-${size}.bin`, pseudoRandom(size, seed++));
        }
      }
      // Past the 65,535-block rollover: 8-octet blocks for curl and atftp, 64 for busybox, 512 for tftp-hpa.
      addFile('roll-8.bin', pseudoRandom(65_535 * 8 + 3000, seed++));
      addFile('roll-64.bin', pseudoRandom(65_535 * 64 + 3000, seed++));
      addFile('roll-512.bin', pseudoRandom(65_535 * 512 + 3000, seed++));
      addFile('small.bin', pseudoRandom(40_000, seed++));
      addFile('sub/inner.bin', pseudoRandom(1000, seed));
      writeFileSync(join(work, 'secret'), 'outside the root\n');
      symlinkSync(join(work, 'secret'), join(root, 'escape'));
      symlinkSync('sub/inner.bin', join(root, 'inside-link'));
      sums.set('inside-link', sums.get('sub/inner.bin')!);
      spawnSync('mknod', [join(root, 'null-dev'), 'c', '1', '3']);
      spawnSync('mkfifo', [join(root, 'fifo')]);

      lan = await TestLan.create({ subnet, hosts: 3, tag: `tf${path}` });
      server = await startTftpServer(lan, lan.host(1).namespace, {
        interfaces: ['eth0'],
        root,
        retry: { timeoutMs: 250, maxTimeoutMs: 1000, maxRetries: 12 },
        nativeFastPath,
      });
    }, 60_000);

    afterAll(async () => {
      await lan?.destroy();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    async function fetch(client: Client, file: string, host = 2, timeoutMs = 30_000) {
      const out = join(work, `out-${client.name}-${host}-${file.replace(/\//g, '_')}`);
      const r = await lan.exec(lan.host(host).namespace, client.argv(serverAddress, file, out), {
        timeoutMs,
      });
      return { ...r, out };
    }

    for (const client of CLIENTS) {
      it(`${client.name} fetches 0, n×blksize and n×blksize±1 octet files intact`, async () => {
        for (const size of [0, 3 * client.blksize, 3 * client.blksize - 1, 3 * client.blksize + 1]) {
          const file = `${client.name}-${size}.bin`;
          const r = await fetch(client, file);
          expect(r.code, `${file}: ${r.stderr}`).toBe(0);
          expect(await sha256File(r.out), file).toBe(sums.get(file));
        }
      });
    }

    it('every client fetches a file past the 65,535-block rollover', async () => {
      const runs: [Client, string][] = [
        [{ ...CLIENTS[0]! }, 'roll-512.bin'],
        [
          {
            ...CLIENTS[1]!,
            argv: (s, f, o) => ['curl', '-sS', '-o', o, '--tftp-blksize', '8', `tftp://${s}:69/${f}`],
          },
          'roll-8.bin',
        ],
        [
          {
            ...CLIENTS[2]!,
            argv: (s, f, o) => ['busybox', 'tftp', '-g', '-r', f, '-l', o, '-b', '64', s, '69'],
          },
          'roll-64.bin',
        ],
        [
          {
            ...CLIENTS[3]!,
            argv: atftp('blksize 8', 'windowsize 16'),
          },
          'roll-8.bin',
        ],
      ];
      for (const [client, file] of runs) {
        const r = await fetch(client, file, 2, 60_000);
        expect(r.code, `${client.name} ${file}: ${r.stderr}`).toBe(0);
        expect(await sha256File(r.out), `${client.name} ${file}`).toBe(sums.get(file));
      }
    }, 120_000);

    it('serves files through symlinks that stay inside the root, and subdirectories', async () => {
      for (const file of ['inside-link', 'sub/inner.bin']) {
        const r = await fetch(CLIENTS[0]!, file);
        expect(r.code, r.stderr).toBe(0);
        expect(await sha256File(r.out)).toBe(sums.get(file));
      }
    });

    it('refuses traversal, absolute paths, backslashes, escaping symlinks, devices and writes', async () => {
      const cases: [string, number][] = [
        ['../secret', 2],
        ['sub/../../secret', 2],
        ['/etc/passwd', 2],
        ['sub\\inner.bin', 2],
        ['escape', 2],
        ['null-dev', 2],
        ['fifo', 2],
        ['sub', 2],
        ['missing.bin', 1],
      ];
      for (const [file, code] of cases) {
        const r = await fetch(CLIENTS[0]!, file, 2, 10_000);
        expect(`${r.stdout}${r.stderr}`, file).toContain(`Error code ${code}:`);
      }
      const put = await lan.exec(
        lan.host(2).namespace,
        ['tftp', serverAddress, '69', '-m', 'binary', '-c', 'put', join(root, 'small.bin'), 'upload.bin'],
        { timeoutMs: 10_000 },
      );
      expect(`${put.stdout}${put.stderr}`).toContain('Error code 2:');
    });

    it('completes under 10% random packet loss in both directions (atftp, busybox)', async () => {
      const rule = 'meta l4proto udp numgen random mod 100 < 10 drop';
      for (const host of [1, 3]) {
        const ns = lan.host(host).namespace;
        const script = `table inet loss {\n chain input {\n  type filter hook input priority 0;\n  ${rule}\n }\n}\n`;
        const r = await lan.exec(ns, ['nft', '-f', '-'], { input: script, timeoutMs: 5000 });
        expect(r.code, r.stderr).toBe(0);
      }
      try {
        const lossy: Client = { ...CLIENTS[3]!, argv: atftp('blksize 1428', 'windowsize 4', 'timeout 1') };
        for (const client of [lossy, CLIENTS[2]!]) {
          // atftp 0.8 aborts with "unexpected OACK" when its ACK 0 is lost and the server (rightly) repeats
          // the OACK — about one run in ten at 10% loss. With windows it also sends the ACK of a window it
          // completed only once ("sending extra ACK for <block: n>"); when that ACK is lost it ignores
          // every retransmitted window (the server's retries, rightly, resend the unacknowledged window)
          // until the server gives up (seen once in ~8 runs, on either data path).
          // Those are the client's fragilities, so it gets up to three attempts; any other failure, or
          // three in a row, fails the test.
          const clientBug = /unexpected OACK|sending extra ACK for <block: \d+>/;
          let r = await fetch(client, 'small.bin', 3, 60_000);
          for (let attempt = 1; attempt < 3 && r.code !== 0 && clientBug.test(r.stderr); attempt++) {
            r = await fetch(client, 'small.bin', 3, 60_000);
          }
          expect(r.code, `${client.name}: ${r.stderr}`).toBe(0);
          expect(await sha256File(r.out), client.name).toBe(sums.get('small.bin'));
        }
      } finally {
        for (const host of [1, 3]) {
          await lan.exec(lan.host(host).namespace, ['nft', 'delete', 'table', 'inet', 'loss'], {
            timeoutMs: 5000,
          });
        }
      }
    }, 120_000);

    it('counts bytes, packets and retransmissions and returns to zero active transfers', async () => {
      const result = await server.stop('SIGTERM', 5000);
      const text = result.stdout;
      expect(metricValue(text, 'bootpt_agent_tftp_bytes_sent_total', { mode: 'unicast' })).toBeGreaterThan(
        65_535 * 512,
      );
      expect(metricValue(text, 'bootpt_agent_tftp_packets_sent_total', { mode: 'unicast' })).toBeGreaterThan(
        65_535,
      );
      expect(
        metricValue(text, 'bootpt_agent_tftp_retransmissions_total', { mode: 'unicast' }),
      ).toBeGreaterThan(0);
      expect(metricValue(text, 'bootpt_agent_tftp_active_transfers')).toBe(0);
      // Every transfer (lock-step and windowed atftp) took the path under test.
      const other = path === 'native' ? 'js' : 'native';
      expect(metricValue(text, 'bootpt_agent_tftp_unicast_transfers_total', { path })).toBeGreaterThan(15);
      expect(metricValue(text, 'bootpt_agent_tftp_unicast_transfers_total', { path: other })).toBe(0);
      expect(
        metricValue(text, 'bootpt_agent_tftp_requests_total', { result: 'dot_component' }),
      ).toBeGreaterThan(0);
      expect(
        metricValue(text, 'bootpt_agent_tftp_transfer_duration_seconds_count', {
          mode: 'unicast',
          outcome: 'complete',
        }),
      ).toBeGreaterThan(15);
    });
  },
);
