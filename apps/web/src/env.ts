import { z } from 'zod';

/**
 * The web app's and worker's configuration, validated once. Everything else imports `env` from here
 * instead of reading process.env. All problems are reported together in one message.
 */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: z.string().url({ message: 'must be a postgresql:// URL' }),
  REDIS_URL: z.string().url({ message: 'must be a redis:// URL' }),
  NEXTAUTH_SECRET: z.string().min(16, 'must be at least 16 characters'),
  NEXTAUTH_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  OIDC_ISSUER: z.string().url().optional(),
  OIDC_CLIENT_ID: z.string().optional(),
  OIDC_CLIENT_SECRET: z.string().optional(),
  OIDC_NAME: z.string().default('Single sign-on'),
  BOOTPT_BLOB_DIR: z.string().optional(),
  BOOTPT_KEY_ENCRYPTION_KEY: z.string().optional(),
  /**
   * Target chunk size for layer indexing (a power of two; min = avg/4, max = avg*4). 16 KiB suits
   * initramfs updates, which touch many small files. Changing it only affects layers indexed afterwards.
   */
  BOOTPT_CHUNK_AVG_SIZE: z.coerce
    .number()
    .int()
    .refine(
      (n) => n >= 1024 && n <= 1 << 24 && (n & (n - 1)) === 0,
      'must be a power of two, 1 KiB to 16 MiB',
    )
    .default(16384),
});

export type Env = z.infer<typeof schema>;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration: ${issues.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`));
  }
  return Object.freeze(parsed.data);
}

let cached: Env | undefined;

/** The validated environment, parsed on first use (so `next build` can import modules without it). */
export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}
