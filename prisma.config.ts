// The only Prisma configuration of the repository (CLI: generate, validate, format). Migrations are
// authored by scripts/migrate-dev.mjs and applied by scripts/db-deploy.mjs, which read the same paths.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  // `env('DATABASE_URL')` would throw when the variable is unset, even for `prisma generate`.
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
