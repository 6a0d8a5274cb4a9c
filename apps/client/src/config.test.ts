import { describe, expect, it } from 'vitest';
import { generateManifestKeyPair } from '@bootpt/protocol';
import { loadClientConfig } from './config.js';
import { ClientError } from './errors.js';

// base64url: one key in 64 starts with '-', which `--trusted-key KEY` would read as a flag (random
// failures before); `--trusted-key=KEY` takes any value.
const key = generateManifestKeyPair().publicKeyRaw;
const pin = 'AB:'.repeat(31) + 'AB';

describe('client configuration', () => {
  it('reads flags over environment variables and normalises the pin', () => {
    const config = loadClientConfig(
      ['--mac', '52:54:00:00:00:01', `--trusted-key=${key}`, '--pin', pin, '--window-ms', '250', '--kexec'],
      { BOOTPT_CLIENT_WINDOW_MS: '900', BOOTPT_CLIENT_CACHE_DIR: '/tmp/c', BOOTPT_CLIENT_NO_REPORT: '1' },
    );
    expect(config.windowMs).toBe(250);
    expect(config.cacheDir).toBe('/tmp/c');
    expect(config.tls.fingerprint).toBe('ab'.repeat(32));
    expect(config.kexec).toBe(true);
    expect(config.report).toBe(false);
    expect(config.server).toBe('255.255.255.255');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every problem at once and never trusts a server blindly', () => {
    let error: unknown;
    try {
      loadClientConfig(['--mac', 'nope', '--concurrency', 'x'], {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ClientError);
    const message = (error as ClientError).message;
    expect((error as ClientError).code).toBe('CLIENT_ERR_CONFIG');
    expect(message).toContain('--concurrency');
    expect(message).toContain('mac');
    expect(message).toContain('trusted manifest key');
    expect(message).toContain('tls.fingerprint (pin) or tls.caFile');
  });

  it('reads the group delivery settings (defaults: auto, half missing, 1 MiB) and checks them', () => {
    const base = ['--mac', '52:54:00:00:00:01', `--trusted-key=${key}`, '--pin', pin];
    const defaults = loadClientConfig(base, {});
    expect(defaults.group).toBe('auto');
    expect(defaults.groupMinMissing).toBe(0.5);
    expect(defaults.groupMinBytes).toBe(1024 * 1024);
    const set = loadClientConfig([...base, '--group', 'broadcast', '--group-min-missing', '0.8'], {
      BOOTPT_CLIENT_GROUP_BLKSIZE: '8192',
    });
    expect([set.group, set.groupMinMissing, set.groupBlksize]).toEqual(['broadcast', 0.8, 8192]);
    expect(() => loadClientConfig([...base, '--group', 'sometimes'], {})).toThrow(/group/);
    expect(() => loadClientConfig([...base, '--group-min-missing', '1.5'], {})).toThrow(/groupMinMissing/);
    expect(() => loadClientConfig([...base, '--group-min-missing', 'half'], {})).toThrow(/not a number/);
  });

  it('rejects unknown flags with the usage text', () => {
    expect(() => loadClientConfig(['--frobnicate'], {})).toThrow(/usage: bootpt-client/);
  });
});
