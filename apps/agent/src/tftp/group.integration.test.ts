import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hasNetns } from '../../../../tests/lib/netns.js';
import { metricValue, sha256File, useGroupLan } from './testing.js';

/**
 * RFC 2090 multicast with atftp from three namespaces at once: one group, master hand-over as masters
 * finish, a late joiner, every copy verified by SHA-256, and about one file's worth of DATA on the wire.
 */

const hasAtftp = spawnSync('which', ['atftp'], { encoding: 'utf8' }).status === 0;
const netns = hasNetns();
const skip = !netns.ok ? netns.reason : hasAtftp ? '' : 'atftp missing';
const subnet = `10.215.${100 + (process.pid % 50)}`;
const SIZE = 3 * 1024 * 1024 + 777;

describe.skipIf(skip !== '')(`TFTP multicast groups${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const group = useGroupLan({ subnet, tag: 'tfmc', file: 'image.bin', size: SIZE, seed: 7 });

  it('three atftp clients share one multicast stream, with master hand-over and a late joiner', async () => {
    const { lan, server, work, digest } = group();
    const fetch = (host: number) =>
      lan.exec(
        lan.host(host).namespace,
        [
          'atftp',
          '-g',
          '-r',
          'image.bin',
          '-l',
          join(work, `out-${host}`),
          '--option',
          'multicast',
          '--option',
          'blksize 1428',
          '--option',
          'windowsize 8',
          `${subnet}.1`,
          '69',
        ],
        { timeoutMs: 60_000 },
      );
    const first = [fetch(2), fetch(3)];
    await new Promise((r) => setTimeout(r, 50));
    const late = fetch(4);
    const results = await Promise.all([...first, late]);
    for (const [i, r] of results.entries()) {
      expect(r.code, `client ${i + 2}: ${r.stderr}${r.stdout}`).toBe(0);
      expect(await sha256File(join(work, `out-${i + 2}`)), `client ${i + 2}`).toBe(digest);
    }
    const stopped = await server.stop('SIGTERM', 5000);
    const log = stopped.stderr;
    expect(log).toContain('mastership passed');
    const text = stopped.stdout;
    const multicastBytes = metricValue(text, 'bootpt_agent_tftp_bytes_sent_total', { mode: 'multicast' });
    expect(multicastBytes).toBeGreaterThan(SIZE);
    // One stream for three clients (unicast would put three copies on the wire); the late joiner's
    // missed head is sent again once it becomes master.
    expect(multicastBytes).toBeLessThan(2 * SIZE);
    expect(metricValue(text, 'bootpt_agent_tftp_active_groups')).toBe(0);
    expect(metricValue(text, 'bootpt_agent_tftp_active_transfers')).toBe(0);
    expect(
      metricValue(text, 'bootpt_agent_tftp_transfer_duration_seconds_count', {
        mode: 'multicast',
        outcome: 'complete',
      }),
    ).toBe(3);
  }, 90_000);
});
