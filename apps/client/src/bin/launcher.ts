#!/usr/bin/env node
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDirOf, codeCacheEnabled, compileBundle } from '../code-cache.js';

/**
 * The entry of the single-file client (`dist/bootpt-client.mjs`, built by
 * `scripts/build-node-entry.mjs --code-cache`): the whole client (`bin/bootpt-client.ts` bundled as
 * CommonJS) is embedded here as a string and compiled with the V8 code cache a previous run left in the
 * client's cache directory (`code-cache.ts`); at exit, if there was none that fit, it leaves one.
 */

declare const BOOTPT_BUNDLE_SOURCE: string;
declare const BOOTPT_BUNDLE_ID: string;

const filename = fileURLToPath(import.meta.url);
const argv = process.argv.slice(2);
const cacheDir = codeCacheEnabled(process.env) ? cacheDirOf(argv, process.env) : null;
const bundle = compileBundle(BOOTPT_BUNDLE_SOURCE, filename, BOOTPT_BUNDLE_ID, cacheDir);
// Saved after a boot that ran (exit 0, not --help), so the cache holds the whole boot path's bytecode.
if (bundle.cache !== 'used' && bundle.cache !== 'off' && !argv.some((a) => a === '--help' || a === '-h')) {
  process.once('exit', (code) => {
    if (code === 0) bundle.save();
  });
}
const module = { exports: {} };
bundle.run(module.exports, createRequire(import.meta.url), module, filename, dirname(filename));
