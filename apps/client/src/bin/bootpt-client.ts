#!/usr/bin/env node
import { pino } from 'pino';
import { BootClient } from '../client.js';
import { USAGE, loadClientConfig, wantsHelp } from '../config.js';
import { ClientError } from '../errors.js';

/** Exit codes: 0 booted (or kexec loaded), 1 boot failed, 64 usage, 78 configuration. */
async function main(): Promise<number> {
  const argv = process.argv.slice(2);
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

// Not a top-level await: the single-file build runs this as CommonJS (bin/launcher.ts).
void main().then((code) => {
  process.exitCode = code;
});
