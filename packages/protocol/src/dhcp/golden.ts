/**
 * Hand-annotated BOOTP/DHCP packets used by the codec's golden, round-trip and fuzz tests (and usable by
 * other packages' tests). Each is written the way the named client or server lays it out; the exact
 * captures from real clients come later as pcap fixtures.
 */

/** Annotated hex: `#` starts a comment; whitespace is ignored. Interpolate `zeros(n)` and `ascii(s)`. */
export function hex(strings: TemplateStringsArray, ...values: string[]): Uint8Array {
  let text = '';
  strings.forEach((s, i) => {
    text += s + (values[i] ?? '');
  });
  const clean = text.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(clean)) throw new Error('bad annotated hex');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function zeros(n: number): string {
  return '00'.repeat(n);
}

export function ascii(text: string): string {
  let s = '';
  for (let i = 0; i < text.length; i++) s += text.charCodeAt(i).toString(16).padStart(2, '0');
  return s;
}

const NO_ADDRESSES = zeros(16);
const EMPTY_SNAME_FILE = zeros(64 + 128);

/** DHCPDISCOVER from a UEFI x64 PXE ROM (EDK2 layout): B flag, 57/93/94/97/55/60, End, no padding. */
export const PXE_DISCOVER = hex`
  01 01 06 00                  # op=BOOTREQUEST htype=Ethernet hlen=6 hops=0
  3c 9a 5e 21                  # xid
  00 04 80 00                  # secs=4 flags=0x8000 (broadcast)
  ${NO_ADDRESSES}              # ciaddr yiaddr siaddr giaddr = 0.0.0.0
  52 54 00 12 34 56 ${zeros(10)}  # chaddr 52:54:00:12:34:56, zero padded to 16
  ${EMPTY_SNAME_FILE}          # sname, file
  63 82 53 63                  # magic cookie
  35 01 01                     # 53 message type = DHCPDISCOVER
  39 02 05 c0                  # 57 max message size = 1472
  5d 02 00 07                  # 93 client arch = 7 (x64 UEFI)
  5e 03 01 03 10               # 94 NDI: UNDI 3.16
  61 11 00 8b 2f 6a 40 c1 3e 47 11 9a 40 52 54 00 12 34 56  # 97 type 0 + GUID
  37 23 01 02 03 04 05 06 0c 0d 0f 11 12 16 17 1c 28 29 2a 2b 32 33 36 3a 3b 3c 42 43 61 80 81 82 83 84 85 86 87
                               # 55 parameter request list (35 codes)
  3c 20 ${ascii('PXEClient:Arch:00007:UNDI:003016')}  # 60 vendor class
  ff                           # End
`;

/** BOOTREQUEST of exactly 236 octets: no vendor area at all (klibc ipconfig). */
export const BOOTP_236 = hex`
  01 01 06 00                  # op=BOOTREQUEST htype=1 hlen=6 hops=0
  11 22 33 44                  # xid
  00 00 00 00                  # secs=0 flags=0
  ${NO_ADDRESSES}
  02 00 00 aa bb cc ${zeros(10)}  # chaddr 02:00:00:aa:bb:cc
  ${EMPTY_SNAME_FILE}
`;

/**
 * DHCPOFFER that overloads both `file` and `sname` (52 = 3), padded to 300 octets after End.
 * Parse order: options field, then file (67, 12), then sname (66).
 */
export const OVERLOADED_OFFER = hex`
  02 01 06 00                  # op=BOOTREPLY
  0a 0b 0c 0d                  # xid
  00 00 00 00                  # secs=0 flags=0
  00 00 00 00                  # ciaddr
  c0 a8 01 64                  # yiaddr 192.168.1.100
  c0 a8 01 01                  # siaddr 192.168.1.1
  00 00 00 00                  # giaddr
  52 54 00 ab cd ef ${zeros(10)}  # chaddr
  42 0b ${ascii('192.168.1.1')}  # sname area: 66 tftp-server-name
  ff ${zeros(64 - 14)}         #   End, Pad to 64
  43 0a ${ascii('pxelinux.0')}   # file area: 67 bootfile-name
  0c 05 ${ascii('node1')}        #   12 host-name
  ff ${zeros(128 - 20)}        #   End, Pad to 128
  63 82 53 63                  # magic cookie
  35 01 02                     # 53 = DHCPOFFER
  36 04 c0 a8 01 01            # 54 server id 192.168.1.1
  34 01 03                     # 52 overload = file + sname
  33 04 00 00 0e 10            # 51 lease 3600 s
  01 04 ff ff ff 00            # 1 subnet mask
  03 04 c0 a8 01 01            # 3 router
  ff                           # End
  ${zeros(300 - 240 - 31)}     # zero padding to 300 octets
`;

function menuItem(type: string, text: string): string {
  return `${type} ${text.length.toString(16).padStart(2, '0')} ${ascii(text)}`;
}

/** Value of option 43 in `SPLIT_43_ACK`: 277 octets of PXE sub-options, too long for one instance. */
export const SPLIT_43_VALUE = hex`
  06 01 07                     # 6 discovery control = 7 (only listed servers, no bcast/mcast)
  08 21                        # 8 boot servers, 33 octets
     80 01 02 0a 00 00 01 0a 00 00 02  #   type 0x8001: 10.0.0.1, 10.0.0.2
     80 02 02 0a 00 00 03 0a 00 00 04  #   type 0x8002: 10.0.0.3, 10.0.0.4
     80 03 02 0a 00 00 05 0a 00 00 06  #   type 0x8003: 10.0.0.5, 10.0.0.6
  09 d7                        # 9 boot menu, 215 octets: 5 × (type, len, 40 characters)
     ${menuItem('80 01', 'Install Debian 13 (x86-64, text mode)   ')}
     ${menuItem('80 02', 'Install Debian 13 (x86-64, graphical)   ')}
     ${menuItem('80 03', 'Rescue shell over NFS root              ')}
     ${menuItem('00 00', 'Boot from local disk                    ')}
     ${menuItem('80 04', 'Memory test (memtest86+ 7.20 EFI build) ')}
  0a 0b 05 ${ascii('Boot menu:')}  # 10 prompt, timeout 5 s
  47 04 80 01 00 00            # 71 boot item type 0x8001 layer 0
  ff                           # End
`;

/** DHCPACK whose option 43 (300 octets) is split into 255 + 45 octet instances (RFC 3396). */
export const SPLIT_43_ACK = hex`
  02 01 06 00 de ad be ef 00 00 00 00  # BOOTREPLY xid=0xdeadbeef
  00 00 00 00 0a 00 00 32 0a 00 00 01 00 00 00 00  # yiaddr 10.0.0.50 siaddr 10.0.0.1
  52 54 00 00 00 01 ${zeros(10)}
  ${zeros(64)}                 # sname
  ${ascii('boot/x64/ipxe.efi')} ${zeros(128 - 17)}  # file
  63 82 53 63
  35 01 05                     # 53 = DHCPACK
  36 04 0a 00 00 01            # 54
  3c 09 ${ascii('PXEClient')}  # 60
  2b ff ${Array.from(SPLIT_43_VALUE.subarray(0, 255), (b) => b.toString(16).padStart(2, '0')).join('')}
                               # 43, first 255 octets
  2b ${(SPLIT_43_VALUE.length - 255).toString(16)} ${Array.from(SPLIT_43_VALUE.subarray(255), (b) => b.toString(16).padStart(2, '0')).join('')}
                               # 43, remaining 22 octets
  ff
`;

/** DHCPREQUEST relayed by 10.0.0.1 with relay agent information (82) last. */
export const RELAYED_REQUEST = hex`
  01 01 06 01                  # hops=1 (one relay)
  00 00 ab cd 00 02 00 00      # xid secs=2 flags=0
  00 00 00 00 00 00 00 00 00 00 00 00
  0a 00 00 01                  # giaddr 10.0.0.1
  00 11 22 33 44 55 ${zeros(10)}
  ${EMPTY_SNAME_FILE}
  63 82 53 63
  35 01 03                     # 53 = DHCPREQUEST
  32 04 0a 00 00 32            # 50 requested 10.0.0.50
  36 04 0a 00 00 02            # 54 server id 10.0.0.2
  3d 07 01 00 11 22 33 44 55   # 61 client id type 1
  52 12                        # 82 relay agent information, 18 octets
     01 08 ${ascii('eth0:100')}  #   1 circuit-id
     02 06 00 aa bb cc dd ee     #   2 remote-id
  ff
`;

/**
 * Windows-style DHCPDISCOVER: Pad between options, NUL-terminated strings, and garbage after End.
 * None of it is canonical, all of it must survive decode → encode.
 */
export const QUIRKY_DISCOVER = hex`
  01 01 06 00 99 88 77 66 00 00 00 00 ${NO_ADDRESSES}
  00 15 5d 01 02 03 ${zeros(10)}
  ${zeros(64)}
  ${ascii('old')} 00 ${ascii('junk')} ${zeros(128 - 8)}  # file with bytes after the NUL
  63 82 53 63
  35 01 01
  00 00                        # Pad, Pad
  0c 06 ${ascii('PC-01')} 00   # 12 host name with trailing NUL
  3c 08 ${ascii('MSFT 5.0')}
  4d 04 ${ascii('iPXE')}       # 77 user class, raw (not RFC 3004)
  af 06 b0 01 01 13 01 01      # 175 iPXE: no-pxedhcp=1, http=1
  ff
  de ad                        # bytes after End
  ${zeros(300 - 240 - 40)}     # zero padding to 300 octets
`;

/** Every golden packet, for corpus-driven tests. */
export const GOLDEN_PACKETS: Readonly<Record<string, Uint8Array>> = {
  PXE_DISCOVER,
  BOOTP_236,
  OVERLOADED_OFFER,
  SPLIT_43_ACK,
  RELAYED_REQUEST,
  QUIRKY_DISCOVER,
};
