import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestLan } from './netns.js';

/**
 * Runs the real `bootpt-agent` (TypeScript sources through tsx) as a child process inside a namespace,
 * with a config and site file written to a temp directory. Test-only.
 */

const AGENT_DIR = resolve(import.meta.dirname, '../..');
const REPO_ROOT = resolve(AGENT_DIR, '../..');
const BIN = join(AGENT_DIR, 'src/bin/bootpt-agent.ts');

export interface AgentProcessOptions {
  readonly ns: string;
  readonly site: unknown;
  readonly config: Record<string, unknown>;
}

export class AgentProcess {
  readonly logLines: string[] = [];
  private child: ChildProcess | undefined;

  private constructor(
    private readonly lan: TestLan,
    readonly ns: string,
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
    const agent = new AgentProcess(lan, options.ns, dir);
    await agent.launch();
    return agent;
  }

  get leaseFile(): string {
    return join(this.dir, 'data', 'leases.json');
  }

  async launch(): Promise<void> {
    const child = this.lan.spawn(
      this.ns,
      process.execPath,
      ['--conditions=source', '--import', 'tsx', BIN, '--config', join(this.dir, 'agent.json')],
      { ...process.env, NODE_NO_WARNINGS: '1' },
    );
    this.child = child;
    let buffered = '';
    const started = new Promise<void>((resolvePromise, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`agent did not start:\n${this.logLines.join('\n')}`)),
        20_000,
      );
      const onData = (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          this.logLines.push(line);
          if (line.includes('"agent started"')) {
            clearTimeout(timer);
            resolvePromise();
          }
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (c: Buffer) => this.logLines.push(c.toString()));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`agent exited with ${code}:\n${this.logLines.join('\n')}`));
      });
    });
    await started;
  }

  /** Scrapes /metrics from inside the namespace. */
  async metrics(port = 9467): Promise<string> {
    const r = await this.lan.exec(this.ns, 'curl', [
      '-sS',
      '--max-time',
      '3',
      `http://127.0.0.1:${port}/metrics`,
    ]);
    if (r.code !== 0) throw new Error(`metrics scrape failed: ${r.stderr}`);
    return r.stdout;
  }

  /** Sum of a metric's samples whose labels include all of `labels`. */
  async metric(name: string, labels: Record<string, string> = {}, port = 9467): Promise<number> {
    return sumMetric(await this.metrics(port), name, labels);
  }

  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child) return null;
    this.child = undefined;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await this.lan.stop(child, 'SIGTERM', 8000);
    return exited;
  }

  async cleanup(): Promise<void> {
    await this.stop();
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

export { REPO_ROOT };
