import { describe, expect, it } from 'vitest';
import {
  contains,
  formatCidr,
  formatIpv4,
  isHostname,
  isMulticast,
  isUsableHost,
  normalizeMac,
  parseCidr,
  parseIpv4,
} from './net';

describe('parseIpv4', () => {
  it('round-trips addresses at the edges', () => {
    for (const a of ['0.0.0.0', '10.0.0.1', '255.255.255.255', '192.168.1.100']) {
      expect(formatIpv4(parseIpv4(a)!)).toBe(a);
    }
  });
  it('rejects malformed addresses', () => {
    for (const a of ['256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', 'a.b.c.d', '', '1..2.3']) {
      expect(parseIpv4(a)).toBeNull();
    }
  });
});

describe('parseCidr', () => {
  it('accepts networks and computes the last address', () => {
    const r = parseCidr('10.1.2.0/24');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(formatCidr(r.cidr)).toBe('10.1.2.0/24');
    expect(formatIpv4(r.cidr.last)).toBe('10.1.2.255');
    expect(contains(r.cidr, parseIpv4('10.1.2.77')!)).toBe(true);
    expect(contains(r.cidr, parseIpv4('10.1.3.0')!)).toBe(false);
  });
  it('rejects host bits, bad prefixes and garbage with a reason', () => {
    const hostBits = parseCidr('10.1.2.5/24');
    expect(hostBits).toEqual({ ok: false, reason: expect.stringContaining('10.1.2.0/24') as string });
    expect(parseCidr('10.0.0.0/33').ok).toBe(false);
    expect(parseCidr('10.0.0.0/0').ok).toBe(false);
    expect(parseCidr('10.0.0.0').ok).toBe(false);
    expect(parseCidr('300.0.0.0/8').ok).toBe(false);
  });
  it('excludes network and broadcast addresses from usable hosts except on /31 and /32', () => {
    const c = parseCidr('10.0.0.0/30');
    if (!c.ok) throw new Error('parse');
    expect(isUsableHost(c.cidr, parseIpv4('10.0.0.0')!)).toBe(false);
    expect(isUsableHost(c.cidr, parseIpv4('10.0.0.1')!)).toBe(true);
    expect(isUsableHost(c.cidr, parseIpv4('10.0.0.3')!)).toBe(false);
    const p2p = parseCidr('10.0.0.0/31');
    if (!p2p.ok) throw new Error('parse');
    expect(isUsableHost(p2p.cidr, parseIpv4('10.0.0.0')!)).toBe(true);
  });
});

describe('normalizeMac', () => {
  it('accepts the usual notations', () => {
    for (const m of ['52:54:00:AB:cd:01', '52-54-00-ab-cd-01', '5254.00ab.cd01', '525400abcd01']) {
      expect(normalizeMac(m)).toBe('52:54:00:ab:cd:01');
    }
  });
  it('rejects mixed separators and wrong lengths', () => {
    for (const m of ['52:54-00:ab:cd:01', '52:54:00:ab:cd', '52:54:00:ab:cd:01:02', 'zz:54:00:ab:cd:01']) {
      expect(normalizeMac(m)).toBeNull();
    }
  });
});

it('recognises multicast addresses and host names', () => {
  expect(isMulticast(parseIpv4('239.1.1.1')!)).toBe(true);
  expect(isMulticast(parseIpv4('240.0.0.1')!)).toBe(false);
  expect(isHostname('node-01.rack-a')).toBe(true);
  expect(isHostname('-bad')).toBe(false);
  expect(isHostname('under_score')).toBe(false);
});
