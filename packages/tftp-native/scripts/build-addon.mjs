#!/usr/bin/env node
// Builds the add-on (build/Release/tftp_native.node) with the node-gyp that ships with npm, against the
// local Node headers (npm's `nodedir`). Soft by design: on a machine without a C compiler, make or python3
// it prints why and exits 0, and the agent runs the pure-JS path (`tftp.nativeFastPath: auto`). Set
// BOOTPT_TFTP_NATIVE=required to make a failed build fail the command.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundled = join(
  dirname(process.execPath),
  '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
);
const gyp = [process.env.npm_config_node_gyp, bundled].find((p) => p && existsSync(p));
const required = process.env.BOOTPT_TFTP_NATIVE === 'required';

function giveUp(reason) {
  const message = `tftp-native: add-on not built (${reason}); the agent will use the pure-JS TFTP path`;
  if (required) {
    console.error(message);
    process.exit(1);
  }
  console.warn(message);
  process.exit(0);
}

if (!gyp) giveUp('node-gyp not found');
// The headers of the running Node (never a download): npm's nodedir, else <prefix>/include/node.
const prefix = join(dirname(process.execPath), '..');
const nodedir =
  process.env.npm_config_nodedir ??
  (existsSync(join(prefix, 'include/node/node_api.h')) ? prefix : undefined);
if (!nodedir) giveUp('no local Node headers (include/node/node_api.h)');
const r = spawnSync(process.execPath, [gyp, 'rebuild', '--loglevel=warn', `--nodedir=${nodedir}`], {
  cwd: here,
  stdio: 'inherit',
});
if (r.status !== 0) giveUp(`node-gyp exited with ${r.status ?? r.signal}`);
console.log('tftp-native: built build/Release/tftp_native.node');
