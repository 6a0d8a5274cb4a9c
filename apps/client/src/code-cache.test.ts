import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cacheDirOf,
  codeCacheEnabled,
  codeCachePath,
  DEFAULT_CACHE_DIR,
  readCodeCache,
} from './code-cache.js';

// A bundle-shaped source: a CommonJS function expression whose body defines and calls functions (so the
// code cache written after a run holds more than the top level).
const SOURCE = `(function (exports, require, module) {
  function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
  module.exports.value = fib(15);
})`;

const MODULE = join(import.meta.dirname, 'code-cache.ts');
const CHILD = `
const { compileBundle } = await import(process.env.MODULE);
const [source, id, dir] = JSON.parse(process.env.ARGS);
const bundle = compileBundle(source, 'bundle.js', id, dir);
const module = { exports: {} };
bundle.run(module.exports, undefined, module);
process.stdout.write(JSON.stringify({ cache: bundle.cache, value: module.exports.value, saved: bundle.save() }));
`;

/**
 * Compiles and runs `source` as the launcher does, in a new Node process: V8 keeps compiled scripts in
 * memory per process, and a hit there would never look at the code cache (a real start is a new process).
 */
function run(
  source: string,
  id: string,
  dir: string | null,
): { cache: string; value: unknown; saved: boolean } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    env: { ...process.env, MODULE, ARGS: JSON.stringify([source, id, dir]) },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as { cache: string; value: unknown; saved: boolean };
}

describe('client code cache', { timeout: 60_000 }, () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bpt-code-cache-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the cache directory the way the config does (flag > env > default)', () => {
    expect(cacheDirOf([], {})).toBe(DEFAULT_CACHE_DIR);
    expect(cacheDirOf([], { BOOTPT_CLIENT_CACHE_DIR: '/e' })).toBe('/e');
    expect(cacheDirOf(['--mac', 'x', '--cache-dir', '/a'], { BOOTPT_CLIENT_CACHE_DIR: '/e' })).toBe('/a');
    expect(cacheDirOf(['--cache-dir=/a', '--cache-dir', '/b'], {})).toBe('/b');
    expect(cacheDirOf(['--cache-dir'], { BOOTPT_CLIENT_CACHE_DIR: '' })).toBe(DEFAULT_CACHE_DIR);
    expect(codeCacheEnabled({})).toBe(true);
    expect(codeCacheEnabled({ BOOTPT_CLIENT_CODE_CACHE: 'off' })).toBe(false);
    expect(codeCacheEnabled({ BOOTPT_CLIENT_CODE_CACHE: '0' })).toBe(false);
  });

  it('writes a cache after the first run and compiles from it on the next', async () => {
    const first = run(SOURCE, 'a1', dir);
    expect(first).toEqual({ cache: 'none', value: 610, saved: true });
    expect(readCodeCache(codeCachePath(dir, 'a1'))).toBeDefined();
    const second = run(SOURCE, 'a1', dir);
    expect(second).toEqual({ cache: 'used', value: 610, saved: false });
  });

  it('writes nothing when the cache directory does not exist (e.g. --help on a fresh machine)', async () => {
    const missing = join(dir, 'not-made');
    expect(run(SOURCE, 'a1', missing)).toEqual({ cache: 'none', value: 610, saved: false });
    expect(await readdir(dir)).toEqual([]);
    expect(run(SOURCE, 'a1', null).cache).toBe('off');
  });

  it('ignores a stale cache: another build never reads it, and the new one replaces it', async () => {
    run(SOURCE, 'old-build', dir);
    const changed = SOURCE.replace('fib(15)', 'fib(16)');
    expect(run(changed, 'new-build', dir)).toEqual({ cache: 'none', value: 987, saved: true });
    // Only the current build's file is kept.
    expect(await readdir(join(dir, 'code'))).toEqual([codeCachePath(dir, 'new-build').split('/').pop()]);
  });

  it('ignores a damaged cache file (truncated, flipped bit, empty) and writes a good one', async () => {
    run(SOURCE, 'a1', dir);
    const path = codeCachePath(dir, 'a1');
    const good = await readFile(path);
    const flipped = Buffer.from(good);
    flipped[flipped.length >> 1]! ^= 0x04;
    for (const bad of [good.subarray(0, good.length - 100), flipped, Buffer.alloc(0)]) {
      await writeFile(path, bad);
      expect(readCodeCache(path)).toBeUndefined();
      expect(run(SOURCE, 'a1', dir)).toEqual({ cache: 'none', value: 610, saved: true });
      expect(await readFile(path)).not.toEqual(bad);
      expect(run(SOURCE, 'a1', dir).cache).toBe('used');
    }
  });

  it('lets V8 refuse bytecode made for another source (same name, whole file) and replaces it', async () => {
    // A cache file for a different source under this build's name: the header is right, V8's own check
    // (source length) refuses it, and the run compiles from source and then saves a fitting one.
    run(SOURCE.replace('fib(15)', 'fib(15) + 1000000'), 'x', dir);
    await mkdir(join(dir, 'code'), { recursive: true });
    const other = await readFile(codeCachePath(dir, 'x'));
    await writeFile(codeCachePath(dir, 'a1'), other);
    expect(run(SOURCE, 'a1', dir)).toEqual({ cache: 'refused', value: 610, saved: true });
    expect(run(SOURCE, 'a1', dir).cache).toBe('used');
  });
});
