import { describe, expect, it } from 'vitest';
import type { BootProfile } from '../backend/site.js';
import {
  chooseBoot,
  classifyClient,
  firmwareFamily,
  type ClientKind,
  type ClientSignals,
} from './boot-policy.js';

const profile: BootProfile = {
  id: 'p',
  bootFiles: {
    bios: 'undionly.kpxe',
    uefiX64: 'ipxe.efi',
    uefiArm64: 'ipxe-arm64.efi',
    default: 'linux/pxelinux.0',
  },
  ipxeScriptUrl: 'http://10.0.0.1/boot.ipxe',
  httpBootUrls: { x64: 'http://10.0.0.1/boot-x64.efi' },
};
const noScript: BootProfile = { ...profile, ipxeScriptUrl: undefined };
const base: ClientSignals = { isDhcp: true, hasIpxeEncapsulated: false };

describe('classifyClient', () => {
  it.each<[string, ClientSignals, ClientKind]>([
    ['BOOTP without option 53', { ...base, isDhcp: false }, 'bootp'],
    ['plain DHCP', base, 'dhcp'],
    ['udhcpc vendor class', { ...base, vendorClass: 'udhcp 1.36.1' }, 'dhcp'],
    ['PXE ROM', { ...base, vendorClass: 'PXEClient:Arch:00000:UNDI:002001', arch: 0 }, 'pxe'],
    [
      'iPXE by raw user class',
      { ...base, vendorClass: 'PXEClient:Arch:00000:UNDI:002001', userClass: 'iPXE' },
      'ipxe',
    ],
    ['iPXE by RFC 3004 user class', { ...base, userClass: '\x04iPXE' }, 'ipxe'],
    [
      'iPXE by option 175',
      { ...base, vendorClass: 'PXEClient:Arch:00007:UNDI:003016', hasIpxeEncapsulated: true },
      'ipxe',
    ],
    ['UEFI HTTP Boot', { ...base, vendorClass: 'HTTPClient:Arch:00016:UNDI:003001', arch: 16 }, 'http'],
    ['a user class that only contains the letters', { ...base, userClass: 'notiPXE' }, 'dhcp'],
  ])('%s', (_name, signals, kind) => {
    expect(classifyClient(signals)).toBe(kind);
  });
});

describe('firmwareFamily', () => {
  it.each([
    [undefined, 'bios'],
    [0, 'bios'],
    [6, 'uefiIa32'],
    [7, 'uefiX64'],
    [9, 'uefiX64'],
    [10, 'uefiArm32'],
    [11, 'uefiArm64'],
    [2, undefined],
    [16, undefined],
  ] as const)('arch %s → %s', (arch, family) => {
    expect(firmwareFamily(arch)).toBe(family);
  });
});

describe('chooseBoot', () => {
  const pxe = { pxeServer: true };
  it.each<
    [
      string,
      ClientKind,
      number | undefined,
      BootProfile | undefined,
      string | undefined,
      { pxeServer: boolean },
      object,
    ]
  >([
    ['BIOS PXE', 'pxe', 0, profile, undefined, pxe, { file: 'undionly.kpxe', vendorClass: 'PXEClient' }],
    ['x64 UEFI PXE (7)', 'pxe', 7, profile, undefined, pxe, { file: 'ipxe.efi', vendorClass: 'PXEClient' }],
    [
      'x64 UEFI PXE (9, pre-errata)',
      'pxe',
      9,
      profile,
      undefined,
      pxe,
      { file: 'ipxe.efi', vendorClass: 'PXEClient' },
    ],
    [
      'ARM64 UEFI PXE',
      'pxe',
      11,
      profile,
      undefined,
      pxe,
      { file: 'ipxe-arm64.efi', vendorClass: 'PXEClient' },
    ],
    [
      'IA32 UEFI with no file',
      'pxe',
      6,
      profile,
      undefined,
      pxe,
      { vendorClass: 'PXEClient', reason: 'no_file_for_arch' },
    ],
    ['Itanium', 'pxe', 2, profile, undefined, pxe, { vendorClass: 'PXEClient', reason: 'unsupported_arch' }],
    [
      'PXE when not the PXE server',
      'pxe',
      0,
      profile,
      undefined,
      { pxeServer: false },
      { file: 'undionly.kpxe' },
    ],
    [
      'PXE host override',
      'pxe',
      7,
      profile,
      'special.efi',
      pxe,
      { file: 'special.efi', vendorClass: 'PXEClient' },
    ],
    [
      'iPXE gets the script, not the ROM again',
      'ipxe',
      0,
      profile,
      undefined,
      pxe,
      { file: 'http://10.0.0.1/boot.ipxe' },
    ],
    [
      'iPXE without a script is not given iPXE again',
      'ipxe',
      0,
      noScript,
      undefined,
      pxe,
      { reason: 'ipxe_without_script' },
    ],
    [
      'iPXE without a script gets a non-iPXE host file',
      'ipxe',
      0,
      noScript,
      'vmlinuz',
      pxe,
      { file: 'vmlinuz' },
    ],
    [
      'UEFI HTTP x64',
      'http',
      16,
      profile,
      undefined,
      pxe,
      { file: 'http://10.0.0.1/boot-x64.efi', vendorClass: 'HTTPClient' },
    ],
    [
      'UEFI HTTP arm64 without URL',
      'http',
      19,
      profile,
      undefined,
      pxe,
      { vendorClass: 'HTTPClient', reason: 'no_file_for_arch' },
    ],
    [
      'UEFI HTTP never gets a TFTP path',
      'http',
      15,
      profile,
      'tftp-only.0',
      pxe,
      { vendorClass: 'HTTPClient', reason: 'unsupported_arch' },
    ],
    ['plain BOOTP', 'bootp', undefined, profile, undefined, pxe, { file: 'linux/pxelinux.0' }],
    ['plain DHCP host override', 'dhcp', undefined, profile, 'host.img', pxe, { file: 'host.img' }],
    ['no profile', 'dhcp', undefined, undefined, undefined, pxe, { reason: 'no_profile' }],
  ])('%s', (_name, kind, arch, prof, hostFile, options, expected) => {
    expect(chooseBoot(kind, arch, prof, hostFile, options)).toEqual(expected);
  });
});
