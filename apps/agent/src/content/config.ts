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
  /** Another agent's content server speaking the same `/v1/...` API over HTTP/2. */
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
  /**
   * The control plane's agent content API (`<url>/api/agent/v1/...`, HTTP/1.1 over TLS), authenticated
   * with an API token holding `release.read` (`token`, `tokenFile`, or BOOTPT_AGENT_CONTROL_PLANE_TOKEN).
   */
  z
    .object({
      kind: z.literal('control-plane'),
      /** Base URL of the control plane, e.g. `https://bootpt.example.org`. */
      url: z.url({ protocol: /^https?$/ }),
      token: z.string().min(1).max(4096).optional(),
      /** A file holding the token (trailing whitespace ignored), read when the service starts. */
      tokenFile: z.string().min(1).optional(),
      /** PEM CA bundle (or the control plane's self-signed certificate) replacing the system CAs. */
      caFile: z.string().min(1).optional(),
      /** `http://` URLs are refused unless set: the token and the trusted keys would travel in clear. */
      allowPlaintext: z.boolean().default(false),
      /**
       * Which manifests to pull besides `content.manifests` and the site data's: every published
       * release (`published`), those assigned to the hosts of `site` (`site`: boot-profile entries and
       * desired releases), or none (`none`).
       */
      manifests: z.enum(['published', 'site', 'none']).default('published'),
      /** Site id (UUID) for `manifests: "site"`. */
      site: z.uuid().optional(),
      /** Fetch the control plane's manifest-signing trust set and verify manifests against it. */
      trustKeys: z.boolean().default(true),
      /**
       * When non-empty, only the control plane's keys whose raw public key (base64url, 43 characters, as
       * the trust set lists it) is here are used: the pin, not the channel, is then the trust root.
       */
      pinnedKeys: z
        .array(z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected a raw Ed25519 public key in base64url'))
        .max(64)
        .default([]),
      /** Per request: connect, and every idle gap while receiving. */
      timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
      /** Retries of a request after a transient failure (network error, 408, 429, 5xx), with backoff. */
      retries: z.number().int().min(0).max(10).default(4),
      /** Largest manifest or chunk index accepted (chunks must have the length their index says). */
      maxObjectBytes: z
        .number()
        .int()
        .min(1024)
        .max(1 << 30)
        .default(64 << 20),
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
    /** Seconds between syncs after the first (0: only at start and on SIGHUP). */
    syncIntervalSec: z.number().int().min(0).max(86_400).default(300),
    /** Where assembled files (`<manifest>/kernel`, `<manifest>/initramfs`) are exported, e.g. the TFTP root. */
    exportDir: z.string().min(1).optional(),
    /** Largest accepted client report body. */
    maxReportBytes: z.number().int().min(1024).max(1_048_576).default(65_536),
    /** Client reports kept in memory for inspection (they also go to the boot-event ring). */
    reportCapacity: z.number().int().min(1).max(100_000).default(1000),
  })
  .strict()
  .superRefine((c, ctx) => {
    const up = c.upstream;
    if (up?.kind !== 'control-plane') return;
    const problem = (message: string, key: string) =>
      ctx.addIssue({ code: 'custom', message, path: ['upstream', key] });
    if (up.token === undefined && up.tokenFile === undefined)
      problem('set token, tokenFile or BOOTPT_AGENT_CONTROL_PLANE_TOKEN', 'token');
    if (up.url.startsWith('http:') && !up.allowPlaintext)
      problem('an http:// control plane needs allowPlaintext: true (token and keys travel in clear)', 'url');
    if (up.manifests === 'site' && up.site === undefined) problem('manifests: "site" needs site', 'site');
  });

export type ContentConfig = z.infer<typeof contentConfigSchema>;
export type UpstreamConfig = z.infer<typeof upstreamSchema>;
