import { TrustedKeySchema } from '@bootpt/protocol';
import { z } from 'zod';

/**
 * The `content` section of the agent's configuration (wired into `config/schema.ts`): the local
 * content-addressed store, where it syncs from, and the HTTP/2-over-TLS server clients fetch from.
 * Off by default.
 */

const port = z.number().int().min(0).max(65535);
const digest = z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 digest (64 lower-case hex digits)');

export const upstreamSchema = z.discriminatedUnion('kind', [
  /** A publish directory (same layout as the store): `manifests/`, `indexes/`, `chunks/`. */
  z.object({ kind: z.literal('directory'), path: z.string().min(1) }).strict(),
  /** Another content server (an agent, later the control plane) speaking the same `/v1/...` API. */
  z
    .object({
      kind: z.literal('http2'),
      url: z.url(),
      fingerprint: z
        .string()
        .transform((s) => s.replace(/:/g, '').toLowerCase())
        .pipe(z.string().regex(/^[0-9a-f]{64}$/))
        .optional(),
      caFile: z.string().min(1).optional(),
    })
    .strict(),
]);

export const contentConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Store directory; default `<dataDir>/content`. */
    dir: z.string().min(1).optional(),
    host: z.string().min(1).default('127.0.0.1'),
    /** 0 = ephemeral (tests). */
    port: port.default(8443),
    /** PEM files; when absent a self-signed certificate is generated once under the store's `tls/`. */
    tls: z
      .object({ certFile: z.string().min(1).optional(), keyFile: z.string().min(1).optional() })
      .strict()
      .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
        message: 'set both tls.certFile and tls.keyFile, or neither',
      })
      .default({}),
    /** Keep a brotli copy of each chunk that shrinks, served to clients that accept `br`. */
    compress: z.boolean().default(true),
    upstream: upstreamSchema.optional(),
    /** Manifests to pull at start besides those the site data names. */
    manifests: z.array(digest).max(1024).default([]),
    /** When set, synced manifests must verify against these keys before anything is pulled. */
    trustedKeys: z.array(TrustedKeySchema).max(64).default([]),
    syncConcurrency: z.number().int().min(1).max(256).default(16),
    /** Where assembled files (`<manifest>/kernel`, `<manifest>/initramfs`) are exported, e.g. the TFTP root. */
    exportDir: z.string().min(1).optional(),
    /** Largest accepted client report body. */
    maxReportBytes: z.number().int().min(1024).max(1_048_576).default(65_536),
    /** Client reports kept in memory for inspection (they also go to the boot-event ring). */
    reportCapacity: z.number().int().min(1).max(100_000).default(1000),
  })
  .strict();

export type ContentConfig = z.infer<typeof contentConfigSchema>;
export type UpstreamConfig = z.infer<typeof upstreamSchema>;
