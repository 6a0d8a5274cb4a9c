// Bundles a Node entry point of a workspace (e.g. the web app's worker) with esbuild: the workspace's
// own TypeScript (including the generated Prisma client) is bundled; npm dependencies stay external.
// With --standalone everything is bundled (npm dependencies too, workspace packages from their TypeScript
// source): one file that needs nothing but `node`, e.g. the boot client copied into an initramfs, which also
// starts faster than resolving and loading a tree of ES modules.
// With --launcher FILE (implies --standalone) the entry is bundled as CommonJS and embedded as a string in
// FILE's bundle, which compiles it with a V8 code cache (apps/client/src/bin/launcher.ts): BOOTPT_BUNDLE_SOURCE
// is the entry's code (a CommonJS function expression) and BOOTPT_BUNDLE_ID the first 32 hex digits of its
// SHA-256, so a code cache made for another build is never used.
// Usage (from the workspace directory): node ../../scripts/build-node-entry.mjs SRC OUT [--standalone] [--launcher FILE]
import { createHash } from 'node:crypto';
import { build } from 'esbuild';

const args = process.argv.slice(2);
const at = args.indexOf('--launcher');
const launcher = at >= 0 ? args[at + 1] : undefined;
if (at >= 0) args.splice(at, 2);
const standalone = args.includes('--standalone') || launcher !== undefined;
const [entry, outfile] = args.filter((a) => a !== '--standalone');
if (!entry || !outfile || (at >= 0 && !launcher)) {
  console.error('usage: build-node-entry.mjs SRC OUT [--standalone] [--launcher FILE]');
  process.exit(2);
}
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  ...(standalone ? { conditions: ['source'] } : { packages: 'external' }),
  logLevel: 'warning',
};
if (launcher) {
  // import() becomes require() in a promise: a vm.Script has no module loader for dynamic imports.
  // Whitespace and syntax are minified (1.13 MB -> 0.82 MB: less to read and scan at every start; with
  // full minification, 0.63 MB, loading the file measured 23 -> 11 ms on a busy machine), identifiers
  // are not (names in stack traces stay).
  const body = await build({
    ...common,
    entryPoints: [entry],
    format: 'cjs',
    write: false,
    supported: { 'dynamic-import': false },
    minifyWhitespace: true,
    minifySyntax: true,
  });
  const code = body.outputFiles[0].text.replace(/^#!.*\n/, '');
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
