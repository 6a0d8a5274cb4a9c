// Bundles a Node entry point of a workspace (e.g. the web app's worker) with esbuild: the workspace's
// own TypeScript (including the generated Prisma client) is bundled; npm dependencies stay external.
// Usage (from the workspace directory): node ../../scripts/build-node-entry.mjs SRC OUT
import { build } from 'esbuild';

const [entry, outfile] = process.argv.slice(2);
if (!entry || !outfile) {
  console.error('usage: build-node-entry.mjs SRC OUT');
  process.exit(2);
}
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __bootptCreateRequire } from 'node:module'; const require = __bootptCreateRequire(import.meta.url);",
  },
});
