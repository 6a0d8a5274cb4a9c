/** Display helpers shared by the images, releases and keys pages. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[i]}`;
}

/** `sha256:abcdef…` shortened for tables; the full value stays in the title attribute. */
export function shortDigest(digest: string | null): string {
  if (!digest) return '—';
  const hex = digest.replace(/^sha256:/, '');
  return `${hex.slice(0, 12)}…`;
}

export function percent(part: number, whole: number): string {
  if (whole <= 0) return '—';
  return `${((part / whole) * 100).toFixed(part / whole < 0.1 ? 2 : 1)} %`;
}

export const MEDIA_TYPE_LABELS: Record<string, string> = {
  'application/vnd.bootpt.kernel': 'kernel',
  'application/vnd.bootpt.initramfs.cpio': 'initramfs (cpio)',
  'application/vnd.bootpt.initramfs.cpio+gzip': 'initramfs (cpio, gzip)',
  'application/vnd.bootpt.initramfs.cpio+zstd': 'initramfs (cpio, zstd)',
  'application/vnd.bootpt.rootfs': 'root filesystem',
};
