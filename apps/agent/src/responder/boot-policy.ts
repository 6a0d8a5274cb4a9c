import type { BootProfile } from '../backend/site.js';

/**
 * Which boot file (or URL) a client gets: a pure function of what the client said about itself and the
 * profile it maps to, table-tested in `boot-policy.test.ts`.
 *
 * Client kinds, decided from the request (PROTOCOLS.md §2.3, §2.6, §6):
 * - `ipxe`: option 77 is the raw string `iPXE` or option 175 is present. It gets the profile's iPXE script
 *   URL, never the ROM image it was just loaded from (that would chain-load forever).
 * - `http`: option 60 starts with `HTTPClient` (UEFI HTTP Boot). It gets a URL and option 60 `HTTPClient`.
 * - `pxe`: option 60 starts with `PXEClient`. It gets a TFTP path by architecture (option 93), and option 60
 *   `PXEClient` only when this agent is configured as the PXE server (otherwise ROMs go looking for a
 *   ProxyDHCP on port 4011 and fail with PXE-E55).
 * - `dhcp` / `bootp`: everything else: the host's boot file, else the profile's `default`.
 */

export type ClientKind = 'bootp' | 'dhcp' | 'pxe' | 'ipxe' | 'http';
export type FirmwareFamily = 'bios' | 'uefiIa32' | 'uefiX64' | 'uefiArm32' | 'uefiArm64';

export interface ClientSignals {
  readonly isDhcp: boolean;
  /** Option 60, as text. */
  readonly vendorClass?: string | undefined;
  /** Option 77, raw bytes as latin-1 text. */
  readonly userClass?: string | undefined;
  /** Option 175 present. */
  readonly hasIpxeEncapsulated: boolean;
  /** Option 93, first entry. */
  readonly arch?: number | undefined;
}

export interface BootDecision {
  readonly file?: string;
  readonly vendorClass?: 'PXEClient' | 'HTTPClient';
  /** Why no file was chosen (bounded set, safe as a log field). */
  readonly reason?: 'no_profile' | 'no_file_for_arch' | 'unsupported_arch' | 'ipxe_without_script';
}

export function classifyClient(s: ClientSignals): ClientKind {
  if (s.hasIpxeEncapsulated || userClassSaysIpxe(s.userClass)) return 'ipxe';
  if (s.vendorClass?.startsWith('HTTPClient')) return 'http';
  if (s.vendorClass?.startsWith('PXEClient')) return 'pxe';
  return s.isDhcp ? 'dhcp' : 'bootp';
}

/** iPXE sends the raw 4 bytes `iPXE`; RFC 3004 clients length-prefix each class (`\x04iPXE`). */
function userClassSaysIpxe(userClass: string | undefined): boolean {
  if (userClass === undefined) return false;
  return userClass === 'iPXE' || userClass === '\x04iPXE' || userClass.split('\0').includes('iPXE');
}

/** Option 93 → firmware family, IANA meanings (7 and 9 both x86-64 UEFI, per RFC 4578 errata 4624). */
export function firmwareFamily(arch: number | undefined): FirmwareFamily | undefined {
  switch (arch) {
    case undefined:
    case 0:
      return 'bios';
    case 6:
      return 'uefiIa32';
    case 7:
    case 9:
      return 'uefiX64';
    case 10:
      return 'uefiArm32';
    case 11:
      return 'uefiArm64';
    default:
      return undefined;
  }
}

/** Option 93 → HTTP Boot URL family (16 = x64 UEFI HTTP, 19 = ARM64 UEFI HTTP). */
function httpFamily(arch: number | undefined): 'x64' | 'arm64' | undefined {
  if (arch === 16) return 'x64';
  if (arch === 19) return 'arm64';
  return undefined;
}

/** Files that are themselves iPXE: handing one to iPXE again would loop. */
const IPXE_IMAGE = /(^|\/)(undionly\.kpxe|ipxe\.[a-z]+|[^/]*ipxe[^/]*\.(kpxe|pxe|efi|lkrn))$/i;

export function chooseBoot(
  kind: ClientKind,
  arch: number | undefined,
  profile: BootProfile | undefined,
  hostBootFile: string | undefined,
  options: { readonly pxeServer: boolean },
): BootDecision {
  if (kind === 'http') {
    const family = httpFamily(arch);
    const url = family && profile?.httpBootUrls[family];
    if (!profile) return { vendorClass: 'HTTPClient', reason: 'no_profile' };
    if (!family) return { vendorClass: 'HTTPClient', reason: 'unsupported_arch' };
    return url
      ? { file: url, vendorClass: 'HTTPClient' }
      : { vendorClass: 'HTTPClient', reason: 'no_file_for_arch' };
  }

  const pxeVendor = options.pxeServer ? ({ vendorClass: 'PXEClient' } as const) : {};

  if (kind === 'ipxe') {
    if (profile?.ipxeScriptUrl) return { file: profile.ipxeScriptUrl };
    const fallback = hostBootFile ?? archFile(profile, arch) ?? profile?.bootFiles.default;
    if (fallback && !IPXE_IMAGE.test(fallback)) return { file: fallback };
    return { reason: profile ? 'ipxe_without_script' : 'no_profile' };
  }

  if (kind === 'pxe') {
    if (hostBootFile) return { file: hostBootFile, ...pxeVendor };
    if (!profile) return { ...pxeVendor, reason: 'no_profile' };
    if (!firmwareFamily(arch)) return { ...pxeVendor, reason: 'unsupported_arch' };
    const file = archFile(profile, arch);
    return file ? { file, ...pxeVendor } : { ...pxeVendor, reason: 'no_file_for_arch' };
  }

  if (hostBootFile) return { file: hostBootFile };
  if (!profile) return { reason: 'no_profile' };
  const file = profile.bootFiles.default ?? profile.bootFiles.bios;
  return file ? { file } : { reason: 'no_file_for_arch' };
}

function archFile(profile: BootProfile | undefined, arch: number | undefined): string | undefined {
  const family = firmwareFamily(arch);
  return family ? profile?.bootFiles[family] : undefined;
}
