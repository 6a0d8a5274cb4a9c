import { realpathSync } from 'node:fs';
import { sep } from 'node:path';
import { TFTP_ERROR_CODES } from '@bootpt/protocol/tftp/index';
import { FdSnapshot, NotRegularFileError } from '../store/file-snapshot.js';

/**
 * The TFTP root as a jail (PROTOCOLS.md §3.10). A requested name is refused before touching the file
 * system when it is absolute, contains a backslash, a control character, or a `.`/`..` component; then the
 * path is resolved with every symlink and must still lie under the (resolved) root; then only a regular
 * file is opened, once (see `FdSnapshot`).
 *
 * Error codes: 1 (file not found) only for a name that is well-formed, inside the root and absent;
 * 2 (access violation) for everything refused by policy or permissions.
 */

export type JailResult =
  | { readonly ok: true; readonly snapshot: FdSnapshot; readonly relative: string }
  | { readonly ok: false; readonly code: number; readonly message: string; readonly reason: JailRefusal };

export type JailRefusal =
  | 'not_found'
  | 'absolute'
  | 'backslash'
  | 'control_char'
  | 'dot_component'
  | 'outside_root'
  | 'not_regular'
  | 'permission'
  | 'too_long';

export interface JailOptions {
  /** Windows boot programs send `\boot\x64\…`: translate backslashes to slashes instead of refusing. */
  readonly translateBackslashes?: boolean;
  /** Treat a leading `/` as relative to the root (many PXE configs send `/pxelinux.0`) instead of refusing. */
  readonly stripLeadingSlash?: boolean;
}

const MAX_NAME = 255;

function refuse(reason: JailRefusal, message: string): JailResult {
  const code = reason === 'not_found' ? TFTP_ERROR_CODES.FILE_NOT_FOUND : TFTP_ERROR_CODES.ACCESS_VIOLATION;
  return { ok: false, code, message, reason };
}

/** Checks a requested name without touching the file system; returns the relative path or a refusal. */
export function checkName(filename: string, options: JailOptions = {}): JailResult | string {
  let name = filename;
  if (name.length === 0) return refuse('not_found', 'empty file name');
  if (name.length > MAX_NAME) return refuse('too_long', 'file name too long');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return refuse('control_char', 'control character in file name');
  if (name.includes('\\')) {
    if (!options.translateBackslashes) return refuse('backslash', 'backslash in file name');
    name = name.replace(/\\/g, '/');
  }
  if (name.startsWith('/')) {
    if (!options.stripLeadingSlash) return refuse('absolute', 'absolute path');
    name = name.replace(/^\/+/, '');
  }
  const parts = name.split('/').filter((p) => p !== '');
  if (parts.length === 0) return refuse('not_found', 'empty file name');
  if (parts.some((p) => p === '.' || p === '..')) return refuse('dot_component', 'path component . or ..');
  return parts.join('/');
}

export class TftpJail {
  readonly root: string;

  constructor(
    root: string,
    private readonly options: JailOptions = {},
  ) {
    this.root = realpathSync(root);
  }

  open(filename: string): JailResult {
    const checked = checkName(filename, this.options);
    if (typeof checked !== 'string') return checked;
    const candidate = `${this.root}${sep}${checked}`;
    let real: string;
    try {
      real = realpathSync(candidate);
    } catch (err) {
      return fsRefusal(err);
    }
    if (!real.startsWith(this.root + sep)) return refuse('outside_root', 'outside the TFTP root');
    try {
      return { ok: true, snapshot: FdSnapshot.open(real), relative: checked };
    } catch (err) {
      return fsRefusal(err);
    }
  }
}

function fsRefusal(err: unknown): JailResult {
  if (err instanceof NotRegularFileError) return refuse('not_regular', 'not a regular file');
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return refuse('not_found', 'file not found');
  if (code === 'ELOOP') return refuse('outside_root', 'symbolic link refused');
  if (code === 'EISDIR') return refuse('not_regular', 'not a regular file');
  return refuse('permission', 'access denied');
}
