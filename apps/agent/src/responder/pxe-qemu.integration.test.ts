import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasNetns, TestLan } from '../../../../tests/lib/netns.js';
import { IPXE_E1000_ROM, pxeBootUntilMarker, QEMU } from '../../../../tests/lib/qemu.js';
import { AgentProcess } from '../testing/agent-process.js';

/**
 * A real network boot: QEMU's e1000 option ROM (iPXE, software emulation) DHCPs from the agent, is
 * recognised as iPXE and given its script URL (not the ROM image again), fetches the script over TFTP from
 * a reference server (dnsmasq in TFTP-only mode, until the agent's own TFTP service exists) and prints
 * the script's marker on the serial console.
 */

const missing = [QEMU, IPXE_E1000_ROM, '/usr/sbin/dnsmasq'].filter((p) => !existsSync(p));
const capability = hasNetns();
const skipReason = !capability.ok
  ? capability.reason
  : missing.length > 0
    ? `missing ${missing.join(', ')}`
    : undefined;
const tag = process.pid % 100000;
const net = `10.214.${100 + (process.pid % 60) * 2 + 20}`;
const SERVER = `${net}.1`;
const hex = (n: number) => n.toString(16).padStart(2, '0');
const GUEST_MAC = `52:54:00:${hex((tag >> 8) & 255)}:${hex(tag & 255)}:56`;
const MARKER = 'BOOTPT-IPXE-SCRIPT-OK';
/** iPXE colours its console output with ANSI escapes (ESC [ ... m). */

describe.skipIf(skipReason !== undefined)(
  `PXE boot of QEMU's iPXE ROM${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let lan: TestLan;
    let work: string;
    let agent: AgentProcess | undefined;

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'bpt-agent-qemu-'));
      await mkdir(join(work, 'tftp'));
      // `${filename}` shows what the agent told iPXE; `exit` hands back to the BIOS (no poweroff in this build).
      await writeFile(
        join(work, 'tftp', 'boot.ipxe'),
        `#!ipxe\necho ${MARKER} \${net0/ip} \${filename}\nexit\n`,
      );
      lan = await TestLan.create({ subnet: net, tag: 'agq', hosts: [{ hostOctet: 1 }] });
      lan.addTap('tap0');
      const server = lan.host(1).namespace;
      agent = await AgentProcess.start(lan, {
        namespace: server,
        site: {
          subnets: [{ id: 'q', cidr: `${net}.0/24`, routers: [SERVER], profile: 'p' }],
          profiles: [
            { id: 'p', bootFiles: { bios: 'undionly.kpxe' }, ipxeScriptUrl: `tftp://${SERVER}/boot.ipxe` },
          ],
          hosts: [{ mac: GUEST_MAC, ip: `${net}.50` }],
        },
        config: { responder: { interfaces: ['eth0'] }, log: { level: 'debug' } },
      });
      const tftp = lan.spawn(server, [
        'dnsmasq',
        '-k',
        '--port=0',
        '--enable-tftp',
        `--tftp-root=${join(work, 'tftp')}`,
        '--interface=eth0',
        '--bind-interfaces',
        '--user=root',
        '--group=root',
        `--pid-file=${join(work, 'dnsmasq.pid')}`,
        '--log-facility=-',
      ]);
      await tftp.waitForOutput('TFTP root is', 10_000);
    }, 60_000);

    afterAll(async () => {
      await agent?.cleanup();
      await lan?.destroy();
      if (work) await rm(work, { recursive: true, force: true });
    });

    it('DHCPs, gets the iPXE script URL instead of the ROM again, and runs the script', async () => {
      const serial = join(work, 'serial.log');
      const screen = await pxeBootUntilMarker(lan, {
        tap: 'tap0',
        mac: GUEST_MAC,
        memoryMb: 256,
        serial,
        marker: MARKER,
        timeoutMs: 60_000,
      });
      expect(screen).toContain(`${MARKER} ${net}.50 tftp://${SERVER}/boot.ipxe`);
      const replies = agent!.logLines.filter((l) => l.includes('"replied"') && l.includes(GUEST_MAC));
      expect(replies.some((l) => l.includes('"outcome":"offer"'))).toBe(true);
      expect(replies.some((l) => l.includes('"outcome":"ack"'))).toBe(true);
      expect(replies.every((l) => l.includes(`tftp://${SERVER}/boot.ipxe`))).toBe(true);
      expect(
        await agent!.metric('bootpt_agent_dhcp_requests_total', { client: 'ipxe', outcome: 'ack' }),
      ).toBe(1);
    }, 90_000);
  },
);
