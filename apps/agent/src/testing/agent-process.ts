import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { NetnsProcess, TestLan } from '../../../../tests/lib/netns.js';

/**
 * Runs the real `bootpt-agent` (TypeScript sources through tsx) as a child process inside a namespace of a
 * shared test LAN (`tests/lib/netns.ts`), with a config and site file written to a temp directory.
 * Test-only (excluded from the build).
 */

const BIN = resolve(import.meta.dirname, '../bin/bootpt-agent.ts');

export interface AgentProcessOptions {
  readonly namespace: string;
  readonly site: unknown;
  readonly config: Record<string, unknown>;
}

export class AgentProcess {
  private process: NetnsProcess | undefined;

  private constructor(
    private readonly lan: TestLan,
    readonly namespace: string,
    readonly dir: string,
  ) {}

  static async start(lan: TestLan, options: AgentProcessOptions): Promise<AgentProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'bpt-agent-it-'));
    await writeFile(join(dir, 'site.json'), JSON.stringify(options.site, null, 2));
    await writeFile(
      join(dir, 'agent.json'),
      JSON.stringify({
        dataDir: join(dir, 'data'),
        backend: { kind: 'file', path: join(dir, 'site.json') },
        ...options.config,
      }),
    );
    const agent = new AgentProcess(lan, options.namespace, dir);
    await agent.launch();
    return agent;
  }

  get leaseFile(): string {
    return join(this.dir, 'data', 'leases.json');
  }

  /** Log lines so far (JSON, one per line). */
  get logLines(): string[] {
    return (this.process?.stdout() ?? '').split('\n').filter((l) => l !== '');
  }

  async launch(): Promise<void> {
    const proc = this.lan.spawn(
      this.namespace,
      [
        process.execPath,
        '--conditions=source',
        '--import',
        'tsx',
        BIN,
        '--config',
        join(this.dir, 'agent.json'),
      ],
      { env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    );
    this.process = proc;
    await proc.waitForOutput('"agent started"', 20_000);
  }

  /** Scrapes /metrics from inside the namespace. */
  async metrics(port = 9467): Promise<string> {
    const r = await this.lan.exec(
      this.namespace,
      ['curl', '-sS', '--max-time', '3', `http://127.0.0.1:${port}/metrics`],
      {
        timeoutMs: 5000,
      },
    );
    if (r.code !== 0) throw new Error(`metrics scrape failed: ${r.stderr}`);
    return r.stdout;
  }

  /** Sum of a metric's samples whose labels include all of `labels`. */
  async metric(name: string, labels: Record<string, string> = {}, port = 9467): Promise<number> {
    return sumMetric(await this.metrics(port), name, labels);
  }

  /** SIGTERM (graceful shutdown), SIGKILL after 8 s; resolves with the exit code. */
  async stop(): Promise<number | null> {
    const proc = this.process;
    if (!proc) return null;
    const result = await proc.stop('SIGTERM', 8000);
    return result.code;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    this.process = undefined;
    await rm(this.dir, { recursive: true, force: true });
  }
}

export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{([^}]*)\})? ([0-9.eE+-]+|NaN)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map<string, string>();
    for (const pair of (m[3] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)) have.set(pair[1]!, pair[2]!);
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) total += Number(m[4]);
  }
  return total;
}
