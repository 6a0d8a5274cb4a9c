import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { agentConfigSchema, crossFieldProblems, type AgentConfig } from './schema.js';

/**
 * Configuration = JSON file (optional) overlaid with `BOOTPT_AGENT_*` environment variables.
 *
 * | variable                      | config path                 |
 * |-------------------------------|-----------------------------|
 * | BOOTPT_AGENT_CONFIG           | (the JSON file to read)     |
 * | BOOTPT_AGENT_ID               | agentId                     |
 * | BOOTPT_AGENT_DATA_DIR         | dataDir                     |
 * | BOOTPT_AGENT_LOG_LEVEL        | log.level                   |
 * | BOOTPT_AGENT_METRICS_ENABLED  | metrics.enabled             |
 * | BOOTPT_AGENT_METRICS_HOST     | metrics.host                |
 * | BOOTPT_AGENT_METRICS_PORT     | metrics.port                |
 * | BOOTPT_AGENT_INTERFACES       | responder.interfaces (comma-separated) |
 * | BOOTPT_AGENT_LOOPBACK         | responder.loopback          |
 * | BOOTPT_AGENT_PORT             | responder.port              |
 * | BOOTPT_AGENT_CLIENT_PORT      | responder.clientPort        |
 * | BOOTPT_AGENT_HOP_LIMIT        | responder.hopLimit          |
 * | BOOTPT_AGENT_PXE_SERVER       | responder.pxeServer         |
 * | BOOTPT_AGENT_BACKEND_FILE     | backend = { kind: "file", path } |
 * | BOOTPT_AGENT_TURBO_KEYS       | responder.turbo.keys as `id:hex,id:hex` |
 * | BOOTPT_AGENT_CONTROL_PLANE_TOKEN | content.upstream.token (a `control-plane` upstream set in the file) |
 *
 * Every problem (unreadable file, bad JSON, bad variable, schema violations) is collected and
 * reported in one `ConfigError`, so an operator fixes them in one pass.
 */

type Kind = 'string' | 'int' | 'bool' | 'list' | 'keys';
interface EnvBinding {
  readonly name: string;
  readonly path: readonly string[];
  readonly kind: Kind;
}

export const ENV_BINDINGS: readonly EnvBinding[] = [
  { name: 'BOOTPT_AGENT_ID', path: ['agentId'], kind: 'string' },
  { name: 'BOOTPT_AGENT_DATA_DIR', path: ['dataDir'], kind: 'string' },
  { name: 'BOOTPT_AGENT_LOG_LEVEL', path: ['log', 'level'], kind: 'string' },
  { name: 'BOOTPT_AGENT_METRICS_ENABLED', path: ['metrics', 'enabled'], kind: 'bool' },
  { name: 'BOOTPT_AGENT_METRICS_HOST', path: ['metrics', 'host'], kind: 'string' },
  { name: 'BOOTPT_AGENT_METRICS_PORT', path: ['metrics', 'port'], kind: 'int' },
  { name: 'BOOTPT_AGENT_INTERFACES', path: ['responder', 'interfaces'], kind: 'list' },
  { name: 'BOOTPT_AGENT_LOOPBACK', path: ['responder', 'loopback'], kind: 'bool' },
  { name: 'BOOTPT_AGENT_PORT', path: ['responder', 'port'], kind: 'int' },
  { name: 'BOOTPT_AGENT_CLIENT_PORT', path: ['responder', 'clientPort'], kind: 'int' },
  { name: 'BOOTPT_AGENT_HOP_LIMIT', path: ['responder', 'hopLimit'], kind: 'int' },
  { name: 'BOOTPT_AGENT_PXE_SERVER', path: ['responder', 'pxeServer'], kind: 'bool' },
  { name: 'BOOTPT_AGENT_BACKEND_FILE', path: ['backend', 'path'], kind: 'string' },
  { name: 'BOOTPT_AGENT_TURBO_KEYS', path: ['responder', 'turbo', 'keys'], kind: 'keys' },
  { name: 'BOOTPT_AGENT_CONTROL_PLANE_TOKEN', path: ['content', 'upstream', 'token'], kind: 'string' },
];

export class ConfigError extends Error {
  readonly code = 'AGENT_ERR_CONFIG';
  constructor(readonly problems: readonly string[]) {
    super(
      `invalid agent configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export interface LoadConfigInput {
  /** Path of the JSON file; falls back to `env.BOOTPT_AGENT_CONFIG`; no file at all is allowed. */
  readonly file?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** For tests: supply file contents instead of reading the disk. */
  readonly readFile?: (path: string) => string;
}

function parseEnvValue(kind: Kind, raw: string): { ok: true; value: unknown } | { ok: false; why: string } {
  const text = raw.trim();
  switch (kind) {
    case 'string':
      return { ok: true, value: text };
    case 'int':
      return /^\d+$/.test(text) ? { ok: true, value: Number(text) } : { ok: false, why: 'not an integer' };
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(text)) return { ok: true, value: true };
      if (/^(0|false|no|off)$/i.test(text)) return { ok: true, value: false };
      return { ok: false, why: 'expected true/false/1/0' };
    case 'keys': {
      const keys = [];
      for (const item of text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')) {
        const m = /^(\d{1,3}):([0-9a-fA-F]+)$/.exec(item);
        if (!m) return { ok: false, why: 'expected id:hexsecret[,id:hexsecret...]' };
        keys.push({ id: Number(m[1]), secret: m[2] });
      }
      return { ok: true, value: keys };
    }
    case 'list':
      return {
        ok: true,
        value: text
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      };
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function resolvePaths(raw: Record<string, unknown>, base: string): void {
  if (typeof raw.dataDir === 'string' && !isAbsolute(raw.dataDir)) raw.dataDir = resolve(base, raw.dataDir);
  const backend = raw.backend as Record<string, unknown> | undefined;
  if (backend && typeof backend.path === 'string' && !isAbsolute(backend.path)) {
    backend.path = resolve(base, backend.path);
  }
}

/** Loads, overlays, validates and freezes the configuration; throws one `ConfigError` listing every problem. */
export function loadConfig(input: LoadConfigInput): AgentConfig {
  const cwd = input.cwd ?? process.cwd();
  const problems: string[] = [];
  const file = input.file ?? input.env.BOOTPT_AGENT_CONFIG;
  let raw: Record<string, unknown> = {};

  if (file !== undefined && file !== '') {
    const path = resolve(cwd, file);
    try {
      const text = input.readFile ? input.readFile(path) : readFileSync(path, 'utf8');
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        problems.push(`${path}: the configuration must be a JSON object`);
      } else {
        raw = parsed as Record<string, unknown>;
        resolvePaths(raw, dirname(path));
      }
    } catch (err) {
      problems.push(`${path}: ${(err as Error).message}`);
    }
  }

  const fromEnv = new Map<string, string>();
  const envLayer: Record<string, unknown> = {};
  for (const binding of ENV_BINDINGS) {
    const value = input.env[binding.name];
    if (value === undefined || value === '') continue;
    const parsed = parseEnvValue(binding.kind, value);
    if (!parsed.ok) {
      const shown = binding.kind === 'keys' ? '[redacted]' : JSON.stringify(value);
      problems.push(`${binding.name}=${shown}: ${parsed.why}`);
      continue;
    }
    setPath(envLayer, binding.path, parsed.value);
    fromEnv.set(binding.path.join('.'), binding.name);
  }
  if (envLayer.backend) (envLayer.backend as Record<string, unknown>).kind = 'file';
  resolvePaths(envLayer, cwd);
  const merged = deepMerge(raw, envLayer);

  const result = agentConfigSchema.safeParse(merged);
  if (!result.success) {
    const issues: { path: readonly PropertyKey[]; message: string }[] = [...result.error.issues];
    for (const extra of crossFieldProblems(merged)) {
      if (!issues.some((i) => i.message === extra.message)) issues.push(extra);
    }
    for (const issue of issues) {
      const key = issue.path.map(String).join('.');
      const via = fromEnv.get(key);
      problems.push(`${key || '(root)'}${via ? ` (from ${via})` : ''}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return deepFreeze(result.data);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
