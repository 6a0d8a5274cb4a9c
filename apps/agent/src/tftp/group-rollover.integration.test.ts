import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasNetns } from '../../../../tests/lib/netns.js';
import { metricValue, sha256File, useGroupLan } from './testing.js';

/**
 * Group block-number rollover (packages/protocol/SPEC.md §11): three BOOTP Turbo TFTP clients
 * (tests/tftp/client.ts over the client library) in three namespaces fetch one file of 68,000 blocks of
 * 512 octets by RFC 2090 multicast, so the wire numbers wrap 65535 → 0; every copy is SHA-256 verified.
 * Past the wrap a group is granted only to clients that send `rollover 0`: atftp asks for multicast and
 * tsize but cannot unwrap group numbers (it aborts at the wrap), so it must get unicast and complete.
 */

const netns = hasNetns();
const hasAtftp = spawnSync('which', ['atftp'], { encoding: 'utf8' }).status === 0;
const skip = !netns.ok ? netns.reason : hasAtftp ? '' : 'atftp missing';
const subnet = `10.216.${100 + (process.pid % 50)}`;
const BLKSIZE = 512;
const BLOCKS = 68_000;
const SIZE = (BLOCKS - 1) * BLKSIZE + 300;
const CLIENT = resolve(import.meta.dirname, '../../../../tests/tftp/client.ts');

describe.skipIf(skip !== '')(`TFTP multicast past 65,535 blocks${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const group = useGroupLan({ subnet, tag: 'tfwr', file: 'big.bin', size: SIZE, seed: 11 });

  it('atftp asking for multicast past the wrap gets unicast (it cannot unwrap group numbers) and completes', async () => {
    const { lan, work, digest } = group();
    const out = join(work, 'out-atftp');
    const r = await lan.exec(
      lan.host(2).namespace,
      ['atftp', '-g', '-r', 'big.bin', '-l', out, '--option', 'multicast', '--option', 'tsize 0'].concat([
        '--option',
        `blksize ${BLKSIZE}`,
        '--option',
        'windowsize 16',
        `${subnet}.1`,
        '69',
      ]),
      { timeoutMs: 120_000 },
    );
    expect(r.code, `${r.stderr}${r.stdout}`).toBe(0);
    expect(await sha256File(out)).toBe(digest);
  }, 180_000);

  it('three clients share one stream whose block numbers wrap, with master hand-over', async () => {
    const { lan, server, work, digest } = group();
    const fetch = (host: number) =>
      lan.exec(
        lan.host(host).namespace,
        [
          process.execPath,
          '--conditions=source',
          '--import',
          'tsx',
          CLIENT,
          `${subnet}.1`,
          '69',
          'big.bin',
          join(work, `out-${host}`),
          '--blksize',
          String(BLKSIZE),
          '--windowsize',
          '16',
          '--multicast',
          '--local',
          lan.host(host).address!,
        ],
        { timeoutMs: 120_000 },
      );
    const results = await Promise.all([fetch(2), fetch(3), fetch(4)]);
    for (const [i, r] of results.entries()) {
      expect(r.code, `client ${i + 2}: ${r.stderr}${r.stdout}`).toBe(0);
      expect(r.stdout).toContain(`done complete ${SIZE}`);
      expect(await sha256File(join(work, `out-${i + 2}`)), `client ${i + 2}`).toBe(digest);
    }
    const stopped = await server.stop('SIGTERM', 5000);
    expect(stopped.stderr).toContain('mastership passed');
    const text = stopped.stdout;
    const multicastBytes = metricValue(text, 'bootpt_agent_tftp_bytes_sent_total', { mode: 'multicast' });
    expect(multicastBytes).toBeGreaterThanOrEqual(SIZE);
    // One stream (unicast would be three copies); the two later masters re-fetch only the blocks whose
    // wrapped number is ambiguous (2 × 2,464 each), plus windows of blocks they already hold.
    expect(multicastBytes).toBeLessThan(1.5 * SIZE);
    process.stdout.write(`rollover group: ${multicastBytes} multicast bytes for 3 × ${SIZE}\n`);
    expect(
      metricValue(text, 'bootpt_agent_tftp_transfer_duration_seconds_count', {
        mode: 'multicast',
        outcome: 'complete',
      }),
    ).toBe(3);
    expect(metricValue(text, 'bootpt_agent_tftp_active_groups')).toBe(0);
    // The atftp request above (multicast without `rollover 0`) was served by unicast.
    expect(
      metricValue(text, 'bootpt_agent_tftp_transfer_duration_seconds_count', {
        mode: 'unicast',
        outcome: 'complete',
      }),
    ).toBe(1);
  }, 180_000);
});
