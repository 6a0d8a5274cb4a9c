/**
 * Network-boots QEMU's iPXE ROM (software emulation, KVM is not available here) on a TestLan's tap and
 * watches the serial console for a marker. Shared by the agent's PXE tests.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { TestLan } from './netns.js';

export const QEMU = '/usr/bin/qemu-system-x86_64';
export const IPXE_E1000_ROM = '/usr/lib/ipxe/qemu/pxe-e1000.rom';
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

export interface PxeBootOptions {
  /** A tap device already attached to the LAN's bridge (`lan.addTap(tap)`). */
  tap: string;
  mac: string;
  memoryMb: number;
  /** Serial console log file. */
  serial: string;
  marker: string;
  timeoutMs: number;
}

/**
 * Boots until the marker shows on the serial console, the guest stops, or the timeout passes, then
 * stops QEMU. Returns the serial console text without ANSI colour codes.
 */
export async function pxeBootUntilMarker(lan: TestLan, o: PxeBootOptions): Promise<string> {
  const qemu = lan.spawn(lan.bridgeNamespace, [
    QEMU,
    '-accel',
    'tcg',
    '-m',
    String(o.memoryMb),
    '-display',
    'none',
    '-nodefaults',
    '-machine',
    'graphics=off',
    '-serial',
    `file:${o.serial}`,
    '-monitor',
    'none',
    '-netdev',
    `tap,id=n0,ifname=${o.tap},script=no,downscript=no`,
    '-device',
    `e1000,netdev=n0,mac=${o.mac},romfile=${IPXE_E1000_ROM}`,
    '-boot',
    'n',
    '-no-reboot',
  ]);
  const deadline = Date.now() + o.timeoutMs;
  let screen = '';
  while (Date.now() < deadline && !screen.includes(o.marker) && qemu.running) {
    await new Promise((r) => setTimeout(r, 500));
    screen = existsSync(o.serial) ? (await readFile(o.serial, 'latin1')).replace(ANSI_COLOUR, '') : '';
  }
  await qemu.stop('SIGTERM', 3000);
  return screen;
}
