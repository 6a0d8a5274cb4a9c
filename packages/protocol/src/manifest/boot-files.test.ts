import { describe, expect, it } from 'vitest';
import { bootFileName } from './boot-files.js';

describe('bootFileName', () => {
  it('names the kernel, folds every initramfs flavour into one file and numbers the rest', () => {
    expect(bootFileName('application/vnd.bootpt.kernel', 0)).toBe('kernel');
    expect(bootFileName('application/vnd.bootpt.initramfs.cpio', 1)).toBe('initramfs');
    expect(bootFileName('application/vnd.bootpt.initramfs.cpio+zstd', 2)).toBe('initramfs');
    expect(bootFileName('application/vnd.bootpt.rootfs', 3)).toBe('layer-3');
  });
});
