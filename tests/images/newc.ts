import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * An uncompressed "newc" cpio archive (the format the Linux kernel unpacks for initramfs) of a directory,
 * reproducible and delta-friendly: entries in byte order of their paths, owner root, one fixed mtime, and
 * each inode number derived from the path. GNU cpio's `--reproducible` renumbers inodes sequentially,
 * so one added file changes the header of every later entry, which no delta tool (ours, zsync or rsync)
 * can reuse; real image builders pin them the same way. Hard links are stored as separate files (the
 * kernel only links entries with nlink > 1).
 *
 *   header: "070701" then 13 fields of 8 hex digits: ino mode uid gid nlink mtime filesize devmajor
 *   devminor rdevmajor rdevminor namesize check; name + NUL padded to 4; data padded to 4;
 *   last entry "TRAILER!!!".
 */

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function pad4(n: number): Buffer {
  return Buffer.alloc((4 - (n % 4)) % 4);
}

function entry(name: string, mode: number, nlink: number, mtime: number, data: Buffer): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const ino = name === 'TRAILER!!!' ? 0 : createHash('sha256').update(name).digest().readUInt32BE(0) | 1;
  const header =
    '070701' +
    [ino, mode, 0, 0, nlink, mtime, data.length, 0, 0, 0, 0, nameBytes.length, 0].map(hex8).join('');
  const head = Buffer.from(header, 'ascii');
  return [head, nameBytes, pad4(head.length + nameBytes.length), data, pad4(data.length)];
}

/** Every path under `root` with its lstat, in no particular order. */
async function walk(root: string, rel: string, out: [string, Stats][]): Promise<void> {
  for (const name of await readdir(join(root, rel))) {
    const path = rel === '' ? name : `${rel}/${name}`;
    const st = await lstat(join(root, path));
    out.push([path, st]);
    if (st.isDirectory()) await walk(root, path, out);
  }
}

/** The archive bytes of everything under `root` (the root itself is not an entry). */
export async function newcArchive(root: string, mtime = 1_763_856_000): Promise<Buffer> {
  const entries: [string, Stats][] = [];
  await walk(root, '', entries);
  entries.sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const parts: Buffer[] = [];
  for (const [path, st] of entries) {
    const full = join(root, path);
    const perm = st.mode & 0o7777;
    const type = st.mode & S_IFMT;
    if (type === S_IFDIR) parts.push(...entry(path, S_IFDIR | perm, 2, mtime, Buffer.alloc(0)));
    else if (type === S_IFLNK)
      parts.push(...entry(path, S_IFLNK | 0o777, 1, mtime, Buffer.from(await readlink(full))));
    else if (type === S_IFREG) parts.push(...entry(path, S_IFREG | perm, 1, mtime, await readFile(full)));
    // dpkg -x creates no device nodes, FIFOs or sockets; anything else is skipped.
  }
  parts.push(...entry('TRAILER!!!', 0, 1, 0, Buffer.alloc(0)));
  return Buffer.concat(parts);
}
