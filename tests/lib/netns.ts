/**
 * A throw-away test LAN built from Linux network namespaces, for integration tests that run real DHCP/TFTP
 * servers and clients without touching the machine's own interfaces.
 *
 *   bridge namespace `<prefix>-br`:  br0 ── p-h1 ─┐       ┌─ p-h2 ── ...
 *                                                 veth    veth
 *   host namespaces `<prefix>-h1`, `<prefix>-h2`: eth0 (10.213.X.1/24, 10.213.X.2/24, ...)
 *
 * Every run gets its own name prefix (pid + random), so parallel test files never collide; each namespace has
 * its own stack, so runs may reuse the same subnet. `destroy()` ends every process this LAN started (by PID,
 * including processes left behind inside its namespaces) and deletes its namespaces; it is idempotent and also
 * runs on process exit.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface NetnsCapability {
  readonly ok: boolean;
  /** Why network namespaces are unavailable (for `describe.skipIf(...)` messages); empty when ok. */
  readonly reason: string;
}

let cachedCapability: NetnsCapability | undefined;

/**
 * Can this process create network namespaces, veth pairs and bridges? Probes once (creates and deletes a
 * scratch namespace with a veth pair) and caches the answer.
 */
export function hasNetns(): NetnsCapability {
  cachedCapability ??= probeNetns();
  return cachedCapability;
}

function probeNetns(): NetnsCapability {
  if (process.platform !== 'linux')
    return { ok: false, reason: `network namespaces need Linux (platform ${process.platform})` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, reason: 'network namespaces need root (uid is not 0)' };
  }
  const version = spawnSync('ip', ['-V'], { encoding: 'utf8', timeout: 5_000 });
  if (version.error || version.status !== 0) return { ok: false, reason: 'iproute2 `ip` is not installed' };
  const name = `bpt-probe-${process.pid}-${randomBytes(3).toString('hex')}`;
  const steps: string[][] = [
    ['netns', 'add', name],
    ['-n', name, 'link', 'add', 'pa', 'type', 'veth', 'peer', 'name', 'pb'],
    ['-n', name, 'link', 'add', 'br0', 'type', 'bridge'],
  ];
  try {
    for (const args of steps) {
      const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 5_000 });
      if (r.status !== 0)
        return {
          ok: false,
          reason: `\`ip ${args.join(' ')}\` failed: ${(r.stderr || String(r.error)).trim()}`,
        };
    }
    return { ok: true, reason: '' };
  } finally {
    spawnSync('ip', ['netns', 'del', name], { timeout: 5_000 });
  }
}

export interface ExecOptions {
  /** Kill the command (SIGKILL) after this long; the result then has `timedOut: true`. Default 30 s. */
  readonly timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  readonly input?: string | Uint8Array;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface ExecResult {
  /** Exit code, or null when the command was ended by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** A long-running process started in a namespace. */
export interface NetnsProcess {
  readonly pid: number;
  readonly namespace: string;
  readonly argv: readonly string[];
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExecResult>;
  readonly running: boolean;
  /** Resolves when `text` (or a match of the regexp) appears on stdout or stderr; rejects on timeout or exit. */
  waitForOutput(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` (default SIGTERM) to this PID, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ExecResult>;
}

export interface LanHost {
  /** Host number: 1-based position in the LAN. */
  readonly index: number;
  /** Network namespace name, for `ip netns exec`. */
  readonly namespace: string;
  readonly ifname: string;
  /** IPv4 address without prefix length, or null for an unaddressed host (e.g. a DHCP client). */
  readonly address: string | null;
  readonly mac: string;
  /** Bridge port (the veth end in the bridge namespace). */
  readonly port: string;
}

export interface HostSpec {
  /** Host part of the address (1..254) or null for no address. Default: the host's index. */
  readonly hostOctet?: number | null;
  /** Default `02:b7:<random 2 bytes>:00:<index>`, stable within a run. */
  readonly mac?: string;
}

export interface TestLanOptions {
  /** Three-octet prefix of the /24, e.g. `10.213.5` (a trailing `.0/24` is accepted). Default `10.213.0`. */
  readonly subnet?: string;
  /** Number of hosts, or one spec per host. */
  readonly hosts: number | readonly HostSpec[];
  /** Short word in the namespace names, to tell test files apart in `ip netns list`. Default `lan`. */
  readonly tag?: string;
  /** Add `255.255.255.255/32 dev eth0` on every host (see TESTBED: limited broadcast needs it). Default false. */
  readonly broadcastRoute?: boolean;
  /** Disable IPv6 in every namespace to keep captures quiet. Default true. */
  readonly disableIPv6?: boolean;
}

interface Tracked {
  readonly child: ChildProcess;
  exitedResult: ExecResult | null;
}

const liveLans = new Set<TestLan>();
let exitHookInstalled = false;

function destroyAllSync(): void {
  for (const lan of liveLans) lan.destroySync();
}

/**
 * Tears every live LAN down when the process exits, and on SIGINT/SIGTERM/SIGHUP (which skip `exit`): the
 * signal is then re-raised so the default action (or another listener) still runs.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', destroyAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      destroyAllSync();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

function runIp(args: readonly string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${(r.stderr || String(r.error)).trim()}`);
}

function normalizeSubnet(subnet: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\.0(?:\/24)?)?$/.exec(subnet);
  if (!m || [m[1], m[2], m[3]].some((o) => Number(o) > 255))
    throw new Error(`subnet must look like 10.213.5 or 10.213.5.0/24, got ${subnet}`);
  return `${m[1]}.${m[2]}.${m[3]}`;
}

export class TestLan {
  /** Common prefix of every namespace of this LAN (`bpt-<tag>-<pid>-<random>`). */
  readonly prefix: string;
  readonly bridgeNamespace: string;
  readonly bridge = 'br0';
  /** Three-octet subnet prefix, e.g. `10.213.5`. */
  readonly subnet: string;
  readonly broadcast: string;
  readonly hosts: readonly LanHost[];

  private readonly processes = new Map<number, Tracked>();
  private readonly extraNamespaces: string[] = [];
  private extraLinks = 0;
  private destroyed = false;

  private constructor(prefix: string, subnet: string, hosts: LanHost[]) {
    this.prefix = prefix;
    this.bridgeNamespace = `${prefix}-br`;
    this.subnet = subnet;
    this.broadcast = `${subnet}.255`;
    this.hosts = hosts;
  }

  /** Builds the LAN. On any failure it deletes what it had created and rethrows. */
  static async create(options: TestLanOptions): Promise<TestLan> {
    const subnet = normalizeSubnet(options.subnet ?? '10.213.0');
    const tag = (options.tag ?? 'lan').replace(/[^a-z0-9]/gi, '').slice(0, 8) || 'lan';
    const runId = randomBytes(3).toString('hex');
    const prefix = `bpt-${tag}-${process.pid}-${runId}`;
    const specs: HostSpec[] =
      typeof options.hosts === 'number'
        ? Array.from({ length: options.hosts }, () => ({}))
        : [...options.hosts];
    if (specs.length < 1 || specs.length > 250) throw new Error(`hosts must be 1..250, got ${specs.length}`);
    const macBase = `02:b7:${runId.slice(0, 2)}:${runId.slice(2, 4)}`;
    const hosts = specs.map((spec, i): LanHost => {
      const index = i + 1;
      const octet = spec.hostOctet === undefined ? index : spec.hostOctet;
      if (octet !== null && (octet < 1 || octet > 254))
        throw new Error(`hostOctet must be 1..254, got ${octet}`);
      return {
        index,
        namespace: `${prefix}-h${index}`,
        ifname: 'eth0',
        address: octet === null ? null : `${subnet}.${octet}`,
        mac:
          spec.mac ??
          `${macBase}:${(index >> 8).toString(16).padStart(2, '0')}:${(index & 255).toString(16).padStart(2, '0')}`,
        port: `p-h${index}`,
      };
    });
    const lan = new TestLan(prefix, subnet, hosts);
    liveLans.add(lan);
    installExitHook();
    try {
      lan.build(options.broadcastRoute ?? false, options.disableIPv6 ?? true);
    } catch (err) {
      await lan.destroy();
      throw err;
    }
    return lan;
  }

  private build(broadcastRoute: boolean, disableIPv6: boolean): void {
    const br = this.bridgeNamespace;
    runIp(['netns', 'add', br]);
    runIp(['-n', br, 'link', 'add', this.bridge, 'type', 'bridge', 'forward_delay', '0']);
    runIp(['-n', br, 'link', 'set', this.bridge, 'up']);
    if (disableIPv6) this.disableIPv6(br);
    for (const h of this.hosts) {
      runIp(['netns', 'add', h.namespace]);
      runIp(['-n', h.namespace, 'link', 'set', 'lo', 'up']);
      if (disableIPv6) this.disableIPv6(h.namespace);
      runIp([
        '-n',
        br,
        'link',
        'add',
        h.port,
        'type',
        'veth',
        'peer',
        'name',
        h.ifname,
        'netns',
        h.namespace,
      ]);
      runIp(['-n', br, 'link', 'set', h.port, 'master', this.bridge, 'up']);
      runIp(['-n', h.namespace, 'link', 'set', h.ifname, 'address', h.mac]);
      runIp(['-n', h.namespace, 'link', 'set', h.ifname, 'up']);
      if (h.address) runIp(['-n', h.namespace, 'addr', 'add', `${h.address}/24`, 'dev', h.ifname]);
      if (broadcastRoute) this.addBroadcastRoute(h);
    }
  }

  private disableIPv6(namespace: string): void {
    // Best effort: a kernel without IPv6 has nothing to disable.
    spawnSync(
      'ip',
      [
        'netns',
        'exec',
        namespace,
        'sysctl',
        '-qw',
        'net.ipv6.conf.all.disable_ipv6=1',
        'net.ipv6.conf.default.disable_ipv6=1',
      ],
      { timeout: 5_000 },
    );
  }

  /** Host by 1-based index. */
  host(index: number): LanHost {
    const h = this.hosts[index - 1];
    if (!h) throw new Error(`no host ${index} (LAN has ${this.hosts.length})`);
    return h;
  }

  /** `ip route replace 255.255.255.255/32 dev eth0` on a host, so sends to the limited broadcast work. */
  addBroadcastRoute(host: LanHost): void {
    runIp(['-n', host.namespace, 'route', 'replace', '255.255.255.255/32', 'dev', host.ifname]);
  }

  /** `ip route replace 224.0.0.0/4 dev eth0` on a host, so multicast sends and joins need no interface address. */
  addMulticastRoute(host: LanHost): void {
    runIp(['-n', host.namespace, 'route', 'replace', '224.0.0.0/4', 'dev', host.ifname]);
  }

  /** Sets the MTU of every host's interface and of its bridge port (the bridge follows its ports). */
  setMtu(mtu: number): void {
    for (const h of this.hosts) {
      runIp(['-n', this.bridgeNamespace, 'link', 'set', h.port, 'mtu', String(mtu)]);
      runIp(['-n', h.namespace, 'link', 'set', h.ifname, 'mtu', String(mtu)]);
    }
  }

  /** Sets (replaces) a host's address, e.g. after a DHCP test; `null` flushes all addresses. */
  setAddress(host: LanHost, address: string | null): void {
    runIp(['-n', host.namespace, 'addr', 'flush', 'dev', host.ifname]);
    if (address) runIp(['-n', host.namespace, 'addr', 'add', `${address}/24`, 'dev', host.ifname]);
  }

  /**
   * A tap device enslaved to the bridge in the bridge namespace (e.g. for QEMU `-netdev tap,ifname=...`;
   * run QEMU itself with `spawn(lan.bridgeNamespace, ...)`).
   */
  addTap(name = 'tap0'): string {
    runIp(['-n', this.bridgeNamespace, 'tuntap', 'add', 'dev', name, 'mode', 'tap']);
    runIp(['-n', this.bridgeNamespace, 'link', 'set', name, 'master', this.bridge, 'up']);
    return name;
  }

  /** Runs a command to completion inside a namespace (`ip netns exec`), capturing its output. Never rejects. */
  exec(namespace: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const proc = this.spawn(namespace, argv, options);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      signalPid(proc.pid, 'SIGKILL');
    }, options.timeoutMs ?? 30_000);
    return proc.exited.then((r) => {
      clearTimeout(timer);
      return { ...r, timedOut };
    });
  }

  /**
   * Starts a long-running command inside a namespace. `ip netns exec` execs the program, so `pid` is the
   * program's own PID. The process is tracked and ended by `destroy()` if still running.
   */
  spawn(
    namespace: string,
    argv: readonly string[],
    options: Omit<ExecOptions, 'timeoutMs'> = {},
  ): NetnsProcess {
    if (this.destroyed) throw new Error('TestLan already destroyed');
    if (argv.length === 0) throw new Error('empty argv');
    const child = spawn('ip', ['netns', 'exec', namespace, ...argv], {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    let out = '';
    let err = '';
    const listeners = new Set<() => void>();
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      for (const l of listeners) l();
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      for (const l of listeners) l();
    });
    if (options.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
    const tracked: Tracked = { child, exitedResult: null };
    const exited = new Promise<ExecResult>((resolve) => {
      let settled = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null, extraErr = ''): void => {
        if (settled) return;
        settled = true;
        const result: ExecResult = { code, signal, stdout: out, stderr: err + extraErr, timedOut: false };
        tracked.exitedResult = result;
        if (child.pid !== undefined) this.processes.delete(child.pid);
        for (const l of listeners) l();
        resolve(result);
      };
      child.on('error', (e) => finish(127, null, `spawn failed: ${e.message}`));
      child.on('close', (code, signal) => finish(code, signal));
    });
    const pid = child.pid ?? -1;
    if (pid > 0) this.processes.set(pid, tracked);

    const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 3_000): Promise<ExecResult> => {
      if (tracked.exitedResult) return tracked.exitedResult;
      signalPid(pid, signal);
      const timer = setTimeout(() => signalPid(pid, 'SIGKILL'), graceMs);
      const r = await exited;
      clearTimeout(timer);
      return r;
    };

    const waitForOutput = (pattern: string | RegExp, timeoutMs = 10_000): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const matches = (): boolean => {
          const text = out + err;
          return typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
        };
        const check = (): void => {
          if (matches()) done(null);
          else if (tracked.exitedResult)
            done(new Error(`process ${pid} exited before printing ${String(pattern)}:\n${out}${err}`));
        };
        const timer = setTimeout(
          () =>
            done(new Error(`timed out after ${timeoutMs} ms waiting for ${String(pattern)}:\n${out}${err}`)),
          timeoutMs,
        );
        const done = (e: Error | null): void => {
          clearTimeout(timer);
          listeners.delete(check);
          if (e) reject(e);
          else resolve();
        };
        listeners.add(check);
        check();
      });

    return {
      pid,
      namespace,
      argv: [...argv],
      stdout: () => out,
      stderr: () => err,
      exited,
      get running() {
        return tracked.exitedResult === null;
      },
      waitForOutput,
      stop,
    };
  }

  /**
   * Starts tcpdump on the bridge (every frame between the hosts) writing classic pcap to `file`, and
   * resolves once it is listening. Stop it with `stop()` (SIGTERM; `--immediate-mode` means nothing
   * captured before that is lost). Read the file with `decodePcap` from `@bootpt/protocol/pcap/index`.
   */
  async startCapture(file: string, options: { filter?: string; iface?: string } = {}): Promise<NetnsProcess> {
    const argv = [
      'tcpdump',
      '-i',
      options.iface ?? this.bridge,
      '-Z',
      'root',
      '--immediate-mode',
      '-U',
      '-n',
      '-s',
      '0',
      '-w',
      file,
    ];
    if (options.filter) argv.push(options.filter);
    const proc = this.spawn(this.bridgeNamespace, argv);
    await proc.waitForOutput('listening on', 10_000);
    return proc;
  }

  /** Namespaces this LAN owns (bridge, hosts and any added with `addNamespace`). */
  namespaces(): string[] {
    return [this.bridgeNamespace, ...this.hosts.map((h) => h.namespace), ...this.extraNamespaces];
  }

  /**
   * A further namespace owned by this LAN (deleted by `destroy()`), attached to the bridge by a veth whose
   * inner end is `ifname`: e.g. a relay, which `connect()` then attaches to a second LAN as well.
   */
  addNamespace(suffix: string, ifname = 'eth0', address: string | null = null): LanHost {
    const namespace = `${this.prefix}-${suffix.replace(/[^a-z0-9]/gi, '').slice(0, 8)}`;
    if (!this.namespaces().includes(namespace)) {
      runIp(['netns', 'add', namespace]);
      this.extraNamespaces.push(namespace);
      runIp(['-n', namespace, 'link', 'set', 'lo', 'up']);
      this.disableIPv6(namespace);
    }
    return this.connect(namespace, ifname, address);
  }

  /**
   * Attaches an existing namespace (e.g. one of another LAN) to this bridge through a new veth `ifname`.
   * The namespace stays owned by whoever created it; the veth disappears with either side.
   */
  connect(namespace: string, ifname: string, address: string | null = null): LanHost {
    this.extraLinks++;
    const index = this.hosts.length + this.extraLinks;
    const port = `p-x${index}`;
    runIp([
      '-n',
      this.bridgeNamespace,
      'link',
      'add',
      port,
      'type',
      'veth',
      'peer',
      'name',
      ifname,
      'netns',
      namespace,
    ]);
    runIp(['-n', this.bridgeNamespace, 'link', 'set', port, 'master', this.bridge, 'up']);
    const mac = `02:b7:fe:${this.prefix.slice(-2)}:${(index >> 8).toString(16).padStart(2, '0')}:${(index & 255).toString(16).padStart(2, '0')}`;
    runIp(['-n', namespace, 'link', 'set', ifname, 'address', mac]);
    runIp(['-n', namespace, 'link', 'set', ifname, 'up']);
    if (address) runIp(['-n', namespace, 'addr', 'add', `${address}/24`, 'dev', ifname]);
    return { index, namespace, ifname, address, mac, port };
  }

  /** PIDs of processes this LAN started that are still running. */
  trackedPids(): number[] {
    return [...this.processes.keys()];
  }

  /**
   * Ends every tracked process (SIGTERM, then SIGKILL after `graceMs`), then any process still inside this
   * LAN's namespaces (daemons that forked), then deletes the namespaces. Idempotent.
   */
  async destroy(graceMs = 2_000): Promise<void> {
    if (this.destroyed) return;
    const running = [...this.processes.values()].filter((t) => t.exitedResult === null);
    for (const t of running) signalPid(t.child.pid ?? -1, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (running.some((t) => t.exitedResult === null) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    this.destroySync();
  }

  /** Synchronous teardown for the process `exit` hook: SIGKILL by PID, then delete namespaces. Idempotent. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    liveLans.delete(this);
    for (const t of this.processes.values())
      if (t.exitedResult === null) signalPid(t.child.pid ?? -1, 'SIGKILL');
    for (const ns of this.namespaces().reverse()) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 5_000 });
      for (const line of (pids.stdout ?? '').split('\n')) {
        const pid = Number(line.trim());
        if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) signalPid(pid, 'SIGKILL');
      }
      spawnSync('ip', ['netns', 'del', ns], { timeout: 5_000 });
    }
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already exited
  }
}

/** Names of existing namespaces that start with `prefix` (for leak checks in tests). */
export function listNamespaces(prefix: string): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5_000 });
  return (r.stdout ?? '')
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0 && n.startsWith(prefix));
}

/** Convenience: build a LAN, run `fn`, always destroy it. */
export async function withTestLan<T>(options: TestLanOptions, fn: (lan: TestLan) => Promise<T>): Promise<T> {
  const lan = await TestLan.create(options);
  try {
    return await fn(lan);
  } finally {
    await lan.destroy();
  }
}
