import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Boot artifacts for the QEMU PXE end-to-end test (test-only): a Debian kernel (`linux-image-*-amd64`
 * fetched with `apt-get download` and unpacked with `dpkg-deb`, cached under `.data/cache/tftp-e2e/`)
 * and a tiny busybox initramfs whose `/init` prints `marker` on ttyS0 and powers off.
 */

const CACHE = resolve(import.meta.dirname, '../../../../.data/cache/tftp-e2e');

function run(cmd: string, args: string[], cwd: string, timeoutS = 300): string {
  const r = spawnSync('timeout', [String(timeoutS), cmd, ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Path of a cached vmlinuz, downloading the kernel package on first use. */
export function debianKernel(): string {
  mkdirSync(CACHE, { recursive: true });
  const vmlinuz = join(CACHE, 'vmlinuz');
  if (existsSync(vmlinuz)) return vmlinuz;
  let deb = readdirSync(CACHE).find((f) => /^linux-image-.*-amd64_.*\.deb$/.test(f));
  if (!deb) {
    const depends = run('apt-cache', ['depends', 'linux-image-amd64'], CACHE, 30);
    const pkg = /Depends: (linux-image-[0-9][^\s]*-amd64)/.exec(depends)?.[1];
    if (!pkg) throw new Error(`no kernel package in: ${depends}`);
    run('apt-get', ['download', pkg], CACHE);
    deb = readdirSync(CACHE).find((f) => /^linux-image-.*-amd64_.*\.deb$/.test(f));
    if (!deb) throw new Error('kernel download produced no .deb');
  }
  const unpack = join(CACHE, 'unpack');
  rmSync(unpack, { recursive: true, force: true });
  mkdirSync(unpack);
  run('sh', ['-c', `dpkg-deb --fsys-tarfile "../${deb}" | tar -x --wildcards './boot/vmlinuz-*'`], unpack);
  const boot = join(unpack, 'boot');
  const image = readdirSync(boot).find((f) => f.startsWith('vmlinuz-'));
  if (!image) throw new Error('no vmlinuz in the kernel package');
  copyFileSync(join(boot, image), vmlinuz);
  rmSync(unpack, { recursive: true, force: true });
  return vmlinuz;
}

/** Builds `out` (gzip'd newc cpio): busybox with its libraries, /dev/console and an /init printing `marker`. */
export function busyboxInitramfs(out: string, marker: string): void {
  const stage = `${out}.d`;
  rmSync(stage, { recursive: true, force: true });
  for (const d of ['bin', 'dev', 'proc', 'sys', 'lib64', 'lib/x86_64-linux-gnu']) {
    mkdirSync(join(stage, d), { recursive: true });
  }
  copyFileSync('/bin/busybox', join(stage, 'bin/busybox'));
  chmodSync(join(stage, 'bin/busybox'), 0o755);
  const ldd = run('ldd', ['/bin/busybox'], stage, 10);
  for (const lib of ldd.matchAll(/(\/[^\s]+\.so[^\s]*)/g)) {
    const target = join(stage, lib[1]!);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(lib[1]!, target);
  }
  run('mknod', [join(stage, 'dev/console'), 'c', '5', '1'], stage, 10);
  writeFileSync(
    join(stage, 'init'),
    `#!/bin/busybox sh\n/bin/busybox mount -t devtmpfs dev /dev\n/bin/busybox echo ${marker} > /dev/ttyS0\n/bin/busybox poweroff -f\n`,
  );
  chmodSync(join(stage, 'init'), 0o755);
  run('sh', ['-c', `find . | cpio -o -H newc --quiet | gzip -1 > "${out}"`], stage, 60);
  rmSync(stage, { recursive: true, force: true });
}
