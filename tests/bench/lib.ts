/**
 * The benchmark contract. Each benchmark is `tests/bench/<name>.bench.ts` whose default export is an
 * async function returning results; `npm run bench [-- NAME]` runs them and writes
 * `tests/bench/results/latest.json` as `{"results": BenchResult[]}`.
 *
 * `ratio` is ours / peer's for metrics where higher is better (rates, throughputs) and peer's / ours
 * where lower is better (latencies, durations, bytes), so a ratio above 1 always means "we win".
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface PeerFigure {
  value: number;
  ratio: number;
}

export interface BenchResult {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  better: 'higher' | 'lower';
  peers: Record<string, PeerFigure>;
  note?: string;
}

export type Benchmark = (options: { quick: boolean }) => Promise<BenchResult[]>;

/** Builds a result with ratios computed against each peer according to `better`. */
export function result(
  bench: string,
  metric: string,
  value: number,
  unit: string,
  better: 'higher' | 'lower',
  peers: Record<string, number> = {},
  note?: string,
): BenchResult {
  const out: Record<string, PeerFigure> = {};
  for (const [name, v] of Object.entries(peers)) {
    const ratio = better === 'higher' ? value / v : v / value;
    out[name] = { value: v, ratio: Number.isFinite(ratio) ? Number(ratio.toFixed(3)) : 0 };
  }
  return { bench, metric, value, unit, better, peers: out, ...(note ? { note } : {}) };
}

/** The median (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile `p` (0–100) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Absolute path of `command` on PATH, or undefined. */
export function which(command: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * `relPath` of Debian package `pkg` unpacked into `dir`, fetched on first use with `apt-get download` +
 * `dpkg -x` (no maintainer scripts run, so no daemon starts on the machine's interfaces); undefined when
 * the package cannot be fetched or lacks the file.
 */
export function debianFile(pkg: string, relPath: string, dir: string): string | undefined {
  const file = join(dir, relPath);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const download = spawnSync('apt-get', ['download', pkg], { cwd: dir, stdio: 'ignore', timeout: 120_000 });
  if (download.status !== 0) return undefined;
  for (const deb of readdirSync(dir).filter((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'))) {
    spawnSync('dpkg', ['-x', deb, dir], { cwd: dir, stdio: 'ignore', timeout: 60_000 });
  }
  return existsSync(file) ? file : undefined;
}
