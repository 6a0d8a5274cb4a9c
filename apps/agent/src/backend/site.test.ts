import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { SiteDataError, SiteView } from './site.js';

const examples = resolve(import.meta.dirname, '../../examples');

describe('SiteView', () => {
  it('accepts the shipped examples', () => {
    const view = SiteView.parse(JSON.parse(readFileSync(`${examples}/site.json`, 'utf8')));
    expect(view.hostByMac('52:54:00:12:34:56')?.ip).toBe('10.20.0.10');
    expect(loadConfig({ file: `${examples}/agent.json`, env: {} }).responder.interfaces).toEqual(['eth1']);
  });

  it('normalises MACs and indexes hosts by MAC, address and subnet', () => {
    const view = SiteView.parse({
      subnets: [{ id: 's', cidr: '10.1.2.0/24' }],
      hosts: [{ mac: '02-AA-00-00-00-01', ip: '10.1.2.3' }],
    });
    const host = view.hostByMac('02:aa:00:00:00:01');
    expect(host?.subnet.id).toBe('s');
    expect(view.hostByIp(host!.ipInt)).toBe(host);
    expect(view.subnetContaining(0x0a0102ff)?.id).toBe('s');
    expect(view.subnetContaining(0x0a010300)).toBeUndefined();
  });

  it('reports every inconsistency at once', () => {
    let error: unknown;
    try {
      SiteView.parse({
        subnets: [
          {
            id: 'a',
            cidr: '10.0.0.0/24',
            pool: { start: '10.0.0.200', end: '10.0.0.100' },
            profile: 'missing',
          },
          { id: 'b', cidr: '10.0.0.128/25' },
        ],
        profiles: [{ id: 'p', manifest: 'ab'.repeat(32) }],
        hosts: [
          { mac: '02:00:00:00:00:01', ip: '10.0.0.5' },
          { mac: '02:00:00:00:00:01', ip: '10.0.0.6' },
          { mac: '02:00:00:00:00:02', ip: '10.0.0.5' },
          { mac: '02:00:00:00:00:03', ip: '192.168.1.1' },
        ],
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SiteDataError);
    const text = (error as SiteDataError).problems.join('\n');
    for (const pattern of [
      /ordered range/,
      /overlaps subnet a/,
      /unknown profile missing/,
      /is not in manifests/,
      /reserved twice/,
      /already reserved/,
      /in no configured subnet/,
    ]) {
      expect(text).toMatch(pattern);
    }
  });

  it('rejects schema errors with paths', () => {
    expect(() => SiteView.parse({ hosts: [{ mac: 'nope', ip: '1.2.3' }] })).toThrow(
      /hosts\.0\.mac.*\n.*hosts\.0\.ip/s,
    );
  });
});
