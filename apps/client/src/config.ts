import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { TrustedKeySchema } from '@bootpt/protocol';
import { normalizeMac } from '@bootpt/protocol/wire';
import { z } from 'zod';
import { DEFAULT_CACHE_DIR } from './code-cache.js';
import { ClientError } from './errors.js';

/**
 * The client's configuration: CLI flags over `BOOTPT_CLIENT_*` environment variables over defaults,
 * validated once with zod and frozen. Nothing else reads `process.env` or `process.argv`.
 */

const port = z.number().int().min(0).max(65535);
const fingerprint = z
  .string()
  .transform((s) => s.replace(/:/g, '').toLowerCase())
  .pipe(z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 fingerprint (64 hex digits, colons allowed)'));

export const clientConfigSchema = z
  .object({
    /** The hardware address the client boots as (its host identity for reservations and tokens). */
    mac: z.string().refine((s) => normalizeMac(s) !== null, 'not a MAC address (aa:bb:cc:dd:ee:ff)'),
    /** Where discovers go: the limited broadcast, or one server (loopback tests, relayed setups). */
    server: z.ipv4().default('255.255.255.255'),
    serverPort: port.default(67),
    /** Local UDP port; 68 on a real link, 0 (ephemeral) when talking to a loopback agent. */
    clientPort: port.default(68),
    /** Site-specific option code carrying the Turbo payload (SPEC §3.1). */
    optionCode: z.number().int().min(224).max(254).default(224),
    /** Offer collection window after the last discover of a burst (SPEC §7.2). */
    windowMs: z.number().int().min(50).max(60_000).default(1000),
    /** Discovery rounds before giving up (each a burst of 3, then randomised backoff, SPEC §7.4). */
    maxRounds: z.number().int().min(1).max(255).default(6),
    /** Backoff ceiling of the first round; the SPEC's 4 s unless a test shortens it. */
    backoffInitialMs: z.number().int().min(1).max(60_000).default(4000),
    cacheDir: z.string().min(1).default(DEFAULT_CACHE_DIR),
    outputDir: z.string().min(1).default('/run/bootpt'),
    /** Trusted manifest keys (raw Ed25519 public keys, base64url, with state). */
    trustedKeys: z.array(TrustedKeySchema).min(1, 'at least one trusted manifest key is required'),
    /** TLS for the HTTP/2 content server: a pinned certificate fingerprint, a CA file, or both. */
    tls: z
      .object({
        fingerprint: fingerprint.optional(),
        caFile: z.string().min(1).optional(),
        servername: z.string().min(1).default('bootpt-agent'),
      })
      .strict()
      .refine((t) => t.fingerprint !== undefined || t.caFile !== undefined, {
        message: 'set tls.fingerprint (pin) or tls.caFile: chunk servers are never trusted blindly',
      }),
    /** Parallel HTTP/2 streams on the one session. */
    concurrency: z.number().int().min(1).max(256).default(16),
    /**
     * Cold-cache delivery by a TFTP group stream (group-fetch.ts): `auto` joins a `multicast` endpoint,
     * else a `broadcast` (sbroadcast) one, in the offer's order; `multicast` / `broadcast` allow only that
     * type; `off` fetches everything over HTTP/2. Any group failure falls back to HTTP/2.
     */
    group: z.enum(['auto', 'multicast', 'broadcast', 'off']).default('auto'),
    /** A boot file goes by group when at least this fraction of its bytes is missing (cold cache). */
    groupMinMissing: z.number().min(0).max(1).default(0.5),
    /** ...and it is at least this large (smaller files are quicker as HTTP/2 chunks). */
    groupMinBytes: z
      .number()
      .int()
      .min(0)
      .default(1024 * 1024),
    /**
     * TFTP block size asked for in a group stream: 8192 (six IP fragments on Ethernet, reassembled on the
     * agent's L2 segment; the agent's `tftp.groupMaxBlksize` defaults to the same) costs a member a sixth of
     * the datagrams of 1468, which halves a 32-client storm's CPU. The server may grant less. A group file
     * must stay under 131,071 blocks (1 GiB at 8192).
     */
    groupBlksize: z.number().int().min(512).max(65464).default(8192),
    groupWindowsize: z.number().int().min(1).max(64).default(8),
    /** First TFTP retransmission timeout (doubles up to 4x); an unanswered RRQ falls back after ~8 tries. */
    groupTimeoutMs: z.number().int().min(50).max(60_000).default(1000),
    /** A listening (non-master) member gives up after this long without a group datagram. */
    groupIdleMs: z.number().int().min(500).max(600_000).default(15_000),
    /** Load the result with `kexec -l` (when the binary exists). */
    kexec: z.boolean().default(false),
    /** POST the timeline to the agent's content server after booting. */
    report: z.boolean().default(true),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Seed for the jitter source (simulators, tests); absent = Math.random. */
    seed: z.number().int().optional(),
  })
  .strict();

export type ClientConfig = z.infer<typeof clientConfigSchema>;

const FLAGS = {
  mac: { type: 'string' },
  server: { type: 'string' },
  'server-port': { type: 'string' },
  'client-port': { type: 'string' },
  'option-code': { type: 'string' },
  'window-ms': { type: 'string' },
  'max-rounds': { type: 'string' },
  'backoff-initial-ms': { type: 'string' },
  'cache-dir': { type: 'string' },
  'output-dir': { type: 'string' },
  'trusted-key': { type: 'string', multiple: true },
  'trust-file': { type: 'string' },
  pin: { type: 'string' },
  ca: { type: 'string' },
  servername: { type: 'string' },
  concurrency: { type: 'string' },
  group: { type: 'string' },
  'group-min-missing': { type: 'string' },
  'group-min-bytes': { type: 'string' },
  'group-blksize': { type: 'string' },
  'group-windowsize': { type: 'string' },
  'group-timeout-ms': { type: 'string' },
  'group-idle-ms': { type: 'string' },
  kexec: { type: 'boolean' },
  'no-report': { type: 'boolean' },
  'log-level': { type: 'string' },
  seed: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const USAGE = `usage: bootpt-client --mac MAC (--trusted-key KEY... | --trust-file FILE) (--pin SHA256 | --ca FILE) [options]

Discovers a BOOTP Turbo server, brings the cache up to the offered signed manifest (only missing chunks,
over HTTP/2), verifies everything, writes kernel + initramfs to --output-dir and optionally kexecs.
Options (env BOOTPT_CLIENT_<NAME> with dashes as underscores, e.g. BOOTPT_CLIENT_CACHE_DIR):
  --server ADDR --server-port N --client-port N   where discovers go (default broadcast, 67, 68)
  --window-ms N --max-rounds N --backoff-initial-ms N   discovery timing (SPEC §7)
  --cache-dir DIR --output-dir DIR    persistent cache, boot hand-off directory
  --concurrency N    parallel HTTP/2 streams      --kexec   load with kexec -l
  --group auto|multicast|broadcast|off   cold-cache files by TFTP group stream (default auto)
  --group-min-missing F --group-min-bytes N   which files go by group (default 0.5 missing, 1 MiB)
  --group-blksize N --group-windowsize N --group-timeout-ms N --group-idle-ms N   TFTP tuning
  --no-report        do not POST the timeline     --log-level LEVEL   --seed N
A value that starts with "-" (a base64url key can) needs the --flag=VALUE form: --trusted-key=-AbC...
Result: one JSON object on stdout; logs (pino) on stderr. Exit 0 booted, 1 failed, 64 usage, 78 config.`;

type Raw = Record<string, unknown>;

function int(name: string, text: string | undefined, problems: string[]): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n)) problems.push(`${name}: "${text}" is not an integer`);
  return n;
}

function num(name: string, text: string | undefined, problems: string[]): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) problems.push(`${name}: "${text}" is not a number`);
  return n;
}

/** A trust file holds `[{ publicKey, state, ... }]` or `{ keys: [...] }`. */
function readTrustFile(path: string, problems: string[]): unknown[] {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (Array.isArray(parsed)) return parsed;
    const keys = (parsed as { keys?: unknown } | null)?.keys;
    if (Array.isArray(keys)) return keys;
    problems.push(`trust file ${path}: expected an array of keys or { "keys": [...] }`);
  } catch (err) {
    problems.push(`trust file ${path}: ${(err as Error).message}`);
  }
  return [];
}

/** Parses argv + env into a frozen config; throws `ClientError('CLIENT_ERR_CONFIG')` listing every problem. */
export function loadClientConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ClientConfig {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ClientError('CLIENT_ERR_CONFIG', `${(err as Error).message}\n${USAGE}`);
  }
  const pick = (flag: keyof typeof FLAGS): string | undefined => {
    const v = values[flag];
    if (typeof v === 'string') return v;
    const e = env[`BOOTPT_CLIENT_${flag.toUpperCase().replace(/-/g, '_')}`];
    return e === undefined || e === '' ? undefined : e;
  };
  const bool = (flag: keyof typeof FLAGS): boolean | undefined => {
    if (values[flag] === true) return true;
    const e = env[`BOOTPT_CLIENT_${flag.toUpperCase().replace(/-/g, '_')}`];
    return e === undefined || e === '' ? undefined : ['1', 'true', 'yes'].includes(e.toLowerCase());
  };
  const problems: string[] = [];
  const keys: unknown[] = [];
  const trustFile = pick('trust-file');
  if (trustFile) keys.push(...readTrustFile(trustFile, problems));
  const keyFlags = (values['trusted-key'] as string[] | undefined) ?? [];
  const keyEnv = env.BOOTPT_CLIENT_TRUSTED_KEYS?.split(',').filter((k) => k !== '') ?? [];
  for (const k of [...keyFlags, ...keyEnv]) keys.push({ publicKey: k.trim(), state: 'active' });

  const report = bool('no-report');
  const raw: Raw = {
    mac: pick('mac'),
    server: pick('server'),
    serverPort: int('--server-port', pick('server-port'), problems),
    clientPort: int('--client-port', pick('client-port'), problems),
    optionCode: int('--option-code', pick('option-code'), problems),
    windowMs: int('--window-ms', pick('window-ms'), problems),
    maxRounds: int('--max-rounds', pick('max-rounds'), problems),
    backoffInitialMs: int('--backoff-initial-ms', pick('backoff-initial-ms'), problems),
    cacheDir: pick('cache-dir'),
    outputDir: pick('output-dir'),
    trustedKeys: keys,
    tls: { fingerprint: pick('pin'), caFile: pick('ca'), servername: pick('servername') },
    concurrency: int('--concurrency', pick('concurrency'), problems),
    group: pick('group'),
    groupMinMissing: num('--group-min-missing', pick('group-min-missing'), problems),
    groupMinBytes: int('--group-min-bytes', pick('group-min-bytes'), problems),
    groupBlksize: int('--group-blksize', pick('group-blksize'), problems),
    groupWindowsize: int('--group-windowsize', pick('group-windowsize'), problems),
    groupTimeoutMs: int('--group-timeout-ms', pick('group-timeout-ms'), problems),
    groupIdleMs: int('--group-idle-ms', pick('group-idle-ms'), problems),
    kexec: bool('kexec'),
    report: report === undefined ? undefined : !report,
    logLevel: pick('log-level'),
    seed: int('--seed', pick('seed'), problems),
  };
  return parseClientConfig(raw, problems);
}

/** Validates an already-structured config (tests, the bench); `problems` are reported with the schema's. */
export function parseClientConfig(raw: Raw, problems: string[] = []): ClientConfig {
  const cleaned = JSON.parse(JSON.stringify(raw)) as Raw;
  const result = clientConfigSchema.safeParse(cleaned);
  if (!result.success) {
    for (const issue of result.error.issues) {
      problems.push(`${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) {
    throw new ClientError(
      'CLIENT_ERR_CONFIG',
      `invalid client configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
  return Object.freeze(result.data);
}

export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}
