// Bundles a Node entry point of a workspace (e.g. the web app's worker) with esbuild: the workspace's
// own TypeScript (including the generated Prisma client) is bundled; npm dependencies stay external.
// With --standalone everything is bundled (npm dependencies too, workspace packages from their TypeScript
// source): one file that needs nothing but `node`, e.g. the boot client copied into an initramfs, which also
// starts faster than resolving and loading a tree of ES modules.
// With --launcher FILE (implies --standalone) the entry is bundled as CommonJS and embedded as a string in
// FILE's bundle, which compiles it with a V8 code cache (apps/client/src/bin/launcher.ts): BOOTPT_BUNDLE_SOURCE
// is the entry's code (a CommonJS function expression) and BOOTPT_BUNDLE_ID the first 32 hex digits of its
// SHA-256, so a code cache made for another build is never used.
// With --sea the entry (which registers its main with v8.startupSnapshot.setDeserializeMainFunction, e.g.
// apps/client/src/bin/snapshot.ts) is bundled as CommonJS, run by Node's snapshot builder, and OUT becomes
// a Node single executable application: a copy of this `node` with the snapshot injected (postject), so
// every start deserializes the loaded program instead of loading it.
// Usage (from the workspace directory):
//   node ../../scripts/build-node-entry.mjs SRC OUT [--standalone] [--launcher FILE | --sea]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

const args = process.argv.slice(2);
const at = args.indexOf('--launcher');
const launcher = at >= 0 ? args[at + 1] : undefined;
if (at >= 0) args.splice(at, 2);
const sea = args.includes('--sea');
const standalone = args.includes('--standalone') || launcher !== undefined || sea;
const [entry, outfile, ...rest] = args.filter((a) => a !== '--standalone' && a !== '--sea');
if (!entry || !outfile || rest.length > 0 || (at >= 0 && !launcher) || (sea && launcher)) {
  console.error('usage: build-node-entry.mjs SRC OUT [--standalone] [--launcher FILE | --sea]');
  process.exit(2);
}
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  ...(standalone ? { conditions: ['source'] } : { packages: 'external' }),
  logLevel: 'warning',
};
/**
 * The entry bundled as one CommonJS script. import() becomes require() in a promise: neither a vm.Script
 * nor the snapshot builder has a module loader for dynamic imports. Whitespace and syntax are minified
 * (1.13 MB -> 0.82 MB: less to read and scan at every start; with full minification, 0.63 MB, loading the
 * file measured 23 -> 11 ms on a busy machine), identifiers are not (names in stack traces stay).
 */
async function commonJsBundle(plugins = []) {
  const body = await build({
    ...common,
    entryPoints: [entry],
    format: 'cjs',
    write: false,
    supported: { 'dynamic-import': false },
    minifyWhitespace: true,
    minifySyntax: true,
    plugins,
  });
  return body.outputFiles[0].text.replace(/^#!.*\n/, '');
}

/**
 * For a snapshot: `node:worker_threads` (imported at top level by the client's chunk checker and delta
 * decoder, and by pino's thread-stream) becomes a stand-in that loads the real module at first use, i.e.
 * after deserialization. On Node 20 a worker started by a process whose snapshot loaded the module dies
 * at once ("undefined is not an integer typed array" in process.cwd: the module's cwd counter, a
 * SharedArrayBuffer made at load, does not survive the snapshot). `isMainThread` is true: a snapshot's
 * main function only runs on the main thread; workers run their own code, not this bundle.
 */
const WORKER_THREADS_NAMES = [
  'BroadcastChannel',
  'MessageChannel',
  'MessagePort',
  'SHARE_ENV',
  'getEnvironmentData',
  'markAsUntransferable',
  'moveMessagePortToContext',
  'parentPort',
  'receiveMessageOnPort',
  'resourceLimits',
  'setEnvironmentData',
  'threadId',
  'workerData',
];
const lazyWorkerThreads = {
  name: 'lazy-worker-threads',
  setup(b) {
    b.onResolve({ filter: /^(node:)?worker_threads$/ }, (a) =>
      a.namespace === 'lazy-worker-threads'
        ? undefined
        : { path: 'worker_threads', namespace: 'lazy-worker-threads' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-worker-threads' }, () => ({
      loader: 'js',
      contents: `let real;
const load = () => (real ??= require('node:worker_threads'));
exports.isMainThread = true;
exports.Worker = class Worker {
  constructor(...args) {
    return new (load().Worker)(...args);
  }
};
for (const name of ${JSON.stringify(WORKER_THREADS_NAMES)})
  Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });
`,
    }));
  },
};

/** The fuse postject flips in the node binary so that it looks for the injected blob (Node's docs). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * OUT = this node + the SEA blob of `code` with a startup snapshot (`useSnapshot`: the blob holds the
 * heap after the builder ran `code`, not the code). Written under a temporary name and renamed, so a
 * reader never sees a half-injected executable.
 */
async function buildSea(code) {
  const { inject } = await import('postject');
  const work = mkdtempSync(join(tmpdir(), 'bootpt-sea-'));
  try {
    writeFileSync(join(work, 'main.cjs'), code);
    const config = {
      main: join(work, 'main.cjs'),
      output: join(work, 'sea.blob'),
      useSnapshot: true,
      disableExperimentalSEAWarning: true,
    };
    writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config));
    // The builder warns about every built-in "not yet fully verified" in snapshots (dgram, perf_hooks,
    // worker_threads, module): shown only if it fails; the client's tests cover what it runs.
    const made = spawnSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], {
      cwd: work,
      encoding: 'utf8',
    });
    if (made.status !== 0) throw new Error(`snapshot build failed (${made.status}):\n${made.stderr}`);
    const tmp = join(dirname(outfile), `.${process.pid}.sea.tmp`);
    copyFileSync(process.execPath, tmp);
    try {
      await inject(tmp, 'NODE_SEA_BLOB', readFileSync(config.output), { sentinelFuse: SEA_FUSE });
      chmodSync(tmp, 0o755);
      renameSync(tmp, outfile);
    } finally {
      rmSync(tmp, { force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (sea) {
  await buildSea(await commonJsBundle([lazyWorkerThreads]));
} else if (launcher) {
  const code = await commonJsBundle();
  const source = `(function (exports, require, module, __filename, __dirname) {${code}\n})`;
  await build({
    ...common,
    entryPoints: [launcher],
    outfile,
    format: 'esm',
    define: {
      BOOTPT_BUNDLE_SOURCE: JSON.stringify(source),
      BOOTPT_BUNDLE_ID: JSON.stringify(createHash('sha256').update(source).digest('hex').slice(0, 32)),
    },
  });
} else {
  await build({
    ...common,
    entryPoints: [entry],
    outfile,
    format: 'esm',
    sourcemap: true,
    banner: {
      js: "import { createRequire as __bootptCreateRequire } from 'node:module'; const require = __bootptCreateRequire(import.meta.url);",
    },
  });
}
