import { describe, expect, it } from 'vitest';
import { loadTftpNative } from '@bootpt/tftp-native';
import type { NativeLoad, TftpNativeApi } from '@bootpt/tftp-native';
import { selectNativeFastPath } from './unicast.js';

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
