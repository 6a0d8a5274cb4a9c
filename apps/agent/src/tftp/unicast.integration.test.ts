import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasNetns, TestLan } from '../../../../tests/lib/netns.js';
import type { NetnsProcess } from '../../../../tests/lib/netns.js';
import { metricValue, pseudoRandom, sha256, sha256File, startTftpServer } from './testing.js';

/**
 * The unicast ACK fast path (`unicast.ts`: the next window goes out before the machine step, whose identical
 * sends are then skipped) must send every block exactly once on a clean link: a duplicate would still
 * leave the client's file intact, so this counts the datagrams the service reports instead. atftp in a
 * namespace LAN, lock-step and windows, GSO-sized and IP-fragmented blocks, and the block-number rollover.
 */

const netns = hasNetns();
const hasAtftp = spawnSync('which', ['atftp'], { encoding: 'utf8' }).status === 0;
const skip = !netns.ok ? netns.reason : hasAtftp ? '' : 'missing atftp';
const subnet = `10.215.${100 + (process.pid % 50)}`;

interface Case {
  readonly blksize: number;
  readonly windowsize: number;
  readonly size: number;
}

const CASES: readonly Case[] = [
  { blksize: 512, windowsize: 1, size: 300 * 512 + 100 },
  { blksize: 1468, windowsize: 8, size: 101 * 1468 },
  { blksize: 8192, windowsize: 8, size: 45 * 8192 + 1 },
  { blksize: 512, windowsize: 32, size: 77 * 512 - 1 },
  // Past block 65,535: the fast path matches 16-bit ACK numbers across the wrap.
  { blksize: 512, windowsize: 16, size: 65_540 * 512 + 7 },
];

describe.skipIf(skip !== '')(`unicast ACK fast path${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let lan: TestLan;
  let server: NetnsProcess;
  let work: string;
  const serverAddress = `${subnet}.1`;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'bpt-tftp-fast-'));
    mkdirSync(join(work, 'root'));
    lan = await TestLan.create({ subnet, hosts: 2, tag: 'tfu' });
    server = await startTftpServer(lan, lan.host(1).namespace, {
      interfaces: ['eth0'],
      root: join(work, 'root'),
      maxBlksize: 65464,
      maxWindowsize: 64,
    });
  }, 60_000);

  afterAll(async () => {
    await lan?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('sends each block once (plus the OACK) and retransmits nothing, file intact', async () => {
    let expectedPackets = 0;
    for (const [i, c] of CASES.entries()) {
      const name = `f-${c.blksize}-${c.windowsize}.bin`;
      const body = pseudoRandom(c.size, i + 1);
      writeFileSync(join(work, 'root', name), body);
      const out = join(work, `out-${name}`);
      const argv = ['atftp', '-g', '-r', name, '-l', out, '--option', `blksize ${c.blksize}`];
      if (c.windowsize > 1) argv.push('--option', `windowsize ${c.windowsize}`);
      const r = await lan.exec(lan.host(2).namespace, [...argv, serverAddress, '69'], { timeoutMs: 60_000 });
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(await sha256File(out), name).toBe(sha256(body));
      expectedPackets += 1 + Math.floor(c.size / c.blksize) + 1;
    }
    const result = await server.stop('SIGTERM', 5000);
    expect(metricValue(result.stdout, 'bootpt_agent_tftp_retransmissions_total', { mode: 'unicast' })).toBe(
      0,
    );
    expect(metricValue(result.stdout, 'bootpt_agent_tftp_packets_sent_total', { mode: 'unicast' })).toBe(
      expectedPackets,
    );
  }, 180_000);
});
