import { describe, expect, it } from 'vitest';
import { formatMac, fromHex, intToIPv4, ipv4ToInt, normalizeMac, parseIPv4, toHex } from './wire.js';

describe('wire helpers', () => {
  it('parses and formats IPv4', () => {
    expect(parseIPv4('10.0.0.255')).toEqual(Uint8Array.of(10, 0, 0, 255));
    expect(parseIPv4('256.0.0.1')).toBeNull();
    expect(parseIPv4('1.2.3')).toBeNull();
    expect(intToIPv4(ipv4ToInt('192.168.1.7')!)).toBe('192.168.1.7');
    expect(ipv4ToInt('255.255.255.255')).toBe(0xffffffff);
  });
  it('normalises MAC addresses', () => {
    expect(normalizeMac('AA-BB-CC-00-11-22')).toBe('aa:bb:cc:00:11:22');
    expect(normalizeMac('aa:bb:cc:00:11')).toBeNull();
    expect(formatMac(Uint8Array.of(1, 2, 255))).toBe('01:02:ff');
  });
  it('round-trips hex', () => {
    expect(toHex(fromHex('de ad:BE ef')!)).toBe('deadbeef');
    expect(fromHex('abc')).toBeNull();
    expect(fromHex('zz')).toBeNull();
  });
});
