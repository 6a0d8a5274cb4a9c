/**
 * Boot file names (SPEC §5.4): how a release's layers map to the whole files a TFTP endpoint serves under
 * `<manifest digest>/<name>`. The kernel layer is `kernel`; every initramfs layer, concatenated in manifest
 * order, is `initramfs` (what a boot loader loads); any other layer is `layer-<n>`, n its manifest index.
 */
export type BootFileName = 'kernel' | 'initramfs' | `layer-${number}`;

export function bootFileName(mediaType: string, layerIndex: number): BootFileName {
  if (mediaType === 'application/vnd.bootpt.kernel') return 'kernel';
  if (mediaType.startsWith('application/vnd.bootpt.initramfs.cpio')) return 'initramfs';
  return `layer-${layerIndex}`;
}
