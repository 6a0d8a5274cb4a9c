import { describe, expect, it } from 'vitest';
import { toHex, utf8Encode } from '../wire.js';
import { chaddrFromMac, clientMac } from './chaddr.js';
import {
  OVERLOADED_OFFER,
  PXE_DISCOVER,
  QUIRKY_DISCOVER,
  RELAYED_REQUEST,
  SPLIT_43_ACK,
  SPLIT_43_VALUE,
} from './golden.js';
import { renderBootpJson } from './json.js';
import {
  DhcpOption,
  collectDhcpOptions,
  getBootFileName,
  getClientArch,
  getClientId,
  getClientNdi,
  getClientUuid,
  getMaxMessageSize,
  getDhcpMessageType,
  getDhcpOption,
  getDhcpOverload,
  getParameterRequestList,
  getRequestedIp,
  getServerIdentifier,
  getServerName,
  getUserClass,
  getVendorClass,
  isDhcp,
  isHttpClient,
  isIpxe,
  isPxeClient,
  dhcpOptionCodecs,
  readDhcpOption,
  removeDhcpOption,
  setDhcpOption,
  splitDhcpOption,
  writeDhcpOption,
} from './options.js';
import { decodeBootp, encodeBootp } from './packet.js';
import { CLIENT_ARCHITECTURES, DHCP_OPTION_REGISTRY, clientArchName, dhcpOptionName } from './registry.js';
import {
  buildPxeVendorOptions,
  decodeIpxeOptions,
  decodePxeBootMenu,
  decodePxeBootServers,
  decodePxeOptions,
  decodeRelayAgentInfo,
  encodeIpxeOptions,
  encodePxeBootItem,
  encodePxeBootMenu,
  encodePxeBootServers,
  encodePxeMenuPrompt,
  encodePxeOptions,
  encodeRelayAgentInfo,
} from './suboptions.js';
import type { BootpPacket } from './types.js';

function decoded(bytes: Uint8Array): BootpPacket {
  const r = decodeBootp(bytes);
  if (!r.ok) throw new Error(r.error.code);
  return r.value;
}

describe('typed getters', () => {
  it('read a PXE client request', () => {
    const p = decoded(PXE_DISCOVER);
    expect(getDhcpMessageType(p)).toBe(1);
    expect(isDhcp(p)).toBe(true);
    expect(getMaxMessageSize(p)).toBe(1472);
    expect(getClientArch(p)).toEqual([7]);
    expect(getClientNdi(p)).toEqual({ type: 1, major: 3, minor: 16 });
    expect(toHex(getClientUuid(p)!.guid)).toBe('8b2f6a40c13e47119a40525400123456');
    expect(getParameterRequestList(p)).toHaveLength(35);
    expect(getVendorClass(p)).toBe('PXEClient:Arch:00007:UNDI:003016');
    expect(isPxeClient(p)).toBe(true);
    expect(isHttpClient(p)).toBe(false);
    expect(isIpxe(p)).toBe(false);
    expect(clientMac(p)).toBe('52:54:00:12:34:56');
  });

  it('read a relayed request', () => {
    const p = decoded(RELAYED_REQUEST);
    expect(getRequestedIp(p)).toBe('10.0.0.50');
    expect(getServerIdentifier(p)).toBe('10.0.0.2');
    const id = getClientId(p)!;
    expect(id.type).toBe(1);
    expect(toHex(id.id)).toBe('001122334455');
  });

  it('concatenate split instances (RFC 3396) and resolve overload', () => {
    expect(getDhcpOption(decoded(SPLIT_43_ACK), 43)).toEqual(SPLIT_43_VALUE);
    const offer = decoded(OVERLOADED_OFFER);
    expect(getDhcpOverload(offer)).toBe(3);
    expect(getBootFileName(offer)).toBe('pxelinux.0');
    expect(getServerName(offer)).toBe('192.168.1.1');
    expect([...collectDhcpOptions(offer).keys()]).toEqual([53, 54, 52, 51, 1, 3, 67, 12, 66]);
  });

  it('tolerate trailing NULs and detect iPXE by user class or option 175', () => {
    const p = decoded(QUIRKY_DISCOVER);
    expect(readDhcpOption(p, DhcpOption.HOST_NAME, dhcpOptionCodecs.string)).toBe('PC-01');
    expect(getUserClass(p)).toEqual(['iPXE']);
    expect(isIpxe(p)).toBe(true);
    expect(isIpxe(removeDhcpOption(p, 175))).toBe(true);
    expect(isIpxe(removeDhcpOption(removeDhcpOption(p, 175), 77))).toBe(false);
    expect(getBootFileName(p)).toBe('old');
  });

  it('parse RFC 3004 user classes when they fit exactly', () => {
    const p = setDhcpOption(decoded(PXE_DISCOVER), 77, Uint8Array.of(3, 97, 98, 99, 2, 120, 121));
    expect(getUserClass(p)).toEqual(['abc', 'xy']);
  });

  it('return null for absent or malformed values', () => {
    const p = decoded(PXE_DISCOVER);
    expect(getDhcpOption(p, 0)).toBeNull();
    expect(getRequestedIp(p)).toBeNull();
    expect(readDhcpOption(setDhcpOption(p, 1, Uint8Array.of(1, 2, 3)), 1, dhcpOptionCodecs.ipv4)).toBeNull();
    expect(
      readDhcpOption(setDhcpOption(p, 3, Uint8Array.of(1, 2, 3, 4, 5)), 3, dhcpOptionCodecs.ipv4List),
    ).toBeNull();
    expect(readDhcpOption(setDhcpOption(p, 19, Uint8Array.of(2)), 19, dhcpOptionCodecs.bool)).toBeNull();
  });
});

describe('setters', () => {
  const base = decoded(RELAYED_REQUEST);

  it('insert new options before option 82, which stays last', () => {
    const p = writeDhcpOption(base, DhcpOption.HOST_NAME, dhcpOptionCodecs.string, 'node7');
    expect(p.options.map((o) => o.code)).toEqual([53, 50, 54, 61, 12, 82]);
    expect(base.options.map((o) => o.code)).toEqual([53, 50, 54, 61, 82]);
  });

  it('replace in place and split long values into 255-octet instances', () => {
    const long = new Uint8Array(600).map((_, i) => i & 0xff);
    const p = setDhcpOption(base, 50, long);
    expect(p.options.map((o) => [o.code, o.data.length])).toEqual([
      [53, 1],
      [50, 255],
      [50, 255],
      [50, 90],
      [54, 4],
      [61, 7],
      [82, 18],
    ]);
    expect(getDhcpOption(p, 50)).toEqual(long);
    expect(decoded(encodeBootp(p))).toEqual(p);
    expect(splitDhcpOption(80, new Uint8Array(0))).toEqual([{ code: 80, data: new Uint8Array(0) }]);
  });

  it('round-trip every codec', () => {
    let p = base;
    p = writeDhcpOption(p, 2, dhcpOptionCodecs.i32, -3600);
    p = writeDhcpOption(p, 3, dhcpOptionCodecs.ipv4List, ['10.0.0.1', '10.0.0.254']);
    p = writeDhcpOption(p, 51, dhcpOptionCodecs.u32, 0xffffffff);
    p = writeDhcpOption(p, 57, dhcpOptionCodecs.u16, 1500);
    p = writeDhcpOption(p, 19, dhcpOptionCodecs.bool, true);
    p = writeDhcpOption(p, 93, dhcpOptionCodecs.u16List, [7, 16]);
    p = writeDhcpOption(p, 55, dhcpOptionCodecs.u8List, [1, 3, 6]);
    p = writeDhcpOption(p, 97, dhcpOptionCodecs.bytes, new Uint8Array(17));
    expect(readDhcpOption(p, 2, dhcpOptionCodecs.i32)).toBe(-3600);
    expect(readDhcpOption(p, 3, dhcpOptionCodecs.ipv4List)).toEqual(['10.0.0.1', '10.0.0.254']);
    expect(readDhcpOption(p, 51, dhcpOptionCodecs.u32)).toBe(0xffffffff);
    expect(getMaxMessageSize(p)).toBe(1500);
    expect(readDhcpOption(p, 19, dhcpOptionCodecs.bool)).toBe(true);
    expect(getClientArch(p)).toEqual([7, 16]);
    expect(getParameterRequestList(p)).toEqual([1, 3, 6]);
    expect(getClientUuid(p)?.type).toBe(0);
    expect(() => writeDhcpOption(p, 57, dhcpOptionCodecs.u16, 70000)).toThrow(RangeError);
    expect(() => writeDhcpOption(p, 1, dhcpOptionCodecs.ipv4, '1.2.3.4.5')).toThrow(RangeError);
    expect(() => setDhcpOption(p, 255, new Uint8Array(0))).toThrow(RangeError);
  });

  it('remove every instance', () => {
    const p = removeDhcpOption(decoded(SPLIT_43_ACK), 43);
    expect(getDhcpOption(p, 43)).toBeNull();
    expect(removeDhcpOption(p, 43)).toBe(p);
  });
});

describe('sub-options', () => {
  it('decode PXE option 43 with End and typed helpers', () => {
    const subs = decodePxeOptions(SPLIT_43_VALUE);
    expect(subs.ok).toBe(true);
    if (!subs.ok) return;
    expect(subs.value.map((s) => s.code)).toEqual([6, 8, 9, 10, 71]);
    expect(decodePxeBootServers(subs.value[1]!.data)).toEqual([
      { type: 0x8001, addresses: ['10.0.0.1', '10.0.0.2'] },
      { type: 0x8002, addresses: ['10.0.0.3', '10.0.0.4'] },
      { type: 0x8003, addresses: ['10.0.0.5', '10.0.0.6'] },
    ]);
    const menu = decodePxeBootMenu(subs.value[2]!.data)!;
    expect(menu).toHaveLength(5);
    expect(menu[3]).toEqual({ type: 0, description: 'Boot from local disk'.padEnd(40) });
    expect(encodePxeOptions(subs.value)).toEqual(SPLIT_43_VALUE);
  });

  it('build a whole PXE option 43', () => {
    expect(buildPxeVendorOptions({ discoveryControl: 8 })).toEqual(Uint8Array.of(6, 1, 8, 255));
    const value = buildPxeVendorOptions({
      discoveryControl: 7,
      bootServers: [
        { type: 0x8001, addresses: ['10.0.0.1', '10.0.0.2'] },
        { type: 0x8002, addresses: ['10.0.0.3', '10.0.0.4'] },
        { type: 0x8003, addresses: ['10.0.0.5', '10.0.0.6'] },
      ],
      bootMenu: [
        { type: 0x8001, description: 'Install Debian 13 (x86-64, text mode)   ' },
        { type: 0x8002, description: 'Install Debian 13 (x86-64, graphical)   ' },
        { type: 0x8003, description: 'Rescue shell over NFS root              ' },
        { type: 0, description: 'Boot from local disk                    ' },
        { type: 0x8004, description: 'Memory test (memtest86+ 7.20 EFI build) ' },
      ],
      menuPrompt: { timeout: 5, prompt: 'Boot menu:' },
      bootItem: { type: 0x8001, layer: 0 },
    });
    expect(value).toEqual(SPLIT_43_VALUE);
    expect(() => buildPxeVendorOptions({ discoveryControl: 256 })).toThrow(RangeError);
    expect(() => buildPxeVendorOptions({ multicastAddress: 'x' })).toThrow(RangeError);
  });

  it('encode PXE helpers', () => {
    const value = encodePxeOptions([
      { code: 6, data: Uint8Array.of(8) },
      { code: 8, data: encodePxeBootServers([{ type: 0x8000, addresses: ['192.0.2.1'] }]) },
      { code: 9, data: encodePxeBootMenu([{ type: 0x8000, description: 'iPXE' }]) },
      { code: 10, data: encodePxeMenuPrompt(0, 'x') },
      { code: 71, data: encodePxeBootItem(0x8000, 0) },
    ]);
    expect(toHex(value)).toBe(
      '060108' +
        '080780000' +
        '1c0000201' +
        '0907800004' +
        toHex(utf8Encode('iPXE')) +
        '0a020078' +
        '470480000000' +
        'ff',
    );
  });

  it('keep option 82 plain TLVs (0 and 255 are ordinary codes) and report errors with offsets', () => {
    const value = encodeRelayAgentInfo([
      { code: 1, data: utf8Encode('eth0:100') },
      { code: 255, data: Uint8Array.of(1) },
    ]);
    expect(decodeRelayAgentInfo(value)).toEqual({
      ok: true,
      value: [
        { code: 1, data: utf8Encode('eth0:100') },
        { code: 255, data: Uint8Array.of(1) },
      ],
    });
    expect(decodeRelayAgentInfo(Uint8Array.of(1, 2, 0, 0, 2))).toMatchObject({
      ok: false,
      error: { code: 'DHCP_SUBOPTION_TRUNCATED', offset: 4 },
    });
    expect(decodeRelayAgentInfo(Uint8Array.of(1, 5, 0))).toMatchObject({
      ok: false,
      error: { code: 'DHCP_SUBOPTION_OVERRUN', offset: 0 },
    });
  });

  it('decode iPXE option 175 with pads', () => {
    const r = decodeIpxeOptions(Uint8Array.of(0, 0xb0, 1, 1, 0, 0xeb, 3, 49, 46, 50));
    expect(r.ok && r.value.map((s) => s.code)).toEqual([176, 235]);
    expect(encodeIpxeOptions([{ code: 176, data: Uint8Array.of(1) }])).toEqual(Uint8Array.of(0xb0, 1, 1));
  });
});

describe('registry and JSON', () => {
  it('names options and architectures', () => {
    expect(dhcpOptionName(53)).toBe('message-type');
    expect(dhcpOptionName(0)).toBe('pad');
    expect(dhcpOptionName(255)).toBe('end');
    expect(dhcpOptionName(222)).toBe('unknown');
    expect(DHCP_OPTION_REGISTRY.get(82)?.kind).toBe('relay-agent');
    expect(clientArchName(7)).toBe('x64 UEFI');
    expect(clientArchName(9)).toBe('EBC');
    expect(clientArchName(16)).toBe('x64 UEFI HTTP');
    expect(CLIENT_ARCHITECTURES.size).toBe(41);
  });

  it('renders the decoder JSON shape', () => {
    const json = renderBootpJson(decoded(RELAYED_REQUEST));
    expect(json).toEqual({
      proto: 'bootp',
      op: 1,
      htype: 1,
      hlen: 6,
      hops: 1,
      xid: '0x0000abcd',
      secs: 2,
      flags: 0,
      ciaddr: '0.0.0.0',
      yiaddr: '0.0.0.0',
      siaddr: '0.0.0.0',
      giaddr: '10.0.0.1',
      chaddr: '00:11:22:33:44:55',
      sname: '',
      file: '',
      msgType: 3,
      options: [
        { code: 53, name: 'message-type', value: 'DHCPREQUEST' },
        { code: 50, name: 'requested-address', value: '10.0.0.50' },
        { code: 54, name: 'server-identifier', value: '10.0.0.2' },
        { code: 61, name: 'client-identifier', value: { type: 1, id: '00:11:22:33:44:55' } },
        {
          code: 82,
          name: 'relay-agent-information',
          value: [
            { code: 1, name: 'circuit-id', value: '657468303a313030' },
            { code: 2, name: 'remote-id', value: '00aabbccddee' },
          ],
        },
      ],
    });
  });

  it('renders PXE, iPXE and fallbacks', () => {
    const ack = renderBootpJson(decoded(SPLIT_43_ACK));
    const pxe = ack.options.find((o) => o.code === 43)!;
    expect(pxe.value).toMatchObject([
      { code: 6, name: 'discovery-control', value: 7 },
      { code: 8, name: 'boot-servers' },
      { code: 9, name: 'boot-menu' },
      { code: 10, name: 'menu-prompt', value: { timeout: 5, prompt: 'Boot menu:' } },
      { code: 71, name: 'boot-item', value: { type: 0x8001, layer: 0 } },
    ]);
    const quirky = renderBootpJson(decoded(QUIRKY_DISCOVER));
    expect(quirky.file).toBe('old');
    expect(quirky.options.find((o) => o.code === 175)?.value).toEqual([
      { code: 176, name: 'no-pxedhcp', value: 1 },
      { code: 19, name: 'http', value: 1 },
    ]);
    let p = decoded(PXE_DISCOVER);
    p = setDhcpOption(p, 222, Uint8Array.of(0xca, 0xfe));
    p = setDhcpOption(p, 1, Uint8Array.of(1, 2, 3));
    p = setDhcpOption(p, 121, Uint8Array.of(8, 10, 192, 168, 1, 1, 0, 192, 168, 1, 254));
    p = setDhcpOption(p, 82, Uint8Array.of(1, 9));
    p = setDhcpOption(p, 94, chaddrFromMac('00:00:00:00:00:01').subarray(0, 3));
    const json = renderBootpJson(p);
    const value = (code: number) => json.options.find((o) => o.code === code)?.value;
    expect(value(222)).toBe('cafe');
    expect(value(1)).toBe('010203');
    expect(value(121)).toEqual([
      { destination: '10.0.0.0/8', router: '192.168.1.1' },
      { destination: '0.0.0.0/0', router: '192.168.1.254' },
    ]);
    expect(value(82)).toBe('0109');
    expect(value(94)).toEqual({ type: 0, major: 0, minor: 0 });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});
