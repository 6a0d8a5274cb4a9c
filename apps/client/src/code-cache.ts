import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';

/**
 * A V8 code cache for the single-file client (`dist/bootpt-client.mjs`, see `bin/launcher.ts`). Node 20
 * has no module compile cache, so every start parses and compiles the ~1 MB bundle again. Instead the
 * launcher compiles the bundled client as a `vm.Script` with the bytecode a previous run left in the
 * client's cache directory (`<cache-dir>/code/`), and when there was none (or V8 refused it) leaves one
 * at exit, after the boot: it then holds every function the boot ran, not only the top level.
 *
 * Only this module's checks stand between the file and V8, so a stale or damaged file must be refused
 * here: V8 checks its own version, flags and the source's length, not its text. The file name carries
 * the bundle's digest (made at build time) and the Node version, so another build never reads it; the
 * file starts with the SHA-256 of the bytecode after it, so a truncated or damaged file is ignored (and
 * replaced at exit). Nothing in it is trusted beyond being V8's compiled form of the very source it is
 * used with; it speeds up start-up and has no say over what is booted.
 *
 * This module must stay light (node built-ins only): it runs before the client is loaded.
 */

/** The client's cache directory as the config will see it (`--cache-dir` > env > default, see config.ts). */
export const DEFAULT_CACHE_DIR = '/var/cache/bootpt';
const CACHE_DIR_ENV = 'BOOTPT_CLIENT_CACHE_DIR';
/** `0` / `off` disables the code cache (A/B timing, read-only media). */
const SWITCH_ENV = 'BOOTPT_CLIENT_CODE_CACHE';

const DIGEST = 32;

/**
 * The cache directory named by `argv` / `env`, without the full config parse (which is in the bundle
 * this is about to load): the last `--cache-dir X` or `--cache-dir=X`, else the environment, else the
 * default. A wrong guess only means no cache (nothing is written to a directory the client did not make).
 */
export function cacheDirOf(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  let dir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--cache-dir' && i + 1 < argv.length) dir = argv[++i];
    else if (a.startsWith('--cache-dir=')) dir = a.slice('--cache-dir='.length);
  }
  const fromEnv = env[CACHE_DIR_ENV];
  return dir || (fromEnv === undefined || fromEnv === '' ? DEFAULT_CACHE_DIR : fromEnv);
}

export function codeCacheEnabled(env: NodeJS.ProcessEnv): boolean {
  const v = env[SWITCH_ENV]?.toLowerCase();
  return v !== '0' && v !== 'off' && v !== 'false' && v !== 'no';
}

/** The code cache file for bundle `id` under cache directory `cacheDir` on this Node. */
export function codeCachePath(cacheDir: string, id: string): string {
  return join(cacheDir, 'code', `${id}-node${process.version}-${process.arch}.v8`);
}

/** The bytecode in `path` if the file is whole (its SHA-256 header matches); undefined otherwise. */
export function readCodeCache(path: string): Buffer | undefined {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch {
    return undefined;
  }
  if (file.length <= DIGEST) return undefined;
  const data = file.subarray(DIGEST);
  const digest = createHash('sha256').update(data).digest();
  return digest.equals(file.subarray(0, DIGEST)) ? data : undefined;
}

/**
 * Writes `data` to `path` (temp name + rename, so a reader never sees half a file) and removes the other
 * code caches next to it (earlier builds or Node versions). Only when the cache directory exists.
 */
export function writeCodeCache(path: string, data: Buffer): boolean {
  const dir = join(path, '..');
  try {
    if (!statSync(join(dir, '..')).isDirectory()) return false;
    mkdirSync(dir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.concat([createHash('sha256').update(data).digest(), data]));
    renameSync(tmp, path);
    const keep = path.slice(dir.length + 1);
    for (const name of readdirSync(dir)) if (name !== keep) rmSync(join(dir, name), { force: true });
    return true;
  } catch {
    return false; // a read-only or full cache only costs start-up time
  }
}

export interface CompiledBundle {
  /** The bundle's top-level function (a CommonJS wrapper: exports, require, module, __filename, __dirname). */
  readonly run: (...args: unknown[]) => unknown;
  /** `used`: compiled from the cache file; `refused`: V8 refused it; `none`: no file, or a damaged one. */
  readonly cache: 'used' | 'refused' | 'none' | 'off';
  /** Leaves a code cache for the next start (once the bundle has run, so it holds what it compiled). */
  save(): boolean;
}

/**
 * Compiles `source` (a CommonJS function expression) with the code cache of bundle `id` when one fits.
 * V8's bytecode flushing is turned off first (for this short-lived process): otherwise the bytecode of
 * functions that ran early (module set-up, config) is dropped by the GCs of a boot before the cache is
 * written at exit, and the next start compiles them again (measured: a 344 KB cache, compile 48 ms,
 * against 604 KB and 5 ms with flushing off, under load). The flag is part of what V8 checks a cache
 * against, and every start sets it the same way.
 */
export function compileBundle(
  source: string,
  filename: string,
  id: string,
  cacheDir: string | null,
): CompiledBundle {
  setFlagsFromString('--no-flush-bytecode');
  const path = cacheDir === null ? null : codeCachePath(cacheDir, id);
  const cachedData = path ? readCodeCache(path) : undefined;
  const script = new Script(source, { filename, ...(cachedData ? { cachedData } : {}) });
  const cache = path === null ? 'off' : !cachedData ? 'none' : script.cachedDataRejected ? 'refused' : 'used';
  return {
    run: script.runInThisContext() as (...args: unknown[]) => unknown,
    cache,
    save: () => path !== null && cache !== 'used' && writeCodeCache(path, script.createCachedData()),
  };
}
