import { describe, expect, it } from 'vitest';
import { negotiateOptions } from './negotiate.js';
import type { TftpServerPolicy } from './negotiate.js';
import type { TftpOption, TftpRequestPacket } from './packet.js';

function rrq(options: [string, string][], mode = 'octet', opcode: 'RRQ' | 'WRQ' = 'RRQ'): TftpRequestPacket {
  return { opcode, filename: 'pxelinux.0', mode, options: options.map(([name, value]) => ({ name, value })) };
}

function oack(request: TftpRequestPacket, policy: TftpServerPolicy): readonly TftpOption[] {
  const r = negotiateOptions(request, policy);
  if (!r.ok) throw new Error(`unexpected error ${r.errorCode}`);
  return r.oack;
}

describe('negotiateOptions', () => {
  it('answers in request order with the clamped values, omitting unknown options', () => {
    const r = negotiateOptions(
      rrq([
        ['tsize', '0'],
        ['x-vendor', '1'],
        ['windowsize', '64'],
        ['blksize', '65464'],
        ['timeout', '3'],
      ]),
      { fileSize: 123456, maxBlksize: 1468, maxWindowsize: 16 },
    );
    expect(r).toEqual({
      ok: true,
      oack: [
        { name: 'tsize', value: '123456' },
        { name: 'windowsize', value: '16' },
        { name: 'blksize', value: '1468' },
        { name: 'timeout', value: '3' },
      ],
      params: {
        blksize: 1468,
        windowsize: 16,
        timeoutSeconds: 3,
        tsize: 123456,
        tsizeRequested: true,
        group: null,
        subnetMask: null,
      },
    });
  });

  it('keeps a smaller requested blksize and windowsize as they are', () => {
    expect(
      oack(
        rrq([
          ['blksize', '1432'],
          ['windowsize', '4'],
        ]),
        { fileSize: 1 },
      ),
    ).toEqual([
      { name: 'blksize', value: '1432' },
      { name: 'windowsize', value: '4' },
    ]);
  });

  it('no options → empty OACK (plain RFC 1350), defaults 512 / 1', () => {
    const r = negotiateOptions(rrq([]), { fileSize: 10 });
    expect(r).toMatchObject({ ok: true, oack: [], params: { blksize: 512, windowsize: 1, tsize: null } });
  });

  it('honours only the first of repeated options', () => {
    expect(
      oack(
        rrq([
          ['blksize', '1024'],
          ['blksize', '8'],
        ]),
        { fileSize: 1 },
      ),
    ).toEqual([{ name: 'blksize', value: '1024' }]);
  });

  it('ignores invalid values by default and rejects them with ERROR 8 when asked', () => {
    const bad = rrq([
      ['blksize', '7'],
      ['windowsize', '0'],
      ['timeout', '256'],
      ['tsize', '0'],
    ]);
    expect(oack(bad, { fileSize: 5 })).toEqual([{ name: 'tsize', value: '5' }]);
    expect(negotiateOptions(bad, { fileSize: 5, invalidValues: 'reject' })).toMatchObject({
      ok: false,
      errorCode: 8,
    });
    expect(
      oack(
        rrq([
          ['blksize', '+512'],
          ['blksize', '1e3'],
        ]),
        { fileSize: 5 },
      ),
    ).toEqual([]);
  });

  it('timeout: echoes exactly when in the policy range, omits otherwise', () => {
    expect(oack(rrq([['timeout', '5']]), { fileSize: 1, timeoutRange: { min: 1, max: 10 } })).toEqual([
      { name: 'timeout', value: '5' },
    ]);
    expect(oack(rrq([['timeout', '30']]), { fileSize: 1, timeoutRange: { min: 1, max: 10 } })).toEqual([]);
  });

  it('tsize: omitted when the size is unknown or in netascii mode', () => {
    expect(oack(rrq([['tsize', '0']]), { fileSize: null })).toEqual([]);
    expect(oack(rrq([['tsize', '0']], 'netascii'), { fileSize: 10 })).toEqual([]);
    expect(negotiateOptions(rrq([['tsize', '0']]), { fileSize: null })).toMatchObject({
      ok: true,
      params: { tsizeRequested: true, tsize: null },
    });
  });

  it('WRQ tsize: echoed, ERROR 3 when too large, ERROR 8 when not a number', () => {
    expect(oack(rrq([['tsize', '1000']], 'octet', 'WRQ'), { fileSize: null, maxWriteSize: 2000 })).toEqual([
      { name: 'tsize', value: '1000' },
    ]);
    expect(
      negotiateOptions(rrq([['tsize', '3000']], 'octet', 'WRQ'), { fileSize: null, maxWriteSize: 2000 }),
    ).toEqual({ ok: false, errorCode: 3, errorMessage: 'file too large' });
    expect(negotiateOptions(rrq([['tsize', 'big']], 'octet', 'WRQ'), { fileSize: null })).toMatchObject({
      ok: false,
      errorCode: 8,
    });
  });

  it('per-client quirks and disabled options are left out', () => {
    const request = rrq([
      ['blksize', '1468'],
      ['tsize', '0'],
      ['windowsize', '8'],
    ]);
    expect(oack(request, { fileSize: 9, refuse: ['BLKSIZE'] })).toEqual([
      { name: 'tsize', value: '9' },
      { name: 'windowsize', value: '8' },
    ]);
    expect(oack(request, { fileSize: 9, enabled: { windowsize: false, tsize: false } })).toEqual([
      { name: 'blksize', value: '1468' },
    ]);
  });

  it('group options are off by default and granted once, with an empty value to be filled in', () => {
    const request = rrq([
      ['blksize', '1468'],
      ['multicast', ''],
      ['sbroadcast', '255.255.255.0'],
    ]);
    expect(oack(request, { fileSize: 10_000 })).toEqual([{ name: 'blksize', value: '1468' }]);
    const r = negotiateOptions(request, { fileSize: 10_000, enabled: { multicast: true, sbroadcast: true } });
    expect(r).toMatchObject({
      ok: true,
      oack: [
        { name: 'blksize', value: '1468' },
        { name: 'multicast', value: '' },
      ],
      params: { group: 'multicast', subnetMask: null },
    });
    const sb = negotiateOptions(rrq([['sbroadcast', '255.255.254.0']]), {
      fileSize: 10,
      enabled: { sbroadcast: true },
    });
    expect(sb).toMatchObject({ ok: true, params: { group: 'sbroadcast', subnetMask: '255.255.254.0' } });
    expect(
      oack(rrq([['sbroadcast', '255.0.255.0']]), { fileSize: 10, enabled: { sbroadcast: true } }),
    ).toEqual([]);
  });

  it('groupMaxBlksize caps group blocks; a request whose group is not granted keeps the unicast clamp', () => {
    const policy = {
      fileSize: 1_000_000,
      maxBlksize: 1468,
      groupMaxBlksize: 8192,
      enabled: { multicast: true, sbroadcast: true },
    };
    const blksizeOf = (r: ReturnType<typeof negotiateOptions>) => (r.ok ? r.params.blksize : NaN);
    const mc = negotiateOptions(
      rrq([
        ['blksize', '65464'],
        ['multicast', ''],
      ]),
      policy,
    );
    expect(mc).toMatchObject({ ok: true, params: { group: 'multicast', blksize: 8192 } });
    expect(mc.ok && mc.oack[0]).toEqual({ name: 'blksize', value: '8192' });
    // blksize may come after the group option.
    expect(
      blksizeOf(
        negotiateOptions(
          rrq([
            ['multicast', ''],
            ['blksize', '4000'],
          ]),
          policy,
        ),
      ),
    ).toBe(4000);
    // sbroadcast: 4 below the group limit.
    expect(
      blksizeOf(
        negotiateOptions(
          rrq([
            ['blksize', '65464'],
            ['sbroadcast', '255.255.255.0'],
          ]),
          policy,
        ),
      ),
    ).toBe(8188);
    // Netascii gets no group, so the unicast clamp applies, not the group one.
    const ascii = negotiateOptions(
      rrq(
        [
          ['blksize', '65464'],
          ['multicast', ''],
        ],
        'netascii',
      ),
      policy,
    );
    expect(ascii).toMatchObject({ ok: true, params: { group: null, blksize: 1468 } });
    expect(ascii.ok && ascii.oack).toEqual([{ name: 'blksize', value: '1468' }]);
    // A group dropped after the fact (a joiner that cannot use the running blksize) falls back the same way.
    const dropped = negotiateOptions(
      rrq([
        ['blksize', '2000'],
        ['multicast', ''],
      ]),
      { ...policy, groupBlksize: 4096 },
    );
    expect(dropped).toMatchObject({ ok: true, params: { group: null, blksize: 1468 } });
  });

  it('maxWindowBytes lowers a unicast windowsize so blksize × windowsize fits', () => {
    const policy = { fileSize: 1_000_000, maxBlksize: 8192, maxWindowsize: 64, maxWindowBytes: 65536 };
    const ask = (blksize: string, windowsize: string) =>
      oack(
        rrq([
          ['blksize', blksize],
          ['windowsize', windowsize],
        ]),
        policy,
      );
    expect(ask('8192', '32')).toEqual([
      { name: 'blksize', value: '8192' },
      { name: 'windowsize', value: '8' },
    ]);
    expect(ask('1468', '32')[1]).toEqual({ name: 'windowsize', value: '32' });
    expect(ask('8192', '4')[1]).toEqual({ name: 'windowsize', value: '4' });
    expect(oack(rrq([['windowsize', '300']]), policy)).toEqual([{ name: 'windowsize', value: '64' }]);
  });

  it('sbroadcast clamps blksize 4 below maxBlksize (BDATA header), so blocks fit the MTU', () => {
    const policy = { fileSize: 100_000, maxBlksize: 1468, enabled: { sbroadcast: true, multicast: true } };
    const ask = (group: string, value: string) =>
      negotiateOptions(
        rrq([
          ['blksize', '1468'],
          [group, value],
        ]),
        policy,
      );
    expect(ask('sbroadcast', '255.255.255.0')).toMatchObject({
      ok: true,
      oack: [
        { name: 'blksize', value: '1464' },
        { name: 'sbroadcast', value: '' },
      ],
      params: { blksize: 1464, group: 'sbroadcast' },
    });
    expect(ask('multicast', '')).toMatchObject({ params: { blksize: 1468, group: 'multicast' } });
    // Without sbroadcast granted (no size known) the unicast transfer keeps the full block.
    expect(
      negotiateOptions(
        rrq([
          ['blksize', '1468'],
          ['sbroadcast', '255.255.255.0'],
        ]),
        { ...policy, fileSize: null },
      ),
    ).toMatchObject({ params: { blksize: 1468, group: null } });
  });

  it('group past 65535 blocks (wire numbers roll over) needs rollover 0, tsize and a last block not a multiple of 65536', () => {
    const policy = { enabled: { multicast: true } } as const;
    const withTsize = rrq([
      ['tsize', '0'],
      ['multicast', ''],
      ['rollover', '0'],
    ]);
    // What atftp sends: tsize and multicast but no opt-in (it cannot unwrap): unicast past the wrap, the
    // group below it; `rollover` itself is never echoed.
    const atftpLike = rrq([
      ['tsize', '0'],
      ['multicast', ''],
    ]);
    expect(oack(atftpLike, { ...policy, fileSize: 70_000 * 512 })).toEqual([
      { name: 'tsize', value: String(70_000 * 512) },
    ]);
    expect(oack(atftpLike, { ...policy, fileSize: 60_000 * 512 })).toEqual([
      { name: 'tsize', value: String(60_000 * 512) },
      { name: 'multicast', value: '' },
    ]);
    const rolloverToOne = rrq([
      ['tsize', '0'],
      ['multicast', ''],
      ['rollover', '1'],
    ]);
    expect(oack(rolloverToOne, { ...policy, fileSize: 70_000 * 512 })).toHaveLength(1);
    expect(oack(withTsize, { ...policy, fileSize: 70_000 * 512 })).toEqual([
      { name: 'tsize', value: String(70_000 * 512) },
      { name: 'multicast', value: '' },
    ]);
    // floor(size / 512) + 1 = 65536 and 131072 blocks: refused; 65537 blocks: granted.
    expect(oack(withTsize, { ...policy, fileSize: 65535 * 512 })).toEqual([
      { name: 'tsize', value: String(65535 * 512) },
    ]);
    expect(oack(withTsize, { ...policy, fileSize: 131071 * 512 + 3 })).toHaveLength(1);
    expect(oack(withTsize, { ...policy, fileSize: 65536 * 512 })).toHaveLength(2);
    // tsize refused by policy: no group either.
    expect(oack(withTsize, { ...policy, fileSize: 70_000 * 512, refuse: ['tsize'] })).toEqual([]);
  });

  it('group needs a known size, octet mode, RRQ (and tsize past 65535 blocks)', () => {
    const policy = { enabled: { multicast: true } } as const;
    expect(oack(rrq([['multicast', '']]), { ...policy, fileSize: null })).toEqual([]);
    expect(oack(rrq([['multicast', '']]), { ...policy, fileSize: 65535 * 512 })).toEqual([]);
    expect(oack(rrq([['multicast', '']]), { ...policy, fileSize: 65535 * 512 - 1 })).toEqual([
      { name: 'multicast', value: '' },
    ]);
    expect(oack(rrq([['multicast', '']], 'netascii'), { ...policy, fileSize: 10 })).toEqual([]);
    expect(oack(rrq([['multicast', '']], 'octet', 'WRQ'), { ...policy, fileSize: 10 })).toEqual([]);
  });

  it('a joiner gets the running group blksize, or no group when it cannot use it', () => {
    const policy = { enabled: { multicast: true }, fileSize: 100_000, groupBlksize: 1024 };
    expect(
      negotiateOptions(
        rrq([
          ['blksize', '1468'],
          ['multicast', ''],
        ]),
        policy,
      ),
    ).toMatchObject({
      ok: true,
      oack: [
        { name: 'blksize', value: '1024' },
        { name: 'multicast', value: '' },
      ],
      params: { blksize: 1024, group: 'multicast' },
    });
    expect(
      negotiateOptions(
        rrq([
          ['blksize', '512'],
          ['multicast', ''],
        ]),
        policy,
      ),
    ).toMatchObject({
      ok: true,
      oack: [{ name: 'blksize', value: '512' }],
      params: { blksize: 512, group: null },
    });
    expect(negotiateOptions(rrq([['multicast', '']]), policy)).toMatchObject({
      ok: true,
      oack: [],
      params: { group: null },
    });
  });
});
