import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ManifestKeyPair } from '@bootpt/protocol';
import { generateManifestKeyPair } from '@bootpt/protocol';
import { publishRelease, type PublishedRelease } from '../../../../tests/images/publish.js';
import type { Release } from '../../../../tests/images/releases.js';
import { parseClientConfig, type ClientConfig } from '../config.js';

/**
 * A loopback boot lab for integration tests and the delta benchmark (test-only, not built): a publish
 * directory with signed releases and the real `bootpt-agent` daemon as a child process (responder in
 * loopback mode, content server syncing from the publish directory, both on free loopback ports), plus
 * client configs pointing at it.
 */

export const CLIENT_MAC = '52:54:00:bb:00:01';
const AGENT_BIN = resolve(import.meta.dirname, '../../../agent/src/bin/bootpt-agent.ts');
const CLIENT_DIR = resolve(import.meta.dirname, '../..');

/**
 * Runs the client build script's `build-node-entry.mjs` step (package.json) whose output ends with
 * `suffix`, writing to `outfile` instead, so a test or bench never runs a stale build of it.
 */
function runBuildStep(suffix: string, outfile: string): void {
  const script = (
    JSON.parse(readFileSync(join(CLIENT_DIR, 'package.json'), 'utf8')) as {
      scripts: { build: string };
    }
  ).scripts.build;
  const step = script
    .split('&&')
    .map((s) => /build-node-entry\.mjs (\S+) (\S+)((?: \S+)*)\s*$/.exec(s))
    .find((m) => m?.[2]!.endsWith(suffix));
  if (!step)
    throw new Error(`no build-node-entry.mjs step for *${suffix} in the client's build script: ${script}`);
  const built = spawnSync(
    process.execPath,
    [
      join(CLIENT_DIR, '../../scripts/build-node-entry.mjs'),
      step[1]!,
      outfile,
      ...step[3]!.trim().split(' ').filter(Boolean),
    ],
    { cwd: CLIENT_DIR, encoding: 'utf8', timeout: 120_000 },
  );
  if (built.status !== 0) throw new Error(`client build (${outfile}) failed: ${built.stderr}`);
}

/** Builds the single-file client (`dist/bootpt-client.mjs`, what an initramfs carries) to `outfile`. */
export function buildClientBundle(outfile: string): void {
  runBuildStep('/bootpt-client.mjs', outfile);
}

/**
 * Builds the client executable (`dist/bootpt-client`: node with the client's startup snapshot, a single
 * executable application) to `outfile`, from the same build script step as `npm run build`.
 */
export function buildClientExecutable(outfile: string): void {
  runBuildStep('/bootpt-client', outfile);
}

/**
 * The `bootpt-client` command line for `config` (the options a lab config sets), as `--flag=value`: a
 * value may start with a dash (a base64url key does one time in 64), which `--flag value` would refuse.
 */
export function clientArgv(config: ClientConfig): string[] {
  const flags: [string, string | number][] = [
    ['mac', config.mac],
    ['server', config.server],
    ['server-port', config.serverPort],
    ['client-port', config.clientPort],
    ['window-ms', config.windowMs],
    ['max-rounds', config.maxRounds],
    ['backoff-initial-ms', config.backoffInitialMs],
    ['cache-dir', config.cacheDir],
    ['output-dir', config.outputDir],
    ['pin', config.tls.fingerprint!],
    ...config.trustedKeys.map((k): [string, string] => ['trusted-key', k.publicKey]),
    ['log-level', config.logLevel],
  ];
  return [...flags.map(([f, v]) => `--${f}=${v}`), ...(config.report ? [] : ['--no-report'])];
}

export async function freeTcpPort(): Promise<number> {
  return new Promise((done, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}

async function freeUdpPort(): Promise<number> {
  return new Promise((done, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => done(port));
    });
  });
}

export interface Lab {
  readonly dir: string;
  readonly publishDir: string;
  /** The agent's content store directory (`manifests/`, `indexes/`, `chunks/`). */
  readonly storeDir: string;
  readonly key: ManifestKeyPair;
  readonly releases: PublishedRelease[];
  readonly contentPort: number;
  readonly fingerprint: string;
  /** Agent log lines (JSON objects) so far. */
  logs(): Record<string, unknown>[];
  /** Points the client's reservation at a published release; SIGHUP makes the agent re-read it. */
  assign(digest: string, options?: { endpointPort?: number }): Promise<void>;
  clientConfig(overrides?: Record<string, unknown>): ClientConfig;
  close(): Promise<void>;
}

export async function startLab(args: {
  releases: readonly Release[];
  /** Offer this port instead of the content port (the bench puts a byte-counting proxy there). */
  endpointPort?: (contentPort: number) => Promise<number>;
}): Promise<Lab> {
  const dir = await mkdtemp(join(tmpdir(), 'bpt-lab-'));
  const publishDir = join(dir, 'publish');
  const dataDir = join(dir, 'agent');
  const storeDir = join(dataDir, 'content');
  const key = generateManifestKeyPair();
  const published: PublishedRelease[] = [];
  for (const r of args.releases) {
    published.push(
      await publishRelease({
        dir: publishDir,
        layers: r.layers,
        key,
        name: 'debian-initramfs',
        version: r.version,
      }),
    );
  }
  const contentPort = await freeTcpPort();
  const responderPort = await freeUdpPort();
  let endpointPort = args.endpointPort ? await args.endpointPort(contentPort) : contentPort;
  const sitePath = join(dir, 'site.json');
  const writeSite = (digest: string) =>
    writeFile(
      sitePath,
      JSON.stringify({
        subnets: [{ id: 'lab', cidr: '10.77.0.0/24' }],
        hosts: [{ mac: CLIENT_MAC, ip: '10.77.0.10', manifest: digest }],
        manifests: published.map((p) => ({ digest: p.digest, name: p.manifest.release.version })),
        endpoints: [{ kind: 'http2', address: '127.0.0.1', port: endpointPort, id: 1 }],
      }),
    );
  await writeSite(published[0]!.digest);
  const configPath = join(dir, 'agent.json');
  await writeFile(
    configPath,
    JSON.stringify({
      agentId: 'lab-agent',
      dataDir,
      log: { level: 'info' },
      metrics: { enabled: false },
      responder: {
        loopback: true,
        port: responderPort,
        turbo: { keys: [{ id: 1, secret: '00112233445566778899aabbccddeeff' }], maxPacingDelayMs: 0 },
      },
      backend: { kind: 'file', path: sitePath },
      content: {
        enabled: true,
        port: contentPort,
        upstream: { kind: 'directory', path: publishDir },
        trustedKeys: [{ publicKey: key.publicKeyRaw, state: 'active' }],
      },
    }),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', AGENT_BIN, '--config', configPath],
    { env: { ...process.env, NODE_NO_WARNINGS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const logs = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const waitFor = async (msg: string, count: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (logs().filter((l) => l.msg === msg).length < count) {
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(
          `agent did not log "${msg}" (exit ${child.exitCode}):\n${out.slice(-4000)}\n${err.slice(-4000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  await waitFor('agent started', 1, 120_000);
  const fingerprint = (await readFile(join(storeDir, 'tls', 'fingerprint'), 'utf8')).trim();
  let reloads = 0;
  return {
    dir,
    publishDir,
    storeDir,
    key,
    releases: published,
    contentPort,
    fingerprint,
    logs,
    async assign(digest, options = {}) {
      if (options.endpointPort !== undefined) endpointPort = options.endpointPort;
      await writeSite(digest);
      child.kill('SIGHUP');
      await waitFor('site data reloaded', ++reloads, 10_000);
    },
    clientConfig(overrides = {}) {
      return parseClientConfig({
        mac: CLIENT_MAC,
        server: '127.0.0.1',
        serverPort: responderPort,
        clientPort: 0,
        windowMs: 300,
        maxRounds: 3,
        backoffInitialMs: 200,
        cacheDir: join(dir, 'client-cache'),
        outputDir: join(dir, 'client-out'),
        trustedKeys: [{ publicKey: key.publicKeyRaw, state: 'active' }],
        tls: { fingerprint },
        logLevel: 'silent',
        ...overrides,
      });
    },
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
