import { randomInt, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { pino } from 'pino';
import { BootClient } from '../client.js';
import { USAGE, loadClientConfig, wantsHelp } from '../config.js';
import { ClientError } from '../errors.js';
import { nativeReceive } from '../tftp-read.js';

/**
 * The `bootpt-client` command, shared by its entries: `bootpt-client.ts` (run as a script, and bundled
 * into `dist/bootpt-client.mjs`) and `snapshot.ts` (the executable started from a V8 startup snapshot,
 * `dist/bootpt-client`). Nothing here runs at load: everything that depends on the run (argv, env,
 * clock, pid, the log destination) is read inside `main`, after a snapshot is deserialized.
 */

/** How the client was started: as a script / bundle, or from a snapshot made at build time. */
export interface Entry {
  readonly kind: 'script' | 'snapshot';
  /** For a snapshot: Date.now() when its builder loaded the client (frozen into the snapshot). */
  readonly builtAt?: number;
}

/** Exit codes: 0 booted (or kexec loaded), 1 boot failed, 64 usage, 78 configuration. */
export async function main(entry: Entry): Promise<number> {
  const argv = process.argv.slice(2);
  if (process.env[PROBE_ENV] === '1') {
    process.stdout.write(`${JSON.stringify(runtimeProbe(entry))}\n`);
    return 0;
  }
  if (wantsHelp(argv)) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let config;
  try {
    config = loadClientConfig(argv, process.env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return (err as Error).message.includes('usage:') ? 64 : 78;
  }
  const log = pino(
    { level: config.logLevel, base: { svc: 'bootpt-client' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 2, sync: true }),
  );
  try {
    const result = await new BootClient(config, log).run();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (err) {
    const code = err instanceof ClientError ? err.code : 'CLIENT_ERR_BOOT';
    log.error({ err, code }, 'boot failed');
    process.stdout.write(
      `${JSON.stringify({ ok: false, error: { code, message: (err as Error).message } })}\n`,
    );
    return 1;
  }
}

/** Runs `main` and sets the process's exit code (not a top-level await: bundles run it as CommonJS). */
export function start(entry: Entry): void {
  void main(entry).then((code) => {
    process.exitCode = code;
  });
}

/**
 * `BOOTPT_CLIENT_PROBE=1`: instead of booting, print what this run sees of the values a startup snapshot
 * could have frozen at build time (clock, randomness, process identity, env, argv, a log line's time),
 * one JSON line. The snapshot tests start the executable twice and compare (`snapshot.integration.test.ts`).
 */
const PROBE_ENV = 'BOOTPT_CLIENT_PROBE';

export interface RuntimeProbe {
  entry: Entry;
  pid: number;
  ppid: number;
  hostname: string;
  argv: string[];
  cwd: string;
  /** BOOTPT_CLIENT_PROBE_VALUE as this run's environment has it. */
  env: string | null;
  timeOrigin: number;
  now: number;
  date: number;
  /** Math.random() four times (V8's generator, seeded per isolate). */
  random: number[];
  /** crypto.randomInt as the DHCP xid uses it (Node's random byte pool), and a random UUID. */
  xid: number;
  uuid: string;
  /** Which group receive path a TFTP group fetch would take: the add-on found beside the entry, or node:dgram. */
  tftpReceive: 'native' | 'js';
  /** The time field of a line logged the way `main` logs (pino, isoTime), as epoch ms. */
  logTime: number;
}

function runtimeProbe(entry: Entry): RuntimeProbe {
  const lines: string[] = [];
  const log = pino(
    { base: { svc: 'bootpt-client' }, timestamp: pino.stdTimeFunctions.isoTime },
    { write: (line: string) => void lines.push(line) },
  );
  log.info('probe');
  return {
    entry,
    pid: process.pid,
    ppid: process.ppid,
    hostname: hostname(),
    argv: process.argv.slice(2),
    cwd: process.cwd(),
    env: process.env.BOOTPT_CLIENT_PROBE_VALUE ?? null,
    timeOrigin: performance.timeOrigin,
    now: performance.now(),
    date: Date.now(),
    random: [Math.random(), Math.random(), Math.random(), Math.random()],
    xid: randomInt(0, 0x1_0000_0000),
    uuid: randomUUID(),
    tftpReceive: nativeReceive() ? 'native' : 'js',
    logTime: Date.parse((JSON.parse(lines[0]!) as { time: string }).time),
  };
}
