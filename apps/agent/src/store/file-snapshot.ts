import { closeSync, constants, fstatSync, openSync, readvSync, readFileSync } from 'node:fs';

/**
 * One version of a file, pinned for the length of a transfer.
 *
 * The file is opened once and every block is read from that descriptor, so a file replaced while a
 * transfer runs (a new file renamed over the old name, the way the agent's content sync and most deploy
 * tools publish) never mixes two versions: the transfer keeps reading the old inode to its end, and the
 * next request opens the new one. `identity` (device, inode, size, mtime) tells versions apart, so group
 * transfers only share a stream between clients that asked for the same version.
 *
 * An in-place rewrite of the same inode cannot be detected this way; a read that comes up short (the file
 * was truncated under us) throws `SnapshotChangedError` and the transfer ends with an ERROR instead of
 * sending a mixture.
 */
export class SnapshotChangedError extends Error {
  constructor(path: string) {
    super(`file changed during transfer: ${path}`);
  }
}

export interface FileSnapshot {
  readonly path: string;
  readonly size: number;
  readonly identity: string;
  /** Fills `views` in order with the octets at `position` onwards (like readv(2)), all or throw. */
  readInto(views: readonly Uint8Array[], position: number): void;
  /** Drops one reference; the descriptor closes with the last. */
  release(): void;
  /** Adds a reference (a second transfer sharing this snapshot). */
  retain(): FileSnapshot;
}

export class FdSnapshot implements FileSnapshot {
  private refs = 1;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    readonly size: number,
    readonly identity: string,
  ) {}

  /**
   * Opens `path` read-only without following a final symlink and without blocking on FIFOs, and returns it
   * only if it is a regular file. Throws the `open`/`fstat` error (ENOENT, EACCES, ELOOP…) or
   * `NotRegularFileError`.
   */
  static open(path: string): FdSnapshot {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new NotRegularFileError(path);
      return new FdSnapshot(path, fd, st.size, `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  readInto(views: readonly Uint8Array[], position: number): void {
    let at = position;
    let index = 0;
    let pending: Uint8Array[] = views as Uint8Array[];
    let total = 0;
    for (const v of views) total += v.length;
    const end = position + total;
    while (at < end) {
      const n = readvSync(this.fd, pending, at);
      if (n <= 0) throw new SnapshotChangedError(this.path);
      at += n;
      if (at >= end) break;
      // Short read (rare): continue with the views not yet filled.
      let skip = n;
      const rest: Uint8Array[] = [];
      for (; index < pending.length && skip >= pending[index]!.length; index++)
        skip -= pending[index]!.length;
      if (index < pending.length) rest.push(pending[index]!.subarray(skip));
      for (let i = index + 1; i < pending.length; i++) rest.push(pending[i]!);
      pending = rest;
      index = 0;
    }
  }

  retain(): FdSnapshot {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) closeSync(this.fd);
  }
}

/** Device files, directories, FIFOs and sockets are never served. */
export class NotRegularFileError extends Error {
  constructor(path: string) {
    super(`not a regular file: ${path}`);
  }
}

/** A snapshot held in memory (netascii-converted files, tests). */
export class MemorySnapshot implements FileSnapshot {
  readonly size: number;
  constructor(
    readonly path: string,
    private readonly bytes: Uint8Array,
    readonly identity = `mem:${path}:${bytes.length}`,
  ) {
    this.size = bytes.length;
  }

  /** Reads a whole (small) file once; used where the served form differs from the stored one. */
  static fromFile(path: string, transform: (b: Uint8Array) => Uint8Array): MemorySnapshot {
    return new MemorySnapshot(path, transform(readFileSync(path)));
  }

  readInto(views: readonly Uint8Array[], position: number): void {
    let at = position;
    for (const v of views) {
      if (at + v.length > this.bytes.length) throw new SnapshotChangedError(this.path);
      v.set(this.bytes.subarray(at, at + v.length));
      at += v.length;
    }
  }

  retain(): MemorySnapshot {
    return this;
  }

  release(): void {}
}
