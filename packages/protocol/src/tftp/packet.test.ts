import { describe, expect, it } from 'vitest';
import { fromHex, latin1Encode } from '../wire.js';
import {
  TFTP_DECODE_ERROR_CODES,
  TftpEncodeError,
  decodeTftp,
  encodeTftp,
  encodingLength,
} from './packet.js';
import type { TftpPacket } from './packet.js';

/** Annotated hex: everything after `#` on a line is a comment. */
function bytes(annotated: string): Uint8Array {
  const hex = annotated
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('');
  const out = fromHex(hex);
  if (!out) throw new Error('bad golden hex');
  return out;
}

function roundTrip(packet: TftpPacket, wire: Uint8Array): void {
  expect(encodeTftp(packet)).toEqual(wire);
  expect(encodingLength(packet)).toBe(wire.length);
  const decoded = decodeTftp(wire);
  expect(decoded).toEqual({ ok: true, value: packet });
  // Encoding at an offset into a larger buffer leaves the surroundings alone.
  const target = new Uint8Array(wire.length + 6).fill(0xee);
  const view = encodeTftp(packet, target, 3);
  expect(view).toEqual(wire);
  expect(target.subarray(0, 3)).toEqual(Uint8Array.of(0xee, 0xee, 0xee));
  expect(target.subarray(3 + wire.length)).toEqual(Uint8Array.of(0xee, 0xee, 0xee));
}

describe('TFTP golden packets', () => {
  it('RRQ with blksize and tsize (PROTOCOLS.md §3.1 example)', () => {
    const wire = bytes(`
      0001                              # opcode 1 = RRQ
      7078656c696e75782e30 00           # "pxelinux.0" NUL
      6f63746574 00                     # "octet" NUL
      626c6b73697a65 00 31343638 00     # "blksize" NUL "1468" NUL
      7473697a65 00 30 00               # "tsize" NUL "0" NUL
    `);
    roundTrip(
      {
        opcode: 'RRQ',
        filename: 'pxelinux.0',
        mode: 'octet',
        options: [
          { name: 'blksize', value: '1468' },
          { name: 'tsize', value: '0' },
        ],
      },
      wire,
    );
  });

  it('WRQ without options', () => {
    roundTrip(
      { opcode: 'WRQ', filename: 'a', mode: 'netascii', options: [] },
      bytes(`0002 61 00 6e65746173636969 00   # WRQ "a" "netascii"`),
    );
  });

  it('RRQ with the RFC 2090 multicast option (empty value)', () => {
    roundTrip(
      { opcode: 'RRQ', filename: 'f', mode: 'octet', options: [{ name: 'multicast', value: '' }] },
      bytes(`
        0001 66 00 6f63746574 00          # RRQ "f" "octet"
        6d756c74696361737400 00           # "multicast" NUL "" NUL
      `),
    );
  });

  it('DATA, zero-length DATA, ACK, ERROR, OACK, BDATA', () => {
    roundTrip({ opcode: 'DATA', block: 1, data: Uint8Array.of(0xde, 0xad) }, bytes(`0003 0001 dead`));
    roundTrip(
      { opcode: 'DATA', block: 0xffff, data: new Uint8Array(0) },
      bytes(`0003 ffff  # empty last block`),
    );
    roundTrip({ opcode: 'ACK', block: 0 }, bytes(`0004 0000  # ACK 0 confirms an OACK`));
    roundTrip(
      { opcode: 'ERROR', errorCode: 1, errorMessage: 'File not found' },
      bytes(`0005 0001 46696c65206e6f7420666f756e64 00  # code 1 "File not found"`),
    );
    roundTrip({ opcode: 'ERROR', errorCode: 8, errorMessage: '' }, bytes(`0005 0008 00  # empty message`));
    roundTrip(
      {
        opcode: 'OACK',
        options: [
          { name: 'windowsize', value: '8' },
          { name: 'multicast', value: '224.1.2.3,1758,1' },
        ],
      },
      bytes(`
        0006                                          # OACK
        77696e646f7773697a65 00 38 00                 # "windowsize" "8"
        6d756c746963617374 00                         # "multicast"
        3232342e312e322e332c313735382c31 00           # "224.1.2.3,1758,1"
      `),
    );
    roundTrip(
      { opcode: 'BDATA', block: 2, sbid: 0xdeadbeef, data: Uint8Array.of(1, 2, 3) },
      bytes(`0007 0002 deadbeef 010203   # BDATA block 2, sbid 3735928559, 3 octets`),
    );
  });

  it('lower-cases option names and mode on decode, keeps values and file name', () => {
    const wire = latin1Encode('\x00\x01Boot/PXE.0\x00OCTET\x00BlkSize\x001024\x00X-Custom\x00Hello\x00');
    expect(decodeTftp(wire)).toEqual({
      ok: true,
      value: {
        opcode: 'RRQ',
        filename: 'Boot/PXE.0',
        mode: 'octet',
        options: [
          { name: 'blksize', value: '1024' },
          { name: 'x-custom', value: 'Hello' },
        ],
      },
    });
  });

  it('keeps Latin-1 bytes in file names', () => {
    const wire = Uint8Array.of(0, 1, 0xe9, 0xff, 0, 0x6f, 0x63, 0x74, 0x65, 0x74, 0);
    const r = decodeTftp(wire);
    expect(r.ok && r.value.opcode === 'RRQ' && r.value.filename).toBe('\u00e9\u00ff');
    expect(r.ok && encodeTftp(r.value)).toEqual(wire);
  });
});

describe('TFTP malformed input', () => {
  const cases: [string, string, string, number][] = [
    ['empty', '', 'TFTP_TRUNCATED', 0],
    ['one byte', '00', 'TFTP_TRUNCATED', 0],
    ['opcode 0', '0000', 'TFTP_BAD_OPCODE', 0],
    ['opcode 8', '0008 0001', 'TFTP_BAD_OPCODE', 0],
    ['opcode 0x0101', '0101', 'TFTP_BAD_OPCODE', 0],
    ['RRQ without anything', '0001', 'TFTP_TRUNCATED', 2],
    ['RRQ filename missing NUL', '0001 6162', 'TFTP_MISSING_NUL', 2],
    ['RRQ empty filename', '0001 00 6f6374657400', 'TFTP_EMPTY_FILENAME', 2],
    ['RRQ without mode', '0001 6100', 'TFTP_TRUNCATED', 4],
    ['RRQ mode missing NUL', '0001 6100 6f63', 'TFTP_MISSING_NUL', 4],
    ['RRQ empty mode', '0001 6100 00', 'TFTP_EMPTY_MODE', 4],
    ['RRQ odd option list', '0001 6100 6f00 626c6b73697a6500', 'TFTP_ODD_OPTIONS', 6],
    ['RRQ option value missing NUL', '0001 6100 6f00 7800 31', 'TFTP_MISSING_NUL', 8],
    ['RRQ empty option name', '0001 6100 6f00 00 3100', 'TFTP_EMPTY_OPTION_NAME', 6],
    ['DATA without block', '0003 00', 'TFTP_TRUNCATED', 3],
    ['ACK short', '0004 00', 'TFTP_TRUNCATED', 3],
    ['ACK with trailing byte', '0004 0001 1f', 'TFTP_TRAILING_BYTES', 4],
    ['ERROR short', '0005 00', 'TFTP_TRUNCATED', 3],
    ['ERROR without message NUL', '0005 0001 6162', 'TFTP_MISSING_NUL', 4],
    ['ERROR without any message', '0005 0001', 'TFTP_MISSING_NUL', 4],
    ['ERROR trailing bytes', '0005 0001 6100 62', 'TFTP_TRAILING_BYTES', 6],
    ['OACK odd options', '0006 7800', 'TFTP_ODD_OPTIONS', 2],
    ['OACK missing NUL', '0006 7800 31', 'TFTP_MISSING_NUL', 4],
    ['BDATA short header', '0007 0001 dead', 'TFTP_TRUNCATED', 6],
  ];
  it.each(cases)('%s → %s', (_name, hex, code, offset) => {
    const input = bytes(hex);
    const r = decodeTftp(input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(code);
    expect(r.error.offset).toBe(offset);
    expect(TFTP_DECODE_ERROR_CODES).toContain(r.error.code);
  });

  it('accepts DATA block 0 (rollover) unless asked to reject it', () => {
    expect(decodeTftp(bytes('0003 0000 41')).ok).toBe(true);
    const strict = decodeTftp(bytes('0003 0000 41'), { rejectBlockZero: true });
    expect(strict).toMatchObject({ ok: false, error: { code: 'TFTP_DATA_BLOCK_ZERO', offset: 2 } });
    const bdata = decodeTftp(bytes('0007 0000 00000001'), { rejectBlockZero: true });
    expect(bdata).toMatchObject({ ok: false, error: { code: 'TFTP_DATA_BLOCK_ZERO' } });
  });

  it('accepts an OACK without options and an empty-valued option', () => {
    expect(decodeTftp(bytes('0006'))).toEqual({ ok: true, value: { opcode: 'OACK', options: [] } });
  });

  it('refuses to encode what cannot be on the wire', () => {
    expect(() => encodeTftp({ opcode: 'ACK', block: 65536 })).toThrow(TftpEncodeError);
    expect(() => encodeTftp({ opcode: 'RRQ', filename: 'a\0b', mode: 'octet', options: [] })).toThrow(
      TftpEncodeError,
    );
    expect(() =>
      encodeTftp({ opcode: 'RRQ', filename: 'x', mode: 'octet', options: [{ name: '', value: '1' }] }),
    ).toThrow(TftpEncodeError);
    expect(() => encodeTftp({ opcode: 'ERROR', errorCode: 1, errorMessage: '\u20ac' })).toThrow(
      TftpEncodeError,
    );
    expect(() => encodeTftp({ opcode: 'ACK', block: 1 }, new Uint8Array(3))).toThrow(TftpEncodeError);
  });
});
