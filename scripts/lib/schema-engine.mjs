// Prisma's official WebAssembly schema engine (@prisma/schema-engine-wasm), driven over @prisma/adapter-pg,
// for authoring migrations and diffing schemas offline. Prisma 7's CLI only runs migrations through a
// native engine binary that is downloaded at run time; the WASM build of the same engine ships on npm.
//
// This leans on internals that are not a public API, so the versions are pinned (PINNED below, checked
// at load) and tests/db covers the whole path. Workarounds, each for a problem met with these versions:
//  1. @prisma/migrate's SchemaEngineWasm loads the .wasm from `@prisma/internals/build/`, which exists only
//     inside the bundled `prisma` CLI, so it fails with ENOENT from node_modules. We instantiate the module
//     from @prisma/schema-engine-wasm ourselves, the way that loader does.
//  2. adapter-pg rejects Postgres's internal `"char"` type (OID 18) that the engine's catalog queries read
//     (pg_class.relkind, pg_constraint.contype, …), and the engine wants those columns typed `Character`
//     (it panics on `Text` when a database has CHECK constraints). Our pg Client reports them as `text`
//     so adapter-pg accepts them, and our adapter wrapper types them `Character` again.
//  3. adapter-pg's `connectToShadowDb()` spreads `{ connectionString, database }`, and pg lets the
//     connection string win, so the "shadow" adapter talks to the main database; and its dispose drops the
//     shadow database before closing the pool. We create the shadow database, hand the engine an adapter
//     for its own URL, and drop it after that pool has closed.
//  4. adapter-pg's `executeScript` splits scripts on every `;`, which breaks statements that contain one
//     (function bodies, DO blocks, string literals). We send scripts whole (pg's simple query protocol
//     runs multi-statement scripts natively).
//  5. The engine leaves a 60 s timer pending after its work is done, which keeps Node alive for a
//     minute. Its timers are unref'd; a keep-alive interval holds the process open while a command runs.
//  6. A Rust panic calls `globalThis.PRISMA_WASM_PANIC_REGISTRY.set_message` (installed by Prisma's
//     internals, so missing here: it crashed) and then surfaces as an uncaught exception while the
//     command's promise never settles. We install the registry and reject the commands in flight.
//  7. The engine reports adapter failures as "External error id#N"; a failure to create the shadow
//     database is remembered and reported in words.
//  (The engine's shadow-database quirk in the migrate-dev flow is handled in author-migration.mjs.)
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  DriverAdapterError,
} from '@prisma/driver-adapter-utils';
import { databaseNameOf, withDatabase } from './pg-url.mjs';

/** The versions these workarounds were written and tested against. */
export const PINNED = {
  '@prisma/adapter-pg': '7.10.0',
  '@prisma/driver-adapter-utils': '7.10.0',
  '@prisma/schema-engine-wasm': '7.10.0-4.0edf323efd1d98336f3f0a68684b56f689b900d3',
};

const { WebAssembly } = globalThis;
const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;
const NO_FILTER = { externalTables: [], externalEnums: [] };

function packageDir(specifier) {
  return dirname(fileURLToPath(import.meta.resolve(specifier)));
}

function installedVersion(name, entry) {
  let dir = packageDir(entry);
  while (basename(dir) !== basename(name) && dir !== dirname(dir)) dir = dirname(dir);
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
}

/** Throws when an installed package differs from the version the workarounds were verified with. */
export function assertPinnedVersions() {
  const entries = {
    '@prisma/adapter-pg': '@prisma/adapter-pg',
    '@prisma/driver-adapter-utils': '@prisma/driver-adapter-utils',
    '@prisma/schema-engine-wasm': '@prisma/schema-engine-wasm/schema_engine_bg',
  };
  const mismatched = Object.entries(PINNED)
    .map(([name, want]) => [name, want, installedVersion(name, entries[name])])
    .filter(([, want, got]) => want !== got);
  if (mismatched.length > 0) {
    const list = mismatched.map(([n, want, got]) => `${n} ${got} (expected ${want})`).join(', ');
    throw new Error(
      `schema engine workarounds were verified with other versions: ${list}. Re-run tests/db and update PINNED in scripts/lib/schema-engine.mjs.`,
    );
  }
}

let engineClass;
let lastPanic;
/** Rejecters of the commands in flight: a panic never settles their promises, so it rejects them. */
const inFlight = new Set();

/** The message of the engine's last Rust panic, if any. */
export const lastEnginePanic = () => lastPanic;

/** Where the engine's Rust panic hook leaves its message (Prisma's internals install the same global). */
function installPanicRegistry() {
  globalThis.PRISMA_WASM_PANIC_REGISTRY ??= {
    set_message(message) {
      lastPanic = message;
      for (const reject of inFlight) reject(new Error(`the engine panicked: ${message}`));
    },
  };
}

/** Instantiates the WASM module once per process and returns its `SchemaEngine` class. */
async function loadSchemaEngineClass() {
  if (engineClass) return engineClass;
  assertPinnedVersions();
  installPanicRegistry();
  const glue = await import('@prisma/schema-engine-wasm/schema_engine_bg');
  const wasmPath = join(packageDir('@prisma/schema-engine-wasm/schema_engine_bg'), 'schema_engine_bg.wasm');
  const module = new WebAssembly.Module(await readFile(wasmPath));
  const imports = { ...glue };
  for (const name of Object.keys(glue).filter((n) => n.startsWith('__wbg_setTimeout_'))) {
    imports[name] = (...args) => {
      const timer = glue[name](...args);
      timer?.unref?.();
      return timer;
    };
  }
  const instance = new WebAssembly.Instance(module, { './schema_engine_bg.js': imports });
  glue.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  engineClass = glue.SchemaEngine;
  return engineClass;
}

/** Result rows of queries that returned `"char"` columns → the indexes of those columns. */
const charColumnsByRows = new WeakMap();

function reportCharAsText(result) {
  for (const r of Array.isArray(result) ? result : [result]) {
    const indexes = [];
    (r?.fields ?? []).forEach((field, i) => {
      if (field.dataTypeID !== PG_CHAR_OID) return;
      field.dataTypeID = PG_TEXT_OID;
      indexes.push(i);
    });
    if (indexes.length > 0 && Array.isArray(r.rows)) charColumnsByRows.set(r.rows, indexes);
  }
  return result;
}

/**
 * A pg Client that reports `"char"` result columns as `text`, so adapter-pg accepts them, and remembers
 * which columns they were (workaround 2, first half).
 */
class CharAsTextClient extends pg.Client {
  query(config, values, callback) {
    if (typeof config?.submit === 'function') return super.query(config, values, callback);
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    const result = super.query(config, values).then(reportCharAsText);
    if (!callback) return result;
    result.then(
      (res) => callback(null, res),
      (err) => callback(err),
    );
    return undefined;
  }
}

/**
 * The engine reads `"char"` columns as Rust chars and panics on text, so the remembered columns are
 * typed `Character` again (workaround 2, second half). adapter-pg passes pg's row array through as is.
 */
function withCharColumns(queryable) {
  return new Proxy(queryable, {
    get(target, prop) {
      if (prop === 'queryRaw') {
        return async (query) => {
          const result = await target.queryRaw(query);
          for (const i of charColumnsByRows.get(result.rows) ?? [])
            result.columnTypes[i] = ColumnTypeEnum.Character;
          return result;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function toAdapterError(error) {
  if (typeof error?.code === 'string' && typeof error?.severity === 'string') {
    return new DriverAdapterError({
      kind: 'postgres',
      code: error.code,
      severity: error.severity,
      message: error.message,
      detail: error.detail,
      column: error.column,
      hint: error.hint,
    });
  }
  return error;
}

/**
 * An adapter-pg driver adapter over its own pool. Disposing it (idempotent) ends the pool, then runs
 * `afterClose`. Open adapters are tracked in `registry` so the engine's owner can close what the engine
 * leaves open (it does not dispose the main connection when freed).
 */
async function connectAdapter(connectionString, registry, afterClose) {
  const pool = new pg.Pool({ connectionString, Client: CharAsTextClient, max: 4, allowExitOnIdle: true });
  const adapter = await new PrismaPg(pool, { disposeExternalPool: true }).connect();
  const executeScript = async (script) => {
    try {
      await pool.query(script);
    } catch (error) {
      throw toAdapterError(error);
    }
  };
  let disposed;
  const dispose = () => {
    disposed ??= (async () => {
      registry.delete(dispose);
      await adapter.dispose();
      await afterClose?.();
    })();
    return disposed;
  };
  registry.add(dispose);
  const startTransaction = async (isolationLevel) =>
    withCharColumns(await adapter.startTransaction(isolationLevel));
  const overrides = { executeScript, dispose, startTransaction };
  return withCharColumns(
    new Proxy(adapter, {
      get(target, prop) {
        if (Object.hasOwn(overrides, prop)) return overrides[prop];
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }),
  );
}

const quoteIdent = (name) => `"${name.replaceAll('"', '""')}"`;

/**
 * The engine's adapter factory for `databaseUrl`. Shadow databases are created next to it
 * (`<db>_shadow_<random>`, so the user needs CREATEDB) and dropped when the engine disposes them.
 */
export function migrationAdapterFactory(databaseUrl) {
  const open = new Set();
  const factory = {
    /** The last shadow-database failure, for messages. */
    lastError: undefined,
    /** Disposes every adapter still open (dropping any shadow database left behind). */
    closeAll: () => Promise.all([...open].map((dispose) => dispose())),
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: () => connectAdapter(databaseUrl, open),
    async connectToShadowDb() {
      const name = `${databaseNameOf(databaseUrl).slice(0, 40)}_shadow_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: databaseUrl });
      try {
        await admin.connect();
        await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
      } catch (error) {
        // The engine reports adapter errors only as "External error id#N": keep the cause for the message.
        factory.lastError = `cannot create the shadow database ${name} (the DATABASE_URL user needs CREATEDB): ${error.message}`;
        throw error;
      } finally {
        await admin.end().catch(() => undefined);
      }
      return connectAdapter(withDatabase(databaseUrl, name), open, async () => {
        const dropper = new pg.Client({ connectionString: databaseUrl });
        await dropper.connect();
        try {
          await dropper.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
        } finally {
          await dropper.end();
        }
      });
    },
  };
  return factory;
}

/** A failure reported by the engine: `code` is Prisma's error code (P3006, …) when it has one. */
export class SchemaEngineError extends Error {
  constructor(command, error) {
    const message = String(error?.message ?? error).trim();
    super(`schema engine ${command} failed${error?.code ? ` (${error.code})` : ''}: ${message}`);
    this.name = 'SchemaEngineError';
    this.code = error?.code;
  }
}

/**
 * Opens the WASM schema engine against `databaseUrl` (which must exist). `schemaFiles` are
 * `{ path, content }` entries of the Prisma schema. Returns `{ run(command, input), close() }`;
 * `close()` frees the engine and closes its connections.
 */
export async function openSchemaEngine({ databaseUrl, schemaFiles, debug = false }) {
  if (!schemaFiles?.length) throw new Error('openSchemaEngine needs the Prisma schema (schemaFiles)');
  const SchemaEngine = await loadSchemaEngineClass();
  const log = debug ? (line) => process.stderr.write(`${line}\n`) : () => undefined;
  const factory = migrationAdapterFactory(databaseUrl);
  const engine = await SchemaEngine.new(
    { datamodels: schemaFiles.map((f) => [f.path, f.content]) },
    log,
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  let open = true;
  return {
    async run(command, input) {
      factory.lastError = undefined;
      const keepAlive = setInterval(() => undefined, 60_000);
      let rejectOnPanic;
      const panicked = new Promise((_, reject) => {
        rejectOnPanic = reject;
        inFlight.add(reject);
      });
      try {
        return await Promise.race([engine[command](input), panicked]);
      } catch (error) {
        if (error instanceof WebAssembly.RuntimeError && lastPanic) {
          throw new SchemaEngineError(command, { message: `the engine panicked: ${lastPanic}` });
        }
        if (factory.lastError && /External error/.test(String(error?.message))) {
          throw new SchemaEngineError(command, { message: factory.lastError });
        }
        throw new SchemaEngineError(command, error);
      } finally {
        inFlight.delete(rejectOnPanic);
        clearInterval(keepAlive);
      }
    },
    async close() {
      if (open) engine.free();
      open = false;
      await factory.closeAll();
    },
  };
}

export const LOCKFILE_NAME = 'migration_lock.toml';

/** The lock file `prisma migrate dev` writes (same bytes, so both tools leave it unchanged). */
export const lockfileContent = (provider) =>
  `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${provider}"\n`;

/** The migrations directory in the engine's `MigrationList` shape (what Prisma's CLI passes it). */
export async function readMigrationsList(migrationsDir, shadowDbInitScript = '') {
  const lockfile = {
    path: LOCKFILE_NAME,
    content: await readFile(join(migrationsDir, LOCKFILE_NAME), 'utf8').catch(() => null),
  };
  const entries = await readdir(migrationsDir, { withFileTypes: true }).catch(() => []);
  const migrationDirectories = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const content = await readFile(join(migrationsDir, entry.name, 'migration.sql'), 'utf8').then(
      (value) => ({ tag: 'ok', value }),
      (error) => ({ tag: 'error', value: error.message }),
    );
    migrationDirectories.push({ path: entry.name, migrationFile: { path: 'migration.sql', content } });
  }
  return { baseDir: migrationsDir, lockfile, shadowDbInitScript, migrationDirectories };
}

/** The Prisma schema as the engine's `SchemasContainer` files. */
export async function readSchemaFiles(schemaPath) {
  return [{ path: schemaPath, content: await readFile(schemaPath, 'utf8') }];
}

/**
 * The SQL that would turn the live database at `databaseUrl` into `schemaFiles` ('' when they match).
 * Used to prove migrations and schema have not drifted apart.
 */
export async function diffDatabaseToSchema(databaseUrl, schemaFiles) {
  const engine = await openSchemaEngine({ databaseUrl, schemaFiles });
  try {
    const { stdout } = await engine.run('diff', {
      from: { tag: 'schemaDatasource', files: schemaFiles, configDir: dirname(schemaFiles[0].path) },
      to: { tag: 'schemaDatamodel', files: schemaFiles },
      script: true,
      exitCode: null,
      filters: NO_FILTER,
    });
    return isEmptyScript(stdout) ? '' : stdout;
  } finally {
    await engine.close();
  }
}

/** The engine prints a comment when there is nothing to do; real scripts have statements. */
export function isEmptyScript(script) {
  const statements = (script ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('--'));
  return statements.length === 0;
}

export { NO_FILTER };
