import { describe, expect, it } from 'vitest';
import { loadTftpNative } from '@bootpt/tftp-native';
import type { NativeLoad, TftpNativeApi } from '@bootpt/tftp-native';
import type { FileSnapshot } from '../store/file-snapshot.js';
import { selectNativeFastPath, UnicastTransfer } from './unicast.js';

describe('selectNativeFastPath', () => {
  const missing = (): NativeLoad => ({ ok: false, reason: 'cannot open tftp_native.node' });
  const api = {} as TftpNativeApi;
  const present = (): NativeLoad => ({ ok: true, api });

  it('auto: the add-on when it loads, else the JS path with the reason', () => {
    expect(selectNativeFastPath('auto', present)).toMatchObject({ api, path: 'native' });
    expect(selectNativeFastPath('auto', missing)).toEqual({
      api: undefined,
      path: 'js',
      reason: 'cannot open tftp_native.node',
    });
  });

  it('off: the JS path without loading anything', () => {
    const result = selectNativeFastPath('off', () => {
      throw new Error('must not load');
    });
    expect(result).toMatchObject({ api: undefined, path: 'js' });
  });

  it('required: refuses to go on without the add-on', () => {
    expect(selectNativeFastPath('required', present).path).toBe('native');
    expect(() => selectNativeFastPath('required', missing)).toThrow(/required: cannot open/);
  });

  it('loads the add-on built on this machine (the build needs g++, make and python3)', () => {
    const load = loadTftpNative();
    expect(load.ok ? 'loaded' : load.reason).toBe('loaded');
  });
});

describe('UnicastTransfer data path', () => {
  const path = (windowsize: number, native: TftpNativeApi | undefined): string =>
    new UnicastTransfer({
      localAddress: '127.0.0.1',
      mtu: 1500,
      client: { address: '127.0.0.1', port: 1 },
      snapshot: { size: 10_000 } as FileSnapshot,
      machine: {
        blksize: 512,
        windowsize,
        retry: { timeoutMs: 1000, maxTimeoutMs: 1000, maxRetries: 1 },
        oack: [],
        tsizeRequested: false,
      },
      tally: { bytes: 0, packets: 0, retransmissions: 0 },
      onDone: () => {},
      native,
    }).path;
  const current = { lockstep: () => true, window: () => true } as unknown as TftpNativeApi;
  const older = { lockstep: () => true } as unknown as TftpNativeApi;

  it('serves lock-step and windows natively with a current add-on, neither without one', () => {
    expect([path(1, current), path(8, current)]).toEqual(['native', 'native']);
    expect([path(1, undefined), path(8, undefined)]).toEqual(['js', 'js']);
  });

  it('leaves windows to the JS path with an add-on built before window() existed', () => {
    expect([path(1, older), path(8, older)]).toEqual(['native', 'js']);
  });
});
