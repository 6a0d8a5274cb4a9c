/**
 * Delta update benchmark (issue 7): the same pair of realistic images (Debian initramfs releases from
 * `tests/images`, about 105 MB each; release 2 updates six packages and adds nine) updated three ways,
 * every byte counted at the socket by one TCP proxy each tool talks through:
 *
 * - bootpt: the client updating release 1 → 2 from the agent's HTTP/2-over-TLS content server
 *   (manifest, chunk indexes, chunks, TLS records and HTTP/2 framing, the report excluded);
 * - zsync: `zsyncmake` on the new file, `zsync -i old` against a local HTTP/1.1 server with multi-range
 *   support (the .zsync control file included);
 * - rsync: `rsync --stats` from an `rsync --daemon` on loopback onto a copy of the old file.
 *
 * Also: chunking (indexing) and assembly speed, end-to-end update time (median of several runs of each,
 * all three as processes: the client executable's process wall time without the DHCP exchange, the
 * tools' process wall time; see `clientProcess`), process start-up, and the warm-cache decision time.
 * The client runs as users run it: `dist/bootpt-client`, the executable started from a V8 startup
 * snapshot, built here from the same build step as `npm run build` (a failed build fails the bench).
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { LayerIndexer, assembleLayer, type ChunkIndex } from '@bootpt/protocol';
import { BootClient, type BootResult } from '../../apps/client/src/client.js';
import type { ClientConfig } from '../../apps/client/src/config.js';
import {
  buildClientExecutable,
  clientArgv,
  freeTcpPort,
  startLab,
} from '../../apps/client/src/testing/lab.js';
import { PUBLISH_CHUNKING } from '../images/publish.js';
import { releasePair } from '../images/releases.js';
import { median, result, which, type BenchResult, type Benchmark } from './lib.js';

const BENCH = 'delta';
const log = pino({ level: 'silent' });

interface Counter {
  port: number;
  bytes(): number;
  reset(): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy to `target` counting every byte both ways. */
async function countingProxy(target: number): Promise<Counter> {
  let total = 0;
  const server: Server = createServer((down) => {
    const up = connect({ host: '127.0.0.1', port: target });
    down.on('data', (d: Buffer) => (total += d.length));
    up.on('data', (d: Buffer) => (total += d.length));
    down.pipe(up);
    up.pipe(down);
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    bytes: () => total,
    reset: () => (total = 0),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Static files over HTTP/1.1 with single and multiple byte ranges (multipart/byteranges), as zsync needs. */
async function rangeServer(dir: string): Promise<{ port: number; server: HttpServer }> {
  const server = createHttpServer((req, res) => {
    void (async () => {
      const path = join(dir, (req.url ?? '/').replace(/^\/+/, '').replace(/\.\./g, ''));
      const size = await stat(path).then(
        (s) => s.size,
        () => -1,
      );
      if (size < 0) {
        res.writeHead(404).end();
        return;
      }
      const spec = /^bytes=(.+)$/.exec(req.headers.range ?? '');
      if (!spec) {
        res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' });
        createReadStream(path).pipe(res);
        return;
      }
      const ranges = spec[1]!.split(',').map((r) => {
        const [a, b] = r.trim().split('-');
        const start = a === '' ? size - Number(b) : Number(a);
        const end = a === '' || b === '' ? size - 1 : Math.min(Number(b), size - 1);
        return { start, end };
      });
      // Only the asked ranges are read (as a static file server does), not the whole file per request.
      const fh = await open(path, 'r');
      const read = async (start: number, end: number) => {
        const buf = Buffer.allocUnsafe(end - start + 1);
        const { bytesRead } = await fh.read(buf, 0, buf.length, start);
        return buf.subarray(0, bytesRead);
      };
      try {
        if (ranges.length === 1) {
          const { start, end } = ranges[0]!;
          res.writeHead(206, {
            'content-range': `bytes ${start}-${end}/${size}`,
            'content-length': end - start + 1,
          });
          res.end(await read(start, end));
          return;
        }
        const boundary = 'bptboundary';
        const parts: Buffer[] = [];
        for (const { start, end } of ranges) {
          parts.push(
            Buffer.from(
              `\r\n--${boundary}\r\ncontent-type: application/octet-stream\r\ncontent-range: bytes ${start}-${end}/${size}\r\n\r\n`,
            ),
            await read(start, end),
          );
        }
        parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
        const body = Buffer.concat(parts);
        res.writeHead(206, {
          'content-type': `multipart/byteranges; boundary=${boundary}`,
          'content-length': body.length,
        });
        res.end(body);
      } finally {
        await fh.close();
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as { port: number }).port, server };
}

/** Runs a tool without blocking the event loop (the servers and proxies it talks to live in this process). */
function runTool(cmd: string, args: string[], cwd: string): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve({ ms, stdout: output });
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${output.slice(-2000)}`));
    });
  });
}

/** The DHCP exchange (discover + offer window) of a boot, which zsync and rsync have no counterpart for. */
function dhcpMs(r: BootResult): number {
  return r.timeline
    .filter((p) => p.phase === 'discover' || p.phase === 'offer')
    .reduce((n, p) => n + p.durationMs, 0);
}

/**
 * One boot as users run it: the client executable (`dist/bootpt-client`) as a child process. `ms` is the
 * process wall time (spawn to exit: Node's start from the client's snapshot, cache check, manifest,
 * indexes, delta, assembly, hand-off, exit) minus the DHCP exchange; like the tools' figures, it includes
 * process start and connection set-up (TLS here).
 */
async function clientProcess(
  exe: string,
  config: ClientConfig,
  cwd: string,
): Promise<{ ms: number; wallMs: number; result: BootResult }> {
  const run = await runTool(exe, clientArgv(config), cwd);
  const result = JSON.parse(run.stdout) as BootResult;
  return { ms: run.ms - dhcpMs(result), wallMs: run.ms, result };
}

function mbps(bytes: number, ms: number): number {
  return Number((bytes / 1e6 / (ms / 1000)).toFixed(1));
}

/** Median wall time of starting the client executable and the two tools with a no-op argument. */
async function processStartups(
  exe: string,
  work: string,
): Promise<{ bootpt: number; zsync: number; rsync: number }> {
  const time = async (cmd: string, args: string[]): Promise<number> => {
    const ms: number[] = [];
    for (let i = 0; i < 7; i++) ms.push((await runTool(cmd, args, work)).ms);
    return Math.round(median(ms));
  };
  return {
    bootpt: await time(exe, ['--help']),
    zsync: await time('zsync', ['-V']),
    rsync: await time('rsync', ['--version']),
  };
}

const bench: Benchmark = async ({ quick }) => {
  for (const tool of ['zsync', 'zsyncmake', 'rsync']) {
    // Looked up, not run: zsyncmake has no --version and reads it as `-o n`, writing a file named n.
    if (!which(tool)) {
      throw new Error(`${tool} not installed (apt-get install zsync rsync)`);
    }
  }
  const { first, second } = await releasePair();
  const image = second.initramfs.length;
  const out: BenchResult[] = [];
  const work = await mkdtemp(join(tmpdir(), 'bpt-delta-bench-'));
  const exe = join(work, 'bootpt-client');
  buildClientExecutable(exe);
  let proxy: Counter | undefined;
  const lab = await startLab({
    releases: [first, second],
    endpointPort: async (contentPort) => {
      proxy = await countingProxy(contentPort);
      return proxy.port;
    },
  });
  try {
    // --- chunking and assembly speed (in memory, the protocol package the client and publisher use) ---
    const base = second.layers[0]!.bytes;
    const reps = quick ? 1 : 3;
    const chunkMs: number[] = [];
    let index: ChunkIndex | undefined;
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const indexer = new LayerIndexer(PUBLISH_CHUNKING);
      indexer.update(base);
      index = indexer.finish();
      chunkMs.push(performance.now() - t0);
    }
    if (!index) throw new Error('no index');
    const layerIndex = index;
    const chunks = new Map(index.chunks.map((c) => [c.digest, base.subarray(c.offset, c.offset + c.length)]));
    const asmMs: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const assembled = assembleLayer(
        {
          layerIndex: 0,
          digest: layerIndex.layerDigest,
          size: layerIndex.layerSize,
          mediaType: 'cpio',
          chunks: layerIndex.chunks,
        },
        (d) => chunks.get(d),
      );
      asmMs.push(performance.now() - t0);
      if (!assembled.ok) throw new Error(assembled.error.message);
    }
    out.push(
      result(
        BENCH,
        'chunking (FastCDC + SHA-256 index)',
        mbps(base.length, median(chunkMs)),
        'MB/s',
        'higher',
      ),
    );
    out.push(
      result(
        BENCH,
        'assembly (verify chunks + layer, in memory)',
        mbps(base.length, median(asmMs)),
        'MB/s',
        'higher',
      ),
    );

    // --- bootpt: cold boot on release 1 (not measured), then the update to release 2 ---
    const config = lab.clientConfig({ report: false });
    await new BootClient(config, log).run();
    await lab.assign(lab.releases[1]!.digest);
    proxy!.reset();
    const update = await new BootClient(config, log).run();
    const ourBytes = proxy!.bytes();
    if (update.decision !== 'update' || update.verdict !== 'stale')
      throw new Error('update did not run as a delta');
    // Timing as users run it (the executable as a process, see `clientProcess`) and without the counting
    // proxy in the path: back to release 1, then the same update again straight to the content server;
    // `runs` times, like each tool below, and the median taken. The set-up boots run as processes too.
    const runs = quick ? 1 : 5;
    const ours: { ms: number; wallMs: number; result: BootResult }[] = [];
    for (let i = 0; i < runs; i++) {
      await lab.assign(lab.releases[0]!.digest, { endpointPort: lab.contentPort });
      await clientProcess(exe, config, work);
      await lab.assign(lab.releases[1]!.digest);
      const r = await clientProcess(exe, config, work);
      if (r.result.decision !== 'update' || r.result.bytes.chunks !== update.bytes.chunks)
        throw new Error('timed update differs');
      ours.push(r);
    }
    const ourMs = median(ours.map((r) => r.ms));
    const timed = ours.find((r) => r.ms === ourMs)!;

    // --- warm-cache decision (several boots) ---
    const warm: number[] = [];
    for (let i = 0; i < (quick ? 3 : 7); i++) {
      const r = await new BootClient(config, log).run();
      if (r.decision !== 'cache' || r.bytes.wire !== 0) throw new Error('warm boot moved bytes');
      warm.push(r.warmDecisionMs!);
    }

    // --- zsync ---
    const zdir = join(work, 'zsync');
    await mkdir(join(zdir, 'srv'), { recursive: true });
    await writeFile(join(zdir, 'srv', 'initramfs'), second.initramfs);
    const http = await rangeServer(join(zdir, 'srv'));
    const zproxy = await countingProxy(http.port);
    await runTool('zsyncmake', ['-u', 'initramfs', '-o', 'srv/initramfs.zsync', 'srv/initramfs'], zdir);
    await writeFile(join(zdir, 'seed'), first.initramfs);
    zproxy.reset();
    await runTool(
      'zsync',
      ['-q', '-i', 'seed', '-o', 'initramfs', `http://127.0.0.1:${zproxy.port}/initramfs.zsync`],
      zdir,
    );
    const zBytes = zproxy.bytes();
    // Timing straight to the server (no proxy hop), from the old file again, `runs` times.
    const zRuns: number[] = [];
    for (let i = 0; i < runs; i++) {
      await rm(join(zdir, 'initramfs'), { force: true });
      const z = await runTool(
        'zsync',
        ['-q', '-i', 'seed', '-o', 'initramfs', `http://127.0.0.1:${http.port}/initramfs.zsync`],
        zdir,
      );
      zRuns.push(z.ms);
    }
    const zTimed = { ms: median(zRuns) };
    if (!(await readFile(join(zdir, 'initramfs'))).equals(second.initramfs))
      throw new Error('zsync result differs');
    await zproxy.close();
    await new Promise<void>((r) => http.server.close(() => r()));

    // --- rsync (daemon on loopback) ---
    const rdir = join(work, 'rsync');
    await mkdir(join(rdir, 'srv'), { recursive: true });
    await mkdir(join(rdir, 'dst'), { recursive: true });
    await writeFile(join(rdir, 'srv', 'initramfs'), second.initramfs);
    await writeFile(join(rdir, 'dst', 'initramfs'), first.initramfs);
    const rport = await freeTcpPort();
    await writeFile(
      join(rdir, 'rsyncd.conf'),
      `use chroot = no\nport = ${rport}\naddress = 127.0.0.1\npid file = ${join(rdir, 'rsyncd.pid')}\n[img]\npath = ${join(rdir, 'srv')}\nread only = yes\n`,
    );
    const daemon = spawn('rsync', ['--daemon', '--no-detach', `--config=${join(rdir, 'rsyncd.conf')}`], {
      stdio: 'ignore',
    });
    let rBytes = 0;
    let rMs = 0;
    const rRuns: number[] = [];
    let rReceived = 0;
    try {
      await new Promise((r) => setTimeout(r, 500));
      const rproxy = await countingProxy(rport);
      const r = await runTool(
        'rsync',
        ['--stats', '--no-whole-file', `rsync://127.0.0.1:${rproxy.port}/img/initramfs`, 'dst/initramfs'],
        rdir,
      );
      rBytes = rproxy.bytes();
      // Timing straight to the daemon (no proxy hop), from the old file again, `runs` times.
      for (let i = 0; i < runs; i++) {
        await writeFile(join(rdir, 'dst', 'initramfs'), first.initramfs);
        const rTimed = await runTool(
          'rsync',
          ['--stats', '--no-whole-file', `rsync://127.0.0.1:${rport}/img/initramfs`, 'dst/initramfs'],
          rdir,
        );
        rRuns.push(rTimed.ms);
      }
      rMs = median(rRuns);
      rReceived = Number(/Total bytes received: ([\d,]+)/.exec(r.stdout)?.[1]?.replace(/,/g, '') ?? 0);
      await rproxy.close();
      if (!(await readFile(join(rdir, 'dst', 'initramfs'))).equals(second.initramfs))
        throw new Error('rsync result differs');
    } finally {
      daemon.kill('SIGTERM');
    }

    const pct = (b: number) =>
      `${((100 * b) / image).toFixed(1)}% of the ${(image / 1e6).toFixed(1)} MB image`;
    out.push(
      result(
        BENCH,
        'update bytes on the wire',
        ourBytes,
        'bytes',
        'lower',
        { zsync: zBytes, rsync: rBytes },
        `bootpt ${pct(ourBytes)}; zsync ${pct(zBytes)}; rsync ${pct(rBytes)} (its --stats: ${rReceived} received); ` +
          `${update.chunks.fetched}/${update.chunks.total} chunks fetched, ${update.bytes.chunks} B before brotli`,
      ),
    );
    out.push(
      result(
        BENCH,
        'end-to-end update time (client process, without the DHCP exchange)',
        Math.round(ourMs),
        'ms',
        'lower',
        { zsync: Math.round(zTimed.ms), rsync: Math.round(rMs) },
        `median of ${runs} runs each (bootpt ${ours.map((r) => Math.round(r.ms)).join('/')}, ` +
          `zsync ${zRuns.map(Math.round).join('/')}, rsync ${rRuns.map(Math.round).join('/')} ms); ` +
          `bootpt: process wall time of the executable dist/bootpt-client (Node single executable started ` +
          `from the client's V8 startup snapshot: start, update, exit) minus only its DHCP discover+offer ` +
          `(${Math.round(timed.wallMs)} ms with them), ` +
          `tools: process wall time; process start-up + exit outside the client's own clock ` +
          `${Math.round(timed.wallMs - timed.result.totalMs)} ms; median run's phases (start+duration ms on ` +
          `the client's clock, transfer and verify overlap) ` +
          timed.result.timeline
            .map((p) => `${p.phase} ${Math.round(p.startMs)}+${Math.round(p.durationMs)}`)
            .join(', '),
      ),
    );
    // The start-up alone, which the row above includes: the client executable against the tools' own.
    const startup = await processStartups(exe, work);
    out.push(
      result(
        BENCH,
        'client process start-up (single-file bundle, --help)',
        startup.bootpt,
        'ms',
        'lower',
        { zsync: startup.zsync, rsync: startup.rsync },
        "median of 7 starts each: dist/bootpt-client --help (Node single executable with the client's " +
          'V8 startup snapshot), zsync -V, rsync --version; included in the update time row',
      ),
    );
    out.push(
      result(
        BENCH,
        'warm-cache boot decision (after the offer)',
        Number(median(warm).toFixed(2)),
        'ms',
        'lower',
        {},
        `median of ${warm.length}; target < 50 ms`,
      ),
    );
    return out;
  } finally {
    await lab.close();
    await proxy?.close();
    await rm(work, { recursive: true, force: true });
  }
};

export default bench;
