import { describe, expect, it } from 'vitest';
import { AddressPool, inCidr, quirkFor, subnetBroadcast } from './net.js';

describe('tftp net helpers', () => {
  it('computes subnet-directed broadcast addresses', () => {
    expect(subnetBroadcast('10.1.2.3', '255.255.255.0')).toBe('10.1.2.255');
    expect(subnetBroadcast('10.1.2.3', '255.255.0.0')).toBe('10.1.255.255');
    expect(subnetBroadcast('192.168.7.9', '255.255.255.252')).toBe('192.168.7.11');
  });

  it('matches quirks by CIDR, first match wins', () => {
    const quirks = [
      { cidr: '10.0.0.0/8', refuse: ['blksize'] },
      { cidr: '0.0.0.0/0', refuse: [] },
    ];
    expect(inCidr('10.9.9.9', '10.0.0.0/8')).toBe(true);
    expect(inCidr('11.0.0.1', '10.0.0.0/8')).toBe(false);
    expect(quirkFor(quirks, '10.2.3.4')?.refuse).toEqual(['blksize']);
    expect(quirkFor(quirks, '192.0.2.1')?.refuse).toEqual([]);
    expect(quirkFor([], '192.0.2.1')).toBeUndefined();
  });

  it('hands out multicast addresses lowest first and takes them back', () => {
    const pool = new AddressPool('239.1.1.1', '239.1.1.2');
    expect(pool.take()).toBe('239.1.1.1');
    expect(pool.take()).toBe('239.1.1.2');
    expect(pool.take()).toBeNull();
    pool.give('239.1.1.1');
    expect(pool.take()).toBe('239.1.1.1');
  });
});
