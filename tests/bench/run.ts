/**
 * Benchmark runner (started by `npm run bench`). Usage: `npm run bench [-- NAME ...] [--quick]`.
 * Runs each selected `tests/bench/<NAME>.bench.ts`, prints a table, and writes
 * `tests/bench/results/latest.json` (merged with earlier results of benchmarks not run this time).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Benchmark, BenchResult } from './lib.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const names = args.filter((a) => !a.startsWith('--'));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();

const unknown = names.filter((n) => !available.includes(n));
if (unknown.length) {
  console.error(
    `unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ') || '(none)'}`,
  );
  process.exit(2);
}
const selected = names.length ? names : available;

function fmt(n: number): string {
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString('en-US');
  if (abs >= 10) return n.toFixed(1);
  return n.toPrecision(3);
}

const results: BenchResult[] = [];
let failures = 0;
for (const name of selected) {
  console.log(`\n## ${name}`);
  const started = Date.now();
  try {
    const mod = (await import(pathToFileURL(join(here, `${name}.bench.ts`)).href)) as { default: Benchmark };
    const out = await mod.default({ quick });
    results.push(...out);
    for (const r of out) {
      const peers = Object.entries(r.peers)
        .map(([p, f]) => `${p} ${fmt(f.value)} (ratio ${f.ratio.toFixed(2)})`)
        .join('; ');
      console.log(
        `  ${r.metric.padEnd(44)} ${fmt(r.value).padStart(12)} ${r.unit.padEnd(10)} ${peers}${r.note ? `  [${r.note}]` : ''}`,
      );
    }
    console.log(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (err) {
    failures++;
    console.error(`  benchmark ${name} failed: ${(err as Error).stack ?? String(err)}`);
  }
}

const file = join(here, 'results', 'latest.json');
let previous: BenchResult[] = [];
if (existsSync(file)) {
  try {
    previous = (JSON.parse(readFileSync(file, 'utf8')) as { results: BenchResult[] }).results ?? [];
  } catch {
    previous = [];
  }
}
const ran = new Set(selected);
const merged = [...previous.filter((r) => !ran.has(r.bench)), ...results];
writeFileSync(
  file,
  `${JSON.stringify({ generatedAt: new Date().toISOString(), results: merged }, null, 2)}\n`,
);
console.log(`\nwrote ${file} (${results.length} results from this run)`);
process.exit(failures ? 1 : 0);
