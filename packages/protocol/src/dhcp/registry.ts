/**
 * Option registry: code → name and value format, used for JSON rendering. Names follow the ISC/dnsmasq
 * spelling in lower-case-with-dashes. Sources: RFC 2132 (1–76), RFC 3004 (77), RFC 4039 (80), RFC 4702
 * (81), RFC 3046 (82), RFC 4578 (93, 94, 97), RFC 3011 (118), RFC 3397 (119), RFC 3442 (121), RFC 3925
 * (124, 125), RFC 5859 (150), RFC 5071 (208–211), iPXE `dhcp.h` (175), PXE spec (128–135).
 */

export type DhcpOptionKind =
  | 'ipv4'
  | 'ipv4-list'
  | 'ipv4-pairs'
  | 'u8'
  | 'u16'
  | 'u32'
  | 'i32'
  | 'bool'
  | 'u16-list'
  | 'string'
  | 'bytes'
  | 'codes'
  | 'message-type'
  | 'client-id'
  | 'user-class'
  | 'client-arch'
  | 'client-ndi'
  | 'client-uuid'
  | 'classless-routes'
  | 'pxe-vendor'
  | 'relay-agent'
  | 'ipxe';

export interface DhcpOptionInfo {
  readonly code: number;
  readonly name: string;
  readonly kind: DhcpOptionKind;
}

const table: readonly (readonly [number, string, DhcpOptionKind])[] = [
  [1, 'subnet-mask', 'ipv4'],
  [2, 'time-offset', 'i32'],
  [3, 'router', 'ipv4-list'],
  [4, 'time-server', 'ipv4-list'],
  [5, 'name-server', 'ipv4-list'],
  [6, 'domain-name-server', 'ipv4-list'],
  [7, 'log-server', 'ipv4-list'],
  [8, 'cookie-server', 'ipv4-list'],
  [9, 'lpr-server', 'ipv4-list'],
  [10, 'impress-server', 'ipv4-list'],
  [11, 'resource-location-server', 'ipv4-list'],
  [12, 'host-name', 'string'],
  [13, 'boot-file-size', 'u16'],
  [14, 'merit-dump-file', 'string'],
  [15, 'domain-name', 'string'],
  [16, 'swap-server', 'ipv4'],
  [17, 'root-path', 'string'],
  [18, 'extensions-path', 'string'],
  [19, 'ip-forwarding', 'bool'],
  [20, 'non-local-source-routing', 'bool'],
  [21, 'policy-filter', 'ipv4-pairs'],
  [22, 'max-datagram-reassembly', 'u16'],
  [23, 'default-ip-ttl', 'u8'],
  [24, 'path-mtu-aging-timeout', 'u32'],
  [25, 'path-mtu-plateau-table', 'u16-list'],
  [26, 'interface-mtu', 'u16'],
  [27, 'all-subnets-local', 'bool'],
  [28, 'broadcast-address', 'ipv4'],
  [29, 'perform-mask-discovery', 'bool'],
  [30, 'mask-supplier', 'bool'],
  [31, 'router-discovery', 'bool'],
  [32, 'router-solicitation-address', 'ipv4'],
  [33, 'static-routes', 'ipv4-pairs'],
  [34, 'trailer-encapsulation', 'bool'],
  [35, 'arp-cache-timeout', 'u32'],
  [36, 'ieee802-3-encapsulation', 'bool'],
  [37, 'default-tcp-ttl', 'u8'],
  [38, 'tcp-keepalive-interval', 'u32'],
  [39, 'tcp-keepalive-garbage', 'bool'],
  [40, 'nis-domain', 'string'],
  [41, 'nis-servers', 'ipv4-list'],
  [42, 'ntp-servers', 'ipv4-list'],
  [43, 'vendor-encapsulated-options', 'pxe-vendor'],
  [44, 'netbios-name-servers', 'ipv4-list'],
  [45, 'netbios-dd-server', 'ipv4-list'],
  [46, 'netbios-node-type', 'u8'],
  [47, 'netbios-scope', 'string'],
  [48, 'font-servers', 'ipv4-list'],
  [49, 'x-display-manager', 'ipv4-list'],
  [50, 'requested-address', 'ipv4'],
  [51, 'lease-time', 'u32'],
  [52, 'option-overload', 'u8'],
  [53, 'message-type', 'message-type'],
  [54, 'server-identifier', 'ipv4'],
  [55, 'parameter-request-list', 'codes'],
  [56, 'message', 'string'],
  [57, 'max-message-size', 'u16'],
  [58, 'renewal-time', 'u32'],
  [59, 'rebinding-time', 'u32'],
  [60, 'vendor-class-identifier', 'string'],
  [61, 'client-identifier', 'client-id'],
  [62, 'netware-ip-domain', 'string'],
  [63, 'netware-ip-information', 'bytes'],
  [64, 'nisplus-domain', 'string'],
  [65, 'nisplus-servers', 'ipv4-list'],
  [66, 'tftp-server-name', 'string'],
  [67, 'bootfile-name', 'string'],
  [68, 'mobile-ip-home-agent', 'ipv4-list'],
  [69, 'smtp-server', 'ipv4-list'],
  [70, 'pop-server', 'ipv4-list'],
  [71, 'nntp-server', 'ipv4-list'],
  [72, 'www-server', 'ipv4-list'],
  [73, 'finger-server', 'ipv4-list'],
  [74, 'irc-server', 'ipv4-list'],
  [75, 'streettalk-server', 'ipv4-list'],
  [76, 'streettalk-directory-assistance-server', 'ipv4-list'],
  [77, 'user-class', 'user-class'],
  [80, 'rapid-commit', 'bytes'],
  [81, 'client-fqdn', 'bytes'],
  [82, 'relay-agent-information', 'relay-agent'],
  [93, 'client-system-architecture', 'client-arch'],
  [94, 'client-network-interface', 'client-ndi'],
  [97, 'client-machine-identifier', 'client-uuid'],
  [118, 'subnet-selection', 'ipv4'],
  [119, 'domain-search', 'bytes'],
  [121, 'classless-static-route', 'classless-routes'],
  [124, 'vendor-class', 'bytes'],
  [125, 'vendor-identifying-vendor-specific', 'bytes'],
  [128, 'pxe-128', 'bytes'],
  [129, 'pxe-129', 'bytes'],
  [130, 'pxe-130', 'bytes'],
  [131, 'pxe-131', 'bytes'],
  [132, 'pxe-132', 'bytes'],
  [133, 'pxe-133', 'bytes'],
  [134, 'pxe-134', 'bytes'],
  [135, 'pxe-135', 'bytes'],
  [150, 'tftp-server-address', 'ipv4-list'],
  [175, 'ipxe-encapsulated-options', 'ipxe'],
  [208, 'pxelinux-magic', 'bytes'],
  [209, 'pxelinux-configfile', 'string'],
  [210, 'pxelinux-pathprefix', 'string'],
  [211, 'pxelinux-reboottime', 'u32'],
];

export const DHCP_OPTION_REGISTRY: ReadonlyMap<number, DhcpOptionInfo> = new Map(
  table.map(([code, name, kind]) => [code, { code, name, kind }]),
);

/** Registry name, `pad`/`end` for 0/255, `unknown` otherwise. Unknown options render as hex. */
export function dhcpOptionName(code: number): string {
  if (code === 0) return 'pad';
  if (code === 255) return 'end';
  return DHCP_OPTION_REGISTRY.get(code)?.name ?? 'unknown';
}

/** Option 53 values (RFC 2132 §9.6). Higher values (RFC 3203, 4388, ...) are reported by number. */
export const DHCP_MESSAGE_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'DHCPDISCOVER'],
  [2, 'DHCPOFFER'],
  [3, 'DHCPREQUEST'],
  [4, 'DHCPDECLINE'],
  [5, 'DHCPACK'],
  [6, 'DHCPNAK'],
  [7, 'DHCPRELEASE'],
  [8, 'DHCPINFORM'],
]);

/**
 * Option 93 client architecture types, IANA meaning (RFC 4578 as corrected by Errata 4624: 7 = x64 UEFI,
 * 9 = EBC). Choosing a boot file from them is agent policy, not codec work.
 */
export const CLIENT_ARCHITECTURES: ReadonlyMap<number, string> = new Map([
  [0, 'x86 BIOS'],
  [1, 'NEC/PC98'],
  [2, 'Itanium'],
  [3, 'DEC Alpha'],
  [4, 'Arc x86'],
  [5, 'Intel Lean Client'],
  [6, 'x86 UEFI'],
  [7, 'x64 UEFI'],
  [8, 'EFI XScale'],
  [9, 'EBC'],
  [10, 'ARM 32-bit UEFI'],
  [11, 'ARM 64-bit UEFI'],
  [12, 'PowerPC Open Firmware'],
  [13, 'PowerPC ePAPR'],
  [14, 'POWER OPAL v3'],
  [15, 'x86 UEFI HTTP'],
  [16, 'x64 UEFI HTTP'],
  [17, 'EBC HTTP'],
  [18, 'ARM 32-bit UEFI HTTP'],
  [19, 'ARM 64-bit UEFI HTTP'],
  [20, 'x86 BIOS HTTP'],
  [21, 'ARM 32-bit U-Boot'],
  [22, 'ARM 64-bit U-Boot'],
  [23, 'ARM 32-bit U-Boot HTTP'],
  [24, 'ARM 64-bit U-Boot HTTP'],
  [25, 'RISC-V 32-bit UEFI'],
  [26, 'RISC-V 32-bit UEFI HTTP'],
  [27, 'RISC-V 64-bit UEFI'],
  [28, 'RISC-V 64-bit UEFI HTTP'],
  [29, 'RISC-V 128-bit UEFI'],
  [30, 'RISC-V 128-bit UEFI HTTP'],
  [31, 's390 Basic'],
  [32, 's390 Extended'],
  [33, 'MIPS 32-bit UEFI'],
  [34, 'MIPS 64-bit UEFI'],
  [35, 'Sunway 32-bit UEFI'],
  [36, 'Sunway 64-bit UEFI'],
  [37, 'LoongArch 32-bit UEFI'],
  [38, 'LoongArch 32-bit UEFI HTTP'],
  [39, 'LoongArch 64-bit UEFI'],
  [40, 'LoongArch 64-bit UEFI HTTP'],
]);

/** Architectures that boot over HTTP (UEFI HTTP boot sends vendor class `HTTPClient`). */
export const HTTP_BOOT_ARCHITECTURES: ReadonlySet<number> = new Set([
  15, 16, 17, 18, 19, 20, 23, 24, 26, 28, 30, 38, 40,
]);

export function clientArchName(code: number): string {
  return CLIENT_ARCHITECTURES.get(code) ?? 'unknown';
}

/** Vendor class prefixes (option 60) of PXE and UEFI HTTP boot clients and the servers answering them. */
export const VENDOR_CLASS_PXE = 'PXEClient';
export const VENDOR_CLASS_HTTP = 'HTTPClient';
