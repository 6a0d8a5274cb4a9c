// Bundles a Node entry point of a workspace (e.g. the web app's worker) with esbuild: the workspace's
// own TypeScript (including the generated Prisma client) is bundled; npm dependencies stay external.
// With --standalone everything is bundled (npm dependencies too, workspace packages from their TypeScript
// source): one file that needs nothing but `node`, e.g. the boot client copied into an initramfs, which also
// starts faster than resolving and loading a tree of ES modules.
// Usage (from the workspace directory): node ../../scripts/build-node-entry.mjs SRC OUT [--standalone]
import { build } from 'esbuild';

const args = process.argv.slice(2);
const standalone = args.includes('--standalone');
const [entry, outfile] = args.filter((a) => a !== '--standalone');
if (!entry || !outfile) {
  console.error('usage: build-node-entry.mjs SRC OUT [--standalone]');
  process.exit(2);
}
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  ...(standalone ? { conditions: ['source'] } : { packages: 'external' }),
  sourcemap: true,
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __bootptCreateRequire } from 'node:module'; const require = __bootptCreateRequire(import.meta.url);",
  },
});
