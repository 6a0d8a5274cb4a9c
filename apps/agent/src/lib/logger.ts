import { pino, type Logger } from 'pino';

/**
 * JSON logs to stdout (pino). The destination is asynchronous for throughput; `closeLogger` flushes it
 * and is the last step of shutdown. Anything that looks like a credential is redacted.
 */
export function createLogger(options: { level: string; agentId: string }): Logger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 0 });
  return pino(
    {
      level: options.level,
      base: { agent: options.agentId },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['*.token', '*.password', '*.secret', '*.authorization', 'token', 'password'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

export async function closeLogger(log: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    log.flush((err) => {
      if (err) process.stderr.write(`log flush failed: ${err.message}\n`);
      resolve();
    });
  });
}
