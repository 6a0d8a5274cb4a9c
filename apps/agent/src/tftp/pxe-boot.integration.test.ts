import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasNetns, TestLan } from '../../../../tests/lib/netns.js';
import { IPXE_E1000_ROM, pxeBootUntilMarker, QEMU } from '../../../../tests/lib/qemu.js';
import { AgentProcess } from '../testing/agent-process.js';
import { busyboxInitramfs, debianKernel } from './boot-artifacts.js';

/**
 * A real network boot served entirely by the agent: QEMU's e1000 iPXE ROM (software emulation) DHCPs from
 * the responder, fetches its script, a Debian kernel and a busybox initramfs from the agent's own TFTP
 * service, and the initramfs prints a marker on the serial console and powers off.
 */

const missing = [QEMU, IPXE_E1000_ROM, '/usr/bin/cpio'].filter((p) => !existsSync(p));
const netns = hasNetns();
const skipReason = !netns.ok ? netns.reason : missing.length ? `missing ${missing.join(', ')}` : undefined;
const tag = process.pid % 100000;
const net = `10.215.${150 + (process.pid % 50)}`;
const SERVER = `${net}.1`;
const GUEST_MAC = `52:54:00:${((tag >> 8) & 255).toString(16).padStart(2, '0')}:${(tag & 255).toString(16).padStart(2, '0')}:57`;
const MARKER = 'BOOTPT-TFTP-E2E-INIT-OK';

describe.skipIf(skipReason !== undefined)(
  `PXE boot from the agent's TFTP${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let lan: TestLan;
    let work: string;
    let agent: AgentProcess | undefined;

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'bpt-tftp-pxe-'));
      const root = join(work, 'tftp');
      await mkdir(root);
      await copyFile(debianKernel(), join(root, 'vmlinuz'));
      busyboxInitramfs(join(root, 'initrd.img'), MARKER);
      await writeFile(
        join(root, 'boot.ipxe'),
        [
          '#!ipxe',
          `kernel tftp://${SERVER}/vmlinuz console=ttyS0 quiet panic=-1 rdinit=/init`,
          `initrd tftp://${SERVER}/initrd.img`,
          'boot',
          '',
        ].join('\n'),
      );
      lan = await TestLan.create({ subnet: net, tag: 'tfq', hosts: [{ hostOctet: 1 }] });
      lan.addTap('tap0');
      agent = await AgentProcess.start(lan, {
        namespace: lan.host(1).namespace,
        site: {
          subnets: [{ id: 'q', cidr: `${net}.0/24`, routers: [SERVER], profile: 'p' }],
          profiles: [
            { id: 'p', bootFiles: { bios: 'undionly.kpxe' }, ipxeScriptUrl: `tftp://${SERVER}/boot.ipxe` },
          ],
          hosts: [{ mac: GUEST_MAC, ip: `${net}.50` }],
        },
        config: {
          responder: { interfaces: ['eth0'] },
          tftp: { enabled: true, interfaces: ['eth0'], root },
          log: { level: 'debug' },
        },
      });
    }, 300_000);

    afterAll(async () => {
      await agent?.cleanup();
      await lan?.destroy();
      if (work) await rm(work, { recursive: true, force: true });
    });

    it('iPXE fetches script, kernel and initramfs over the agent TFTP and the initramfs runs', async () => {
      const serial = join(work, 'serial.log');
      const screen = await pxeBootUntilMarker(lan, {
        tap: 'tap0',
        mac: GUEST_MAC,
        memoryMb: 512,
        serial,
        marker: MARKER,
        timeoutMs: 150_000,
      });
      expect(screen, screen.slice(-3000)).toContain(MARKER);
      const done = agent!.logLines.filter((l) => l.includes('tftp transfer finished'));
      for (const file of ['boot.ipxe', 'vmlinuz', 'initrd.img']) {
        expect(
          done.some((l) => l.includes(file) && l.includes('"outcome":"complete"')),
          file,
        ).toBe(true);
      }
      expect(await agent!.metric('bootpt_agent_tftp_bytes_sent_total', { mode: 'unicast' })).toBeGreaterThan(
        1_000_000,
      );
    }, 200_000);
  },
);
