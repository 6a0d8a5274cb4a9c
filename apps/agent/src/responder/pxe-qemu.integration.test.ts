import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess } from '../testing/agent-process.js';
import { netnsUnavailable, TestLan } from '../testing/netns.js';

/**
 * A real network boot: QEMU's e1000 option ROM (iPXE, software emulation) DHCPs from the agent, is
 * recognised as iPXE and given its script URL (not the ROM image again), fetches the script over TFTP from
 * a reference server (dnsmasq in TFTP-only mode, until the agent's own TFTP service exists) and prints
 * the script's marker on the serial console.
 */

const QEMU = '/usr/bin/qemu-system-x86_64';
const ROM = '/usr/lib/ipxe/qemu/pxe-e1000.rom';
const missing = [QEMU, ROM, '/usr/sbin/dnsmasq'].filter((p) => !existsSync(p));
const skipReason =
  (await netnsUnavailable()) ?? (missing.length ? `missing ${missing.join(', ')}` : undefined);
const tag = process.pid % 100000;
const octet = 100 + (process.pid % 60) * 2 + 20;
const net = `10.214.${octet}`;
const SERVER = `${net}.1`;
const GUEST_MAC = `52:54:00:${((tag >> 8) & 255).toString(16).padStart(2, '0')}:${(tag & 255).toString(16).padStart(2, '0')}:56`;
const MARKER = 'BOOTPT-IPXE-SCRIPT-OK';
/** iPXE colours its console output with ANSI escapes (ESC [ ... m). */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

describe.skipIf(skipReason !== undefined)(
  `PXE boot of QEMU's iPXE ROM${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    const lan = new TestLan(`bpt-ag-${tag}q`);
    let work: string;
    let agent: AgentProcess | undefined;

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'bpt-agent-qemu-'));
      await mkdir(join(work, 'tftp'));
      // iPXE's `${filename}` shows what the agent told it; `exit` hands back to the BIOS (no poweroff in this build).
      await writeFile(
        join(work, 'tftp', 'boot.ipxe'),
        `#!ipxe\necho ${MARKER} \${net0/ip} \${filename}\nexit\n`,
      );
      await lan.create();
      const serverNs = await lan.addHost('srv', { cidr: `${SERVER}/24` });
      await lan.addTap('tap0');
      agent = await AgentProcess.start(lan, {
        ns: serverNs,
        site: {
          subnets: [{ id: 'q', cidr: `${net}.0/24`, routers: [SERVER], profile: 'p' }],
          profiles: [
            { id: 'p', bootFiles: { bios: 'undionly.kpxe' }, ipxeScriptUrl: `tftp://${SERVER}/boot.ipxe` },
          ],
          hosts: [{ mac: GUEST_MAC, ip: `${net}.50` }],
        },
        config: { responder: { interfaces: ['eth0'] }, log: { level: 'debug' } },
      });
      lan.spawn(serverNs, 'dnsmasq', [
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
    }, 60_000);

    afterAll(async () => {
      await agent?.cleanup();
      await lan.destroy();
      if (work) await rm(work, { recursive: true, force: true });
    });

    it('DHCPs, gets the iPXE script URL instead of the ROM again, and runs the script', async () => {
      const serial = join(work, 'serial.log');
      const qemu = lan.spawn(lan.bridgeNs, QEMU, [
        '-accel',
        'tcg',
        '-m',
        '256',
        '-display',
        'none',
        '-nodefaults',
        '-machine',
        'graphics=off',
        '-serial',
        `file:${serial}`,
        '-monitor',
        'none',
        '-netdev',
        'tap,id=n0,ifname=tap0,script=no,downscript=no',
        '-device',
        `e1000,netdev=n0,mac=${GUEST_MAC},romfile=${ROM}`,
        '-boot',
        'n',
        '-no-reboot',
      ]);
      const deadline = Date.now() + 60_000;
      let screen = '';
      while (Date.now() < deadline && !screen.includes(MARKER)) {
        await new Promise((r) => setTimeout(r, 500));
        screen = existsSync(serial) ? (await readFile(serial, 'latin1')).replace(ANSI_COLOUR, '') : '';
        if (qemu.exitCode !== null) break;
      }
      await lan.stop(qemu, 'SIGTERM', 3000);
      expect(screen).toContain(`${MARKER} ${net}.50 tftp://${SERVER}/boot.ipxe`);
      const offers = agent!.logLines.filter((l) => l.includes('"replied"') && l.includes(GUEST_MAC));
      expect(offers.some((l) => l.includes('"outcome":"offer"'))).toBe(true);
      expect(offers.some((l) => l.includes('"outcome":"ack"'))).toBe(true);
      expect(offers.every((l) => l.includes(`tftp://${SERVER}/boot.ipxe`))).toBe(true);
      expect(
        await agent!.metric('bootpt_agent_dhcp_requests_total', { client: 'ipxe', outcome: 'ack' }),
      ).toBe(1);
    }, 90_000);
  },
);
