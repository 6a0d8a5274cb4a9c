import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * One vitest configuration for the whole monorepo. Workspace packages are resolved through their
 * `source` export condition, so tests run against TypeScript sources without a build step.
 *
 * Projects: `unit` (`*.test.ts`, pure and fast), `integration` (`*.integration.test.ts`: real
 * PostgreSQL, Redis, sockets, network namespaces and third-party clients), `e2e` (`tests/e2e`:
 * Playwright in Debian's chromium against a running system).
 */
// Node-style conditions only: the bundler-only `module` condition would send Node's loader to ESM builds
// with extensionless imports (e.g. @opentelemetry/api under prom-client) that only bundlers can load.
const nodeConditions = ['source', ...defaultServerConditions.filter((c) => c !== 'module')];
const shared = {
  resolve: { conditions: nodeConditions },
  ssr: { resolve: { conditions: nodeConditions, externalConditions: ['source'] } },
};

const exclude = ['**/node_modules/**', '**/dist/**', '**/.next/**'];

export default defineConfig({
  test: {
    projects: [
      {
        ...shared,
        test: {
          name: 'unit',
          include: ['packages/**/src/**/*.test.ts', 'apps/**/src/**/*.test.ts', 'tests/unit/**/*.test.ts'],
          exclude: [...exclude, '**/*.integration.test.ts'],
          environment: 'node',
        },
      },
      {
        ...shared,
        test: {
          name: 'integration',
          include: ['**/*.integration.test.ts'],
          exclude,
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        ...shared,
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.e2e.test.ts'],
          exclude,
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
