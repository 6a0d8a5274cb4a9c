// Types for migrate.mjs (imported by TypeScript tests).
export declare const MIGRATIONS_TABLE: '_prisma_migrations';
export declare const PRISMA_MIGRATE_LOCK_ID: number;

export declare class MigrationError extends Error {}

export interface LocalMigration {
  name: string;
  path: string;
  sql: string;
  checksum: string;
}

export interface DeployResult {
  /** Migrations applied by this call, in order. */
  applied: string[];
  /** Whether the database was created by this call. */
  created: boolean;
  /** Recorded as applied in the database but missing from the directory. */
  unknown: string[];
}

export declare function checksumOf(sql: string): string;
export declare function listMigrations(migrationsDir: string): Promise<LocalMigration[]>;
export declare function needsOwnTransaction(sql: string): boolean;
export declare function ensureDatabase(databaseUrl: string): Promise<boolean>;
export declare function deployMigrations(
  databaseUrl: string | undefined,
  migrationsDir: string,
  options?: { log?: (line: string) => void; lockTimeoutMs?: number },
): Promise<DeployResult>;
