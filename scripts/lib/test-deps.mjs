// Debian packages the tests and benchmarks talk to: real third-party clients and servers that nobody
// here wrote, and Debian's chromium for browser tests. Installed on demand by `npm test` / `npm run bench`.
import { existsSync } from 'node:fs';
import { which } from './proc.mjs';
import { ensureDebianPackages } from './services.mjs';

const cmd = (pkg, command) => ({ pkg, check: () => which(command) });
const file = (pkg, path) => ({ pkg, check: () => existsSync(path) });

export const testPackages = [
  cmd('chromium', 'chromium'),
  cmd('iproute2', 'ip'),
  cmd('busybox', 'busybox'),
  cmd('isc-dhcp-client', 'dhclient'),
  cmd('dhcpcd', 'dhcpcd'),
  file('klibc-utils', '/usr/lib/klibc/bin/ipconfig'),
  cmd('bootpc', 'bootpc'),
  cmd('isc-dhcp-relay', 'dhcrelay'),
  cmd('tftp-hpa', 'tftp'),
  cmd('atftp', 'atftp'),
  cmd('curl', 'curl'),
  cmd('nftables', 'nft'),
  cmd('dnsmasq', 'dnsmasq'),
  cmd('docker-compose', 'docker-compose'),
  cmd('qemu-system-x86', 'qemu-system-x86_64'),
  file('ipxe-qemu', '/usr/lib/ipxe/qemu/efi-e1000.rom'),
  cmd('cpio', 'cpio'),
];

/**
 * Toolchain for the optional native TFTP add-on (packages/tftp-native, built by node-gyp): the tests run
 * the native path with `nativeFastPath: required`, and `npm run up` installs it when running as root.
 */
export const nativeBuildPackages = [cmd('g++', 'g++'), cmd('make', 'make'), cmd('python3', 'python3')];

export const benchPackages = [
  cmd('kea-admin', 'perfdhcp'),
  cmd('atftpd', 'atftpd'),
  cmd('zsync', 'zsync'),
  cmd('rsync', 'rsync'),
];

export function ensureTestPackages({ bench = false } = {}) {
  const packages = [...testPackages, ...nativeBuildPackages];
  ensureDebianPackages(bench ? [...packages, ...benchPackages] : packages);
}
