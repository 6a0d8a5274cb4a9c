import { describe, expect, it } from 'vitest';
import { tftpConfigSchema } from './config.js';

describe('tftpConfigSchema', () => {
  it('is off by default, read-only, with the path-MTU clamp left to the interface', () => {
    const cfg = tftpConfigSchema.parse({});
    expect(cfg.enabled).toBe(false);
    expect(cfg.port).toBe(69);
    expect(cfg.maxBlksize).toBeUndefined();
    expect(cfg.groupMaxBlksize).toBe(8192);
    expect(cfg.multicast.port).toBe(1758);
    expect(cfg.sbroadcast.port).toBe(247);
  });

  it('refuses to serve every interface, and loopback together with interfaces', () => {
    expect(tftpConfigSchema.safeParse({ enabled: true }).success).toBe(false);
    expect(tftpConfigSchema.safeParse({ enabled: true, loopback: true, interfaces: ['eth0'] }).success).toBe(
      false,
    );
    expect(tftpConfigSchema.safeParse({ enabled: true, interfaces: ['eth0'] }).success).toBe(true);
  });

  it('rejects unknown keys and out-of-range values', () => {
    expect(tftpConfigSchema.safeParse({ writable: true }).success).toBe(false);
    expect(tftpConfigSchema.safeParse({ maxBlksize: 70000 }).success).toBe(false);
    expect(tftpConfigSchema.safeParse({ retry: { timeoutMs: 500, maxTimeoutMs: 100 } }).success).toBe(false);
  });
});

describe('tftpConfigSchema paths', () => {
  it('keeps path leniency off unless asked', () => {
    expect(tftpConfigSchema.parse({}).paths).toEqual({
      translateBackslashes: false,
      stripLeadingSlash: false,
    });
    expect(tftpConfigSchema.parse({ paths: { stripLeadingSlash: true } }).paths.stripLeadingSlash).toBe(true);
  });
});

describe('tftpConfigSchema nativeFastPath', () => {
  it('uses the native lock-step add-on when it loads unless told otherwise', () => {
    expect(tftpConfigSchema.parse({}).nativeFastPath).toBe('auto');
    for (const mode of ['off', 'required'] as const)
      expect(tftpConfigSchema.parse({ nativeFastPath: mode }).nativeFastPath).toBe(mode);
    expect(tftpConfigSchema.safeParse({ nativeFastPath: 'on' }).success).toBe(false);
    expect(tftpConfigSchema.safeParse({ nativeFastPath: true }).success).toBe(false);
  });
});
