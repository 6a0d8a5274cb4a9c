import pino from 'pino';

/** JSON logs to stdout; secrets are redacted wherever they may appear in a logged object. */
export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: process.env.BOOTPT_SERVICE ?? 'web' },
  redact: {
    paths: [
      'password',
      '*.password',
      'token',
      '*.token',
      'secret',
      '*.secret',
      'privateKey',
      '*.privateKey',
      'headers.authorization',
      'headers.cookie',
    ],
    censor: '[redacted]',
  },
});
