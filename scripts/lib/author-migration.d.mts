// Types for author-migration.mjs (imported by TypeScript tests).
export declare function slugifyMigrationName(name: string): string;
export declare function authorMigration(options: {
  databaseUrl: string | undefined;
  schemaPath: string;
  migrationsDir: string;
  name?: string;
  createOnly?: boolean;
  acceptDataLoss?: boolean;
  reset?: boolean;
  debug?: boolean;
  log?: (line: string) => void;
}): Promise<{ created: string | null; applied: string[] }>;
