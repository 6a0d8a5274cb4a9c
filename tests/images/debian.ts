import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { newcArchive } from './newc.js';

/**
 * Realistic initramfs images from Debian packages: `apt-get download` the packages (cached under
 * `.data/cache/debs`), `dpkg -x` them into one root, apply file edits, and archive the root as an
 * uncompressed newc cpio (`newc.ts`: sorted paths, fixed owners, times and path-derived inodes), so the same inputs always give
 * the same bytes (`.data/cache/images/<spec hash>.cpio` is reused across runs).
 */

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');
export const CACHE_DIR = join(REPO, '.data', 'cache');

export interface ImageSpec {
  /** `name` or `name=version` as apt-get understands them. */
  readonly packages: readonly string[];
  /** Files written into the root after extraction (path relative to the root → content). */
  readonly files?: Readonly<Record<string, string>>;
}

/** Release 1: a minimal Debian 12 userland (older point releases of the packages that get updated). */
export const RELEASE_1: ImageSpec = {
  packages: [
    'libc6=2.36-9+deb12u7',
    'libssl3=3.0.17-1~deb12u2',
    'openssl=3.0.17-1~deb12u2',
    'systemd=252.38-1~deb12u1',
    'libsystemd0=252.38-1~deb12u1',
    'tzdata=2025b-0+deb12u1',
    'perl-base=5.36.0-7+deb12u3',
    'python3.11-minimal=3.11.2-6+deb12u8',
    'libpython3.11-minimal=3.11.2-6+deb12u8',
    'bash',
    'coreutils',
    'busybox',
    'util-linux',
    'kmod',
    'iproute2',
    'libgcc-s1',
    'libstdc++6',
    'udev',
    'libudev1',
    'e2fsprogs',
    'libext2fs2',
  ],
  files: { 'etc/bootpt-release': 'release=2026.11.1\n' },
};

const UPDATED: Record<string, string> = {
  libc6: 'libc6=2.36-9+deb12u14',
  libssl3: 'libssl3=3.0.22-1~deb12u2',
  openssl: 'openssl=3.0.22-1~deb12u2',
  systemd: 'systemd=252.39-1~deb12u2',
  libsystemd0: 'libsystemd0=252.39-1~deb12u2',
  tzdata: 'tzdata=2026f-0+deb12u1',
};

/** Release 2: six packages updated to newer point releases and nine added (curl and jq with their libraries). */
export const RELEASE_2: ImageSpec = {
  packages: [
    ...RELEASE_1.packages.map((p) => UPDATED[p.split('=')[0]!] ?? p),
    'curl',
    'libcurl4',
    'libnghttp2-14',
    'libssh2-1',
    'libpsl5',
    'librtmp1',
    'jq',
    'libjq1',
    'libonig5',
  ],
  files: { 'etc/bootpt-release': 'release=2026.11.2\n' },
};

function specHash(spec: ImageSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

async function download(packages: readonly string[], dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const find = async (pkg: string): Promise<string | undefined> => {
    const [name, version] = pkg.split('=') as [string, string | undefined];
    const files = await readdir(dir);
    // apt-get encodes ':' in versions as '%3a'; match name and (when pinned) version.
    return files.find((f) => {
      const [n, v] = f.split('_');
      return n === name && (version === undefined || decodeURIComponent(v ?? '') === version);
    });
  };
  const missing: string[] = [];
  for (const p of packages) if (!(await find(p))) missing.push(p);
  if (missing.length > 0) {
    await run('apt-get', ['download', ...missing], { cwd: dir, timeout: 600_000, maxBuffer: 16 << 20 });
  }
  const out: string[] = [];
  for (const p of packages) {
    const f = await find(p);
    if (!f) throw new Error(`apt-get download did not produce ${p}`);
    out.push(join(dir, f));
  }
  return out;
}

/** Builds (or reuses) the cpio for `spec`; returns its path. */
export async function buildInitramfs(spec: ImageSpec): Promise<string> {
  const out = join(CACHE_DIR, 'images', `${specHash(spec)}-v2.cpio`);
  if (existsSync(out)) return out;
  await mkdir(join(CACHE_DIR, 'images'), { recursive: true });
  const debs = await download(spec.packages, join(CACHE_DIR, 'debs'));
  const work = join(CACHE_DIR, 'images', `${specHash(spec)}.root`);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    for (const deb of debs) await run('dpkg', ['-x', deb, work], { timeout: 120_000 });
    for (const [path, content] of Object.entries(spec.files ?? {})) {
      await mkdir(join(work, path, '..'), { recursive: true });
      await writeFile(join(work, path), content);
    }
    const tmp = `${out}.tmp`;
    await writeFile(tmp, await newcArchive(work));
    await rename(tmp, out);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return out;
}
