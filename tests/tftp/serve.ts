/**
 * Runs only the agent's TFTP service, for tests and benchmarks that need it inside a network namespace:
 * `node --conditions=source --import tsx tests/tftp/serve.ts '<tftp config JSON>'`. Prints
 * `tftp ready <port>` once bound; SIGTERM closes it. Logs (pino JSON) go to stderr.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { tftpConfigSchema } from '../../apps/agent/src/tftp/config.js';
import { TftpService } from '../../apps/agent/src/tftp/service.js';

const config = tftpConfigSchema.parse({ enabled: true, ...JSON.parse(process.argv[2] ?? '{}') });
const registry = new Registry();
const log = pino({ level: process.env.TFTP_LOG_LEVEL ?? 'warn' }, pino.destination(2));
const service = new TftpService({ config, registry, log });
await service.start();
process.stdout.write(`tftp ready ${service.ports[0]}\n`);

const stop = (): void => {
  void service.close().then(async () => {
    if (process.env.TFTP_PRINT_METRICS) process.stdout.write(await registry.metrics());
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
