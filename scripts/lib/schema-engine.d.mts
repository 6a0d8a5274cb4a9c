// Types for schema-engine.mjs (imported by TypeScript tests). Engine inputs and outputs are the
// `@prisma/schema-engine-wasm` types.
import type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm';

export interface SchemaFile {
  path: string;
  content: string;
}

type EngineCommand = Exclude<keyof SchemaEngine, 'free' | typeof Symbol.dispose | 'debugPanic'>;

export interface OpenSchemaEngine {
  run<C extends EngineCommand>(
    command: C,
    input: Parameters<SchemaEngine[C]>[0],
  ): ReturnType<SchemaEngine[C]>;
  close(): Promise<void>;
}

export declare const PINNED: Record<string, string>;
export declare const LOCKFILE_NAME: 'migration_lock.toml';
export declare const NO_FILTER: { externalTables: string[]; externalEnums: string[] };
export declare class SchemaEngineError extends Error {
  code: string | undefined;
}
export declare function assertPinnedVersions(): void;
export declare function lastEnginePanic(): string | undefined;
export declare function lockfileContent(provider: string): string;
export declare function openSchemaEngine(options: {
  databaseUrl: string;
  schemaFiles: SchemaFile[];
  debug?: boolean;
}): Promise<OpenSchemaEngine>;
export declare function readSchemaFiles(schemaPath: string): Promise<SchemaFile[]>;
export declare function readMigrationsList(
  migrationsDir: string,
  shadowDbInitScript?: string,
): Promise<MigrationList>;
export declare function diffDatabaseToSchema(databaseUrl: string, schemaFiles: SchemaFile[]): Promise<string>;
export declare function isEmptyScript(script: string | null | undefined): boolean;
