import { describe, expect, it } from 'vitest';
import { SiteView } from '../backend/site.js';
import { responderConfigSchema } from '../config/schema.js';
import { DhcpHandler, type Decision, type HandlerContext } from './handler.js';
import { LeaseTable } from './lease-table.js';
import type { Link } from './listener.js';
import { FLAG_BROADCAST, Opt, u32, type RequestView } from './packet.js';
import { PoolAllocator } from './pool.js';

const ip = (s: string) => s.split('.').reduce((n, o) => ((n << 8) | Number(o)) >>> 0, 0);
const site = SiteView.parse({
  subnets: [
    {
      id: 'lab',
      cidr: '10.0.0.0/24',
      routers: ['10.0.0.1'],
      pool: { start: '10.0.0.100', end: '10.0.0.101' },
      profile: 'p',
    },
    { id: 'far', cidr: '10.0.9.0/24', profile: 'p' },
  ],
  profiles: [
    {
      id: 'p',
      bootFiles: { bios: 'undionly.kpxe', uefiX64: 'ipxe.efi', default: 'pxelinux.0' },
      ipxeScriptUrl: 'http://10.0.0.1/boot.ipxe',
      httpBootUrls: { x64: 'http://10.0.0.1/x64.efi' },
    },
  ],
  hosts: [
    { mac: '02:00:00:00:00:01', ip: '10.0.0.11', hostname: 'n1' },
    { mac: '02:00:00:00:00:09', ip: '10.0.9.9' },
  ],
});
const link: Link = {
  name: 'eth0',
  address: '10.0.0.1',
  addressInt: ip('10.0.0.1'),
  netmaskInt: ip('255.255.255.0'),
};
const link2: Link = {
  name: 'eth1',
  address: '10.0.9.1',
  addressInt: ip('10.0.9.1'),
  netmaskInt: ip('255.255.255.0'),
};

function chaddr(last: number): Uint8Array {
  const b = new Uint8Array(16);
  b.set([2, 0, 0, 0, 0, last]);
  return b;
}

function req(
  last: number,
  options: [number, number[] | Uint8Array][] = [],
  over: Partial<RequestView> = {},
): RequestView {
  return {
    op: 1,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 42,
    secs: 0,
    flags: 0,
    ciaddr: 0,
    yiaddr: 0,
    siaddr: 0,
    giaddr: 0,
    chaddr: chaddr(last),
    sname: '',
    file: '',
    magicCookie: true,
    options: new Map(options.map(([c, v]) => [c, Uint8Array.from(v)])),
    ...over,
  };
}

function setup() {
  const table = new LeaseTable();
  const handler = new DhcpHandler(
    responderConfigSchema.parse({ interfaces: ['eth0'] }),
    table,
    new PoolAllocator(),
  );
  let now = 1_000_000;
  const ctx = (over: Partial<HandlerContext> = {}): HandlerContext => ({
    site,
    link,
    links: [link],
    loopback: false,
    from: { address: '0.0.0.0', port: 68 },
    now,
    ...over,
  });
  return { table, handler, ctx, tick: (ms: number) => (now += ms) };
}

const DISCOVER: [number, number[]] = [Opt.MESSAGE_TYPE, [1]];
const REQUEST: [number, number[]] = [Opt.MESSAGE_TYPE, [3]];
const serverId: [number, Uint8Array] = [Opt.SERVER_ID, u32(ip('10.0.0.1'))];
const opt = (d: Decision, code: number) =>
  d.action === 'reply' ? d.reply.options.find(([c]) => c === code)?.[1] : undefined;
const text = (b: Uint8Array | undefined) => (b ? String.fromCharCode(...b) : undefined);
const yiaddr = (d: Decision) => (d.action === 'reply' ? d.reply.yiaddr : undefined);

describe('DhcpHandler: plain BOOTP', () => {
  it('answers a reserved host with its address and boot file, broadcast, no DHCP options', () => {
    const { handler, ctx } = setup();
    const d = handler.handle(req(1, [], { magicCookie: false }), ctx());
    expect(d).toMatchObject({
      action: 'reply',
      outcome: 'bootreply',
      client: 'bootp',
      to: { address: '255.255.255.255', port: 68 },
    });
    if (d.action !== 'reply') return;
    expect(d.reply.format).toBe('bootp');
    expect(d.reply.yiaddr).toBe(ip('10.0.0.11'));
    expect(d.reply.file).toBe('pxelinux.0');
    expect(d.reply.siaddr).toBe(ip('10.0.0.1'));
    expect(opt(d, Opt.MESSAGE_TYPE)).toBeUndefined();
    expect(opt(d, Opt.LEASE_TIME)).toBeUndefined();
    expect(text(opt(d, Opt.HOSTNAME))).toBe('n1');
  });

  it('ignores unknown hosts (no dynamic BOOTP)', () => {
    const { handler, ctx } = setup();
    expect(handler.handle(req(7), ctx())).toMatchObject({ action: 'ignore', reason: 'no_reservation' });
  });

  it('answers a client that has an address at ciaddr', () => {
    const { handler, ctx } = setup();
    expect(handler.handle(req(1, [], { ciaddr: ip('10.0.0.11') }), ctx())).toMatchObject({
      to: { address: '10.0.0.11', port: 68 },
    });
  });

  it('answers relayed requests at giaddr:67 and echoes option 82 last; hops over the limit are dropped', () => {
    const { handler, ctx } = setup();
    const info = [1, 3, 0x65, 0x74, 0x68];
    const d = handler.handle(
      req(9, [[Opt.RELAY_AGENT_INFO, info]], { giaddr: ip('10.0.9.1'), hops: 1 }),
      ctx(),
    );
    expect(d).toMatchObject({ action: 'reply', to: { address: '10.0.9.1', port: 67 } });
    if (d.action !== 'reply') return;
    expect(d.reply.yiaddr).toBe(ip('10.0.9.9'));
    expect(d.reply.giaddr).toBe(ip('10.0.9.1'));
    expect([...d.reply.relayAgentInfo!]).toEqual(info);
    expect(handler.handle(req(9, [], { giaddr: ip('10.0.9.1'), hops: 5 }), ctx())).toMatchObject({
      action: 'drop',
      reason: 'hop_limit',
    });
  });

  it('selects the subnet by RFC 3527 link selection over giaddr', () => {
    const { handler, ctx } = setup();
    const sel = [5, 4, 10, 0, 9, 0];
    const d = handler.handle(req(9, [[Opt.RELAY_AGENT_INFO, sel]], { giaddr: ip('10.0.0.254') }), ctx());
    expect(yiaddr(d)).toBe(ip('10.0.9.9'));
  });

  it('does not serve a reservation on the wrong network', () => {
    const { handler, ctx } = setup();
    expect(handler.handle(req(9), ctx())).toMatchObject({ action: 'ignore', reason: 'no_reservation' });
  });

  it('drops replies, non-Ethernet and ambiguous broadcasts on a multi-link agent', () => {
    const { handler, ctx } = setup();
    expect(handler.handle(req(1, [], { op: 2 }), ctx())).toMatchObject({
      action: 'drop',
      reason: 'not_request',
    });
    expect(handler.handle(req(1, [], { htype: 6 }), ctx())).toMatchObject({
      action: 'drop',
      reason: 'bad_htype',
    });
    const shared = ctx({ link: undefined, links: [link, link2] });
    expect(handler.handle(req(7, [DISCOVER]), shared)).toMatchObject({
      action: 'drop',
      reason: 'wrong_interface',
    });
    expect(yiaddr(handler.handle(req(9, [DISCOVER]), shared))).toBe(ip('10.0.9.9'));
  });
});

describe('DhcpHandler: DHCP', () => {
  it('runs DISCOVER → OFFER → REQUEST → ACK for a pool client and persists the binding', () => {
    const { handler, ctx, table } = setup();
    const offer = handler.handle(req(7, [DISCOVER]), ctx());
    expect(offer).toMatchObject({ action: 'reply', outcome: 'offer', persist: false });
    const addr = yiaddr(offer)!;
    expect(addr).toBe(ip('10.0.0.100'));
    expect(opt(offer, Opt.SERVER_ID)).toEqual(u32(ip('10.0.0.1')));
    expect(opt(offer, Opt.LEASE_TIME)).toEqual(u32(3600));
    const ack = handler.handle(req(7, [REQUEST, serverId, [Opt.REQUESTED_IP, u32(addr)]]), ctx());
    expect(ack).toMatchObject({ action: 'reply', outcome: 'ack', persist: true });
    expect(opt(ack, Opt.MESSAGE_TYPE)).toEqual(Uint8Array.of(5));
    expect(table.at(addr)).toMatchObject({ state: 'bound', mac: '02:00:00:00:00:07' });
  });

  it('never offers one address to two clients, and runs out cleanly', () => {
    const { handler, ctx } = setup();
    const a = yiaddr(handler.handle(req(7, [DISCOVER]), ctx()));
    const b = yiaddr(handler.handle(req(8, [DISCOVER, [Opt.REQUESTED_IP, u32(a!)]]), ctx()));
    expect(new Set([a, b]).size).toBe(2);
    expect(handler.handle(req(6, [DISCOVER]), ctx())).toMatchObject({
      action: 'ignore',
      reason: 'no_address',
    });
  });

  it('NAKs a request for an address held by another client (broadcast; via a relay with B set)', () => {
    const { handler, ctx } = setup();
    const a = yiaddr(handler.handle(req(7, [DISCOVER]), ctx()))!;
    const nak = handler.handle(req(8, [REQUEST, serverId, [Opt.REQUESTED_IP, u32(a)]]), ctx());
    expect(nak).toMatchObject({ outcome: 'nak', to: { address: '255.255.255.255', port: 68 } });
    if (nak.action === 'reply') expect(nak.reply.yiaddr).toBe(0);
    const relayed = handler.handle(
      req(1, [REQUEST, [Opt.REQUESTED_IP, u32(ip('10.0.9.50'))]], { giaddr: ip('10.0.0.254') }),
      ctx(),
    );
    expect(relayed).toMatchObject({ outcome: 'nak', to: { address: '10.0.0.254', port: 67 } });
    if (relayed.action === 'reply') expect(relayed.reply.flags & FLAG_BROADCAST).toBe(FLAG_BROADCAST);
  });

  it('forgets its offer when the client chose another server', () => {
    const { handler, ctx, table } = setup();
    const a = yiaddr(handler.handle(req(7, [DISCOVER]), ctx()))!;
    const other: [number, Uint8Array] = [Opt.SERVER_ID, u32(ip('10.0.0.2'))];
    expect(handler.handle(req(7, [REQUEST, other, [Opt.REQUESTED_IP, u32(a)]]), ctx())).toMatchObject({
      action: 'ignore',
      reason: 'wrong_server',
      persist: true,
    });
    expect(table.isFreeFor(a, 'mac:02:00:00:00:00:08', ctx().now)).toBe(true);
  });

  it('renews unicast at ciaddr, and stays silent for an unknown address outside its pool', () => {
    const { handler, ctx } = setup();
    const ack = handler.handle(req(1, [REQUEST], { ciaddr: ip('10.0.0.11') }), ctx());
    expect(ack).toMatchObject({ outcome: 'ack', to: { address: '10.0.0.11', port: 68 } });
    expect(handler.handle(req(7, [REQUEST], { ciaddr: ip('10.0.0.50') }), ctx())).toMatchObject({
      reason: 'not_our_client',
    });
  });

  it('quarantines a declined address and offers another', () => {
    const { handler, ctx } = setup();
    const a = yiaddr(handler.handle(req(7, [DISCOVER]), ctx()))!;
    handler.handle(req(7, [REQUEST, serverId, [Opt.REQUESTED_IP, u32(a)]]), ctx());
    const decline = handler.handle(
      req(7, [[Opt.MESSAGE_TYPE, [4]], serverId, [Opt.REQUESTED_IP, u32(a)]]),
      ctx(),
    );
    expect(decline).toMatchObject({ action: 'ignore', persist: true });
    const next = yiaddr(handler.handle(req(7, [DISCOVER]), ctx()));
    expect(next).toBeDefined();
    expect(next).not.toBe(a);
  });

  it('frees a released address for others', () => {
    const { handler, ctx } = setup();
    const a = yiaddr(handler.handle(req(7, [DISCOVER]), ctx()))!;
    handler.handle(req(7, [REQUEST, serverId, [Opt.REQUESTED_IP, u32(a)]]), ctx());
    handler.handle(req(8, [DISCOVER]), ctx());
    expect(handler.handle(req(7, [[Opt.MESSAGE_TYPE, [7]], serverId], { ciaddr: a }), ctx())).toMatchObject({
      persist: true,
    });
    expect(yiaddr(handler.handle(req(6, [DISCOVER]), ctx()))).toBe(a);
  });

  it('answers INFORM at ciaddr without a lease time or yiaddr', () => {
    const { handler, ctx } = setup();
    const d = handler.handle(req(7, [[Opt.MESSAGE_TYPE, [8]]], { ciaddr: ip('10.0.0.77') }), ctx());
    expect(d).toMatchObject({ outcome: 'ack', to: { address: '10.0.0.77', port: 68 } });
    expect(yiaddr(d)).toBe(0);
    expect(opt(d, Opt.LEASE_TIME)).toBeUndefined();
  });

  it('keys reservations by MAC whatever client id is sent, without a lease-file write', () => {
    const { handler, ctx } = setup();
    handler.handle(req(1, [DISCOVER, [Opt.CLIENT_ID, [1, 2, 0, 0, 0, 0, 1]]]), ctx());
    const ack = handler.handle(
      req(1, [
        REQUEST,
        serverId,
        [Opt.REQUESTED_IP, u32(ip('10.0.0.11'))],
        [Opt.CLIENT_ID, [1, 2, 0, 0, 0, 0, 1]],
      ]),
      ctx(),
    );
    expect(ack).toMatchObject({ outcome: 'ack', persist: false });
    const again = handler.handle(req(1, [DISCOVER, [Opt.CLIENT_ID, [0xff, 1, 2, 3]]]), ctx());
    expect(yiaddr(again)).toBe(ip('10.0.0.11'));
  });
});

describe('DhcpHandler: PXE, iPXE, UEFI HTTP', () => {
  const pxe = (arch: number, extra: [number, number[]][] = []) =>
    req(7, [
      DISCOVER,
      [Opt.VENDOR_CLASS, [...Buffer.from(`PXEClient:Arch:0000${arch}:UNDI:002001`)]],
      [Opt.CLIENT_ARCH, [0, arch]],
      ...extra,
    ]);

  it('gives a BIOS PXE ROM its TFTP file and PXEClient', () => {
    const { handler, ctx } = setup();
    const d = handler.handle(pxe(0), ctx());
    expect(d).toMatchObject({ client: 'pxe', bootFile: 'undionly.kpxe' });
    expect(text(opt(d, Opt.VENDOR_CLASS))).toBe('PXEClient');
  });

  it('gives iPXE its script URL instead of the ROM again, and 175.176 = 1', () => {
    const { handler, ctx } = setup();
    const d = handler.handle(
      pxe(7, [
        [Opt.USER_CLASS, [...Buffer.from('iPXE')]],
        [Opt.IPXE, [0x13, 1, 1]],
      ]),
      ctx(),
    );
    expect(d).toMatchObject({ client: 'ipxe', bootFile: 'http://10.0.0.1/boot.ipxe' });
    expect(opt(d, Opt.IPXE)).toEqual(Uint8Array.of(0xb0, 1, 1));
    expect(text(opt(d, Opt.BOOTFILE))).toBe('http://10.0.0.1/boot.ipxe');
  });

  it('gives a UEFI HTTP client a URL and HTTPClient', () => {
    const { handler, ctx } = setup();
    const d = handler.handle(
      req(7, [
        DISCOVER,
        [Opt.VENDOR_CLASS, [...Buffer.from('HTTPClient:Arch:00016:UNDI:003001')]],
        [Opt.CLIENT_ARCH, [0, 16]],
      ]),
      ctx(),
    );
    expect(d).toMatchObject({ client: 'http', bootFile: 'http://10.0.0.1/x64.efi' });
    expect(text(opt(d, Opt.VENDOR_CLASS))).toBe('HTTPClient');
    expect(text(opt(d, Opt.BOOTFILE))).toBe('http://10.0.0.1/x64.efi');
  });
});
