import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * A throw-away test LAN in network namespaces (TESTBED.md recipe): a bridge in a namespace of its own and
 * one namespace per host, joined by veth pairs. Nothing touches the machine's real interfaces. Every
 * command runs under a timeout; `destroy()` kills the processes started here (by PID) and deletes every
 * namespace this LAN created.
 *
 * Test-only (excluded from the build). Meant to be replaced by `tests/lib/netns.ts` once it lands.
 */

const run = promisify(execFile);

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function sh(cmd: string, args: readonly string[], timeoutMs = 10_000): Promise<ExecResult> {
  try {
    const { stdout, stderr } = await run(
      'timeout',
      ['-k', '1', String(Math.ceil(timeoutMs / 1000)), cmd, ...args],
      { maxBuffer: 8 * 1024 * 1024 },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function must(cmd: string, args: readonly string[]): Promise<void> {
  const r = await sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
}

/** Why namespaces cannot be used here, or undefined when they can. */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const probe = `bpt-probe-${process.pid}`;
  const r = await sh('ip', ['netns', 'add', probe]);
  if (r.code !== 0) return `cannot create a network namespace: ${r.stderr.trim()}`;
  await sh('ip', ['netns', 'del', probe]);
  return undefined;
}

export interface HostOptions {
  readonly mac?: string;
  readonly cidr?: string;
  readonly ifname?: string;
  readonly bridge?: string;
}

export class TestLan {
  readonly bridgeNs: string;
  private readonly namespaces: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private vethCounter = 0;

  constructor(readonly prefix: string) {
    this.bridgeNs = `${prefix}-br`;
  }

  async create(): Promise<void> {
    await this.addNamespace(this.bridgeNs);
    await this.addBridge('br0');
  }

  /** A namespace with its loopback up. */
  async addNamespace(ns: string): Promise<string> {
    await must('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A bridge (a LAN segment) in the bridge namespace. */
  async addBridge(name: string): Promise<void> {
    await must('ip', ['-n', this.bridgeNs, 'link', 'add', name, 'type', 'bridge']);
    await must('ip', ['-n', this.bridgeNs, 'link', 'set', name, 'up']);
  }

  /** A host on a bridge: namespace `${prefix}-${name}` with one interface (default eth0 on br0). */
  async addHost(name: string, opts: HostOptions = {}): Promise<string> {
    const ns = await this.addNamespace(`${this.prefix}-${name}`);
    await this.plug(ns, opts.ifname ?? 'eth0', opts.bridge ?? 'br0', opts.mac, opts.cidr);
    return ns;
  }

  /** Connects a new interface `ifname` in `ns` to `bridge`. */
  async plug(ns: string, ifname: string, bridge: string, mac?: string, cidr?: string): Promise<void> {
    const port = `v${process.pid % 100000}x${++this.vethCounter}`;
    await must('ip', [
      '-n',
      this.bridgeNs,
      'link',
      'add',
      port,
      'type',
      'veth',
      'peer',
      'name',
      ifname,
      'netns',
      ns,
    ]);
    await must('ip', ['-n', this.bridgeNs, 'link', 'set', port, 'master', bridge, 'up']);
    if (mac) await must('ip', ['-n', ns, 'link', 'set', ifname, 'address', mac]);
    await must('ip', ['-n', ns, 'link', 'set', ifname, 'up']);
    if (cidr) await must('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', ifname]);
  }

  /** A tap device on a bridge (for a QEMU guest started in the bridge namespace). */
  async addTap(name: string, bridge = 'br0'): Promise<void> {
    await must('ip', ['-n', this.bridgeNs, 'tuntap', 'add', name, 'mode', 'tap']);
    await must('ip', ['-n', this.bridgeNs, 'link', 'set', name, 'master', bridge, 'up']);
  }

  exec(ns: string, cmd: string, args: readonly string[], timeoutMs = 15_000): Promise<ExecResult> {
    return sh('ip', ['netns', 'exec', ns, cmd, ...args], timeoutMs);
  }

  /** Starts a long-running process in `ns` (stopped by PID in `destroy()`). */
  spawn(
    ns: string,
    cmd: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv = process.env,
  ): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  async stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** PIDs of processes still running inside `ns` (e.g. daemons a client forked). */
  async pidsIn(ns: string): Promise<number[]> {
    const r = await sh('ip', ['netns', 'pids', ns]);
    return r.stdout
      .split(/\s+/)
      .filter((s) => /^\d+$/.test(s))
      .map(Number);
  }

  async killAllIn(ns: string): Promise<void> {
    for (const pid of await this.pidsIn(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  async destroy(): Promise<void> {
    for (const child of [...this.children]) await this.stop(child, 'SIGTERM', 2000);
    for (const ns of [...this.namespaces].reverse()) {
      await this.killAllIn(ns);
      await sh('ip', ['netns', 'del', ns]);
    }
    this.namespaces.length = 0;
  }
}
