import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.js';

const files = (content: Record<string, string>) => (path: string) => {
  const text = content[path];
  if (text === undefined) throw new Error('ENOENT: no such file');
  return text;
};

describe('loadConfig', () => {
  it('reads a file, resolves relative paths against it and applies defaults', () => {
    const cfg = loadConfig({
      file: '/etc/bootpt/agent.json',
      env: {},
      readFile: files({
        '/etc/bootpt/agent.json': JSON.stringify({
          responder: { interfaces: ['eth1'] },
          backend: { kind: 'file', path: 'site.json' },
        }),
      }),
    });
    expect(cfg.backend.path).toBe('/etc/bootpt/site.json');
    expect(cfg.responder.port).toBe(67);
    expect(cfg.responder.hopLimit).toBe(4);
    expect(cfg.responder.turbo.enabled).toBe(true);
    expect(cfg.metrics.port).toBe(9467);
    expect(Object.isFrozen(cfg.responder)).toBe(true);
  });

  it('lets the environment override the file', () => {
    const cfg = loadConfig({
      file: '/a.json',
      cwd: '/srv',
      env: {
        BOOTPT_AGENT_INTERFACES: 'eth0, eth2',
        BOOTPT_AGENT_PORT: '1067',
        BOOTPT_AGENT_LOOPBACK: 'false',
        BOOTPT_AGENT_BACKEND_FILE: 'site.json',
        BOOTPT_AGENT_LOG_LEVEL: 'debug',
      },
      readFile: files({ '/a.json': JSON.stringify({ responder: { interfaces: ['eth9'], hopLimit: 2 } }) }),
    });
    expect(cfg.responder.interfaces).toEqual(['eth0', 'eth2']);
    expect(cfg.responder.port).toBe(1067);
    expect(cfg.responder.hopLimit).toBe(2);
    expect(cfg.backend).toEqual({ kind: 'file', path: '/srv/site.json' });
    expect(cfg.log.level).toBe('debug');
  });

  it('refuses to start with no interface named', () => {
    expect(() => loadConfig({ env: { BOOTPT_AGENT_BACKEND_FILE: '/s.json' } })).toThrow(/no interface named/);
  });

  it('accepts loopback mode without interfaces', () => {
    const cfg = loadConfig({
      env: { BOOTPT_AGENT_BACKEND_FILE: '/s.json', BOOTPT_AGENT_LOOPBACK: '1', BOOTPT_AGENT_PORT: '10067' },
    });
    expect(cfg.responder.loopback).toBe(true);
  });

  it('reports every problem at once, naming the variable that caused it', () => {
    let error: unknown;
    try {
      loadConfig({
        file: '/a.json',
        env: { BOOTPT_AGENT_PORT: 'sixty-seven', BOOTPT_AGENT_METRICS_PORT: '70000' },
        readFile: files({
          '/a.json': JSON.stringify({ responder: { hopLimit: 99, bogus: 1 }, log: { level: 'loud' } }),
        }),
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/BOOTPT_AGENT_PORT="sixty-seven": not an integer/);
    expect(problems).toMatch(/metrics\.port \(from BOOTPT_AGENT_METRICS_PORT\)/);
    expect(problems).toMatch(/responder\.hopLimit/);
    expect(problems).toMatch(/bogus/);
    expect(problems).toMatch(/log\.level/);
    expect(problems).toMatch(/backend/);
    expect(problems).toMatch(/no interface named/);
    expect((error as ConfigError).message).toMatch(/^invalid agent configuration \(\d+ problems\)/);
  });

  it('reports an unreadable file and bad JSON', () => {
    expect(() => loadConfig({ file: '/missing.json', env: {}, readFile: files({}) })).toThrow(/ENOENT/);
    expect(() => loadConfig({ file: '/bad.json', env: {}, readFile: files({ '/bad.json': '{' }) })).toThrow(
      /bad\.json: .*JSON/,
    );
  });

  it('rejects loopback together with interfaces', () => {
    expect(() =>
      loadConfig({
        env: {
          BOOTPT_AGENT_BACKEND_FILE: '/s.json',
          BOOTPT_AGENT_LOOPBACK: 'on',
          BOOTPT_AGENT_INTERFACES: 'eth0',
        },
      }),
    ).toThrow(/mutually exclusive/);
  });
});
