import { readFile } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { brotliDecompress } from 'node:zlib';
import type { Digest, TrustedKeyInput } from '@bootpt/protocol';
import { isDigest } from '@bootpt/protocol';
import { z } from 'zod';
import type { UpstreamConfig } from './config.js';
import { ContentError, type ContentKind } from './store.js';

/**
 * Where the store syncs from. Returns bytes or null (absent); never trusted: the store verifies every
 * object on write. `DirectoryUpstream` reads a publish directory (the image tooling writes one);
 * `Http2Upstream` speaks the content API of another agent; `ControlPlaneUpstream` the control plane's
 * agent API, which can also list the manifests to pull and its manifest-signing trust set.
 */
export interface GetOptions {
  /** Refuse a body longer than this (a chunk's length from its index, else a configured limit). */
  readonly maxBytes?: number;
  readonly signal?: AbortSignal;
}

export interface Upstream {
  readonly label: string;
  get(kind: ContentKind, digest: Digest, options?: GetOptions): Promise<Uint8Array | null>;
  /** Manifest digests this upstream says the agent should hold (control plane only). */
  listManifests?(signal?: AbortSignal): Promise<Digest[]>;
  /** The upstream's manifest-signing trust set (control plane only); not authenticated by itself. */
  trustedKeys?(signal?: AbortSignal): Promise<TrustedKeyInput[]>;
  close(): Promise<void>;
}

export class DirectoryUpstream implements Upstream {
  readonly label: string;
  constructor(private readonly dir: string) {
    this.label = `dir:${dir}`;
  }

  async get(kind: ContentKind, digest: Digest): Promise<Uint8Array | null> {
    if (!isDigest(digest)) return null;
    try {
      return await readFile(join(this.dir, kind, digest));
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {}
}

const unbrotli = promisify(brotliDecompress);

export class Http2Upstream implements Upstream {
  readonly label: string;
  private session: ClientHttp2Session | undefined;

  constructor(private readonly config: Extract<UpstreamConfig, { kind: 'http2' }>) {
    this.label = config.url;
  }

  private async connect(): Promise<ClientHttp2Session> {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const url = new URL(this.config.url);
    const pin = this.config.fingerprint;
    const ca = this.config.caFile ? await readFile(this.config.caFile) : undefined;
    const socket = tlsConnect({
      host: url.hostname,
      port: Number(url.port || 443),
      ALPNProtocols: ['h2'],
      servername: url.hostname,
      ...(ca ? { ca } : {}),
      rejectUnauthorized: pin === undefined,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const seen = (socket.getPeerCertificate().fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
    if (pin !== undefined && seen !== pin) {
      socket.destroy();
      throw new ContentError(
        'CONTENT_ERR_UPSTREAM',
        `upstream ${this.config.url} certificate ${seen} is not the pinned one`,
      );
    }
    const session = connect(this.config.url, { createConnection: () => socket });
    session.on('error', () => undefined);
    this.session = session;
    return session;
  }

  async get(kind: ContentKind, digest: Digest): Promise<Uint8Array | null> {
    if (!isDigest(digest)) return null;
    const session = await this.connect();
    return new Promise((resolve, reject) => {
      const stream = session.request({
        [constants.HTTP2_HEADER_PATH]: `/v1/${kind}/${digest}`,
        [constants.HTTP2_HEADER_ACCEPT_ENCODING]: 'br',
      });
      const parts: Buffer[] = [];
      let status = 0;
      let encoding: unknown;
      stream.on('response', (h) => {
        status = Number(h[constants.HTTP2_HEADER_STATUS]);
        encoding = h[constants.HTTP2_HEADER_CONTENT_ENCODING];
      });
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('error', (err: Error) =>
        reject(new ContentError('CONTENT_ERR_UPSTREAM', `${this.label}: ${err.message}`)),
      );
      stream.on('end', () => {
        if (status === 404) return resolve(null);
        if (status !== 200) {
          return reject(
            new ContentError('CONTENT_ERR_UPSTREAM', `${this.label} /v1/${kind}/${digest}: HTTP ${status}`),
          );
        }
        const body = Buffer.concat(parts);
        if (encoding === 'br') unbrotli(body).then(resolve, reject);
        else resolve(body);
      });
      stream.end();
    });
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (s && !s.closed) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** The control plane refused the credentials (401) or the permission (403): retrying cannot help. */
export class UpstreamAuthError extends ContentError {
  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super('CONTENT_ERR_UPSTREAM', message);
    this.name = 'UpstreamAuthError';
  }
}

/** A failure worth retrying: network errors, timeouts, 408/429/5xx. */
class TransientError extends ContentError {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super('CONTENT_ERR_UPSTREAM', message);
  }
}

const TLS_VERIFY_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH/;
const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const MAX_BACKOFF_MS = 10_000;
const LIST_PAGE = 500;
/** Pages of the manifest list read per sync (500 each): a bound, not an expected size. */
const MAX_LIST_PAGES = 200;

const manifestPage = z.object({
  manifests: z.array(z.object({ digest: z.string().refine(isDigest, 'not a digest') })).max(10_000),
  next: z.string().nullable(),
});
const trustedKeysBody = z.object({ keys: z.array(z.record(z.string(), z.unknown())).max(1024) });

/** 404 is not an error (absent): callers handle it before. */
function statusError(where: string, status: number, retryAfter: string | string[] | undefined): Error | null {
  if (status === 404) return null;
  if (status === 401 || status === 403) {
    const why =
      status === 401
        ? 'the control plane does not accept the API token (missing, unknown, expired or revoked)'
        : "the API token's role lacks the release.read permission";
    return new UpstreamAuthError(status, `${where}: HTTP ${status}: ${why}`);
  }
  if (RETRY_STATUS.has(status)) {
    const seconds = Number(retryAfter);
    return new TransientError(
      `${where}: HTTP ${status}`,
      Number.isFinite(seconds) ? seconds * 1000 : undefined,
    );
  }
  return new ContentError('CONTENT_ERR_UPSTREAM', `${where}: HTTP ${status}`);
}

type ControlPlaneConfig = Extract<UpstreamConfig, { kind: 'control-plane' }>;

/**
 * The control plane's agent content API over HTTP/1.1 (what `next start` speaks), with TLS unless
 * `allowPlaintext`. One keep-alive agent with at most `concurrency` sockets; every request carries the
 * API token as a Bearer credential (never logged, never in an error message). 404 → absent; 401/403 →
 * `UpstreamAuthError` naming `release.read`; network errors, timeouts, 408/429/5xx → retried with
 * exponential backoff and jitter. Bodies stream into memory up to a limit (a chunk's exact length from
 * its index): a longer body is cut off and refused, never buffered whole.
 */
export class ControlPlaneUpstream implements Upstream {
  readonly label: string;
  private readonly base: URL;
  private readonly agent: HttpAgent;
  private readonly secure: boolean;
  private readonly backoffMs: number;

  constructor(
    private readonly config: ControlPlaneConfig,
    private readonly token: string,
    options: { concurrency: number; ca?: Buffer | undefined; backoffMs?: number },
  ) {
    this.base = new URL(config.url.endsWith('/') ? config.url : `${config.url}/`);
    this.base.username = '';
    this.base.password = '';
    this.label = this.base.origin;
    this.secure = this.base.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: options.concurrency, maxFreeSockets: 4 };
    this.agent = this.secure
      ? new HttpsAgent({ ...agentOptions, ...(options.ca ? { ca: options.ca } : {}) })
      : new HttpAgent(agentOptions);
    this.backoffMs = options.backoffMs ?? 250;
  }

  async get(kind: ContentKind, digest: Digest, options: GetOptions = {}): Promise<Uint8Array | null> {
    if (!isDigest(digest)) return null;
    return this.fetch(`api/agent/v1/${kind}/${digest}`, options);
  }

  async listManifests(signal?: AbortSignal): Promise<Digest[]> {
    const out: Digest[] = [];
    let after: string | null = null;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const query = new URLSearchParams({ limit: String(LIST_PAGE) });
      if (after) query.set('after', after);
      if (this.config.manifests === 'site' && this.config.site) query.set('site', this.config.site);
      const body = await this.fetchJson(`api/agent/v1/manifests?${query.toString()}`, manifestPage, signal);
      out.push(...body.manifests.map((m) => m.digest));
      if (body.next === null) return out;
      after = body.next;
    }
    throw new ContentError('CONTENT_ERR_UPSTREAM', `${this.label}: manifest list longer than expected`);
  }

  async trustedKeys(signal?: AbortSignal): Promise<TrustedKeyInput[]> {
    const body = await this.fetchJson('api/agent/v1/trusted-keys', trustedKeysBody, signal);
    // Only the fields the trust store knows; anything else the control plane adds is ignored.
    return body.keys.map((k) => ({
      publicKey: String(k.publicKey),
      state: k.state as TrustedKeyInput['state'],
      ...(typeof k.keyId === 'string' ? { keyId: k.keyId } : {}),
      ...(typeof k.retiredAt === 'string' ? { retiredAt: k.retiredAt } : {}),
    }));
  }

  private async fetchJson<T>(path: string, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T> {
    const bytes = await this.fetch(path, {
      maxBytes: this.config.maxObjectBytes,
      ...(signal ? { signal } : {}),
    });
    if (!bytes)
      throw new ContentError('CONTENT_ERR_UPSTREAM', `${this.label}/${path.split('?')[0]}: not found`);
    let parsed: z.ZodSafeParseResult<T>;
    try {
      parsed = schema.safeParse(JSON.parse(Buffer.from(bytes).toString('utf8')));
    } catch {
      throw new ContentError('CONTENT_ERR_UPSTREAM', `${this.label}/${path.split('?')[0]}: not JSON`);
    }
    if (!parsed.success)
      throw new ContentError('CONTENT_ERR_UPSTREAM', `${this.label}/${path.split('?')[0]}: unexpected body`);
    return parsed.data;
  }

  /** One logical request: retried on transient failures, `null` on 404. */
  private async fetch(path: string, options: GetOptions): Promise<Uint8Array | null> {
    const maxBytes = options.maxBytes ?? this.config.maxObjectBytes;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(path, maxBytes, options.signal);
      } catch (err) {
        if (!(err instanceof TransientError) || attempt >= this.config.retries || options.signal?.aborted)
          throw err;
        const backoff = Math.min(this.backoffMs * 2 ** attempt, MAX_BACKOFF_MS);
        const wait = Math.max(err.retryAfterMs ?? 0, backoff * (0.5 + Math.random() / 2));
        // An abort rejects with its own reason, as a request in flight does (not Node's AbortError).
        await delay(Math.min(wait, MAX_BACKOFF_MS), undefined, { signal: options.signal }).catch(
          (e: unknown) => {
            throw options.signal?.reason ?? e;
          },
        );
      }
    }
  }

  private once(path: string, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array | null> {
    const url = new URL(path, this.base);
    const where = `${this.label}${url.pathname}`;
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | null, value: Uint8Array | null = null) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (err) {
          req.destroy();
          reject(err);
        } else resolve(value);
      };
      const onAbort = () => settle(signal!.reason as Error);
      if (signal?.aborted) return reject(signal.reason as Error);
      const req = (this.secure ? httpsRequest : httpRequest)(url, {
        agent: this.agent,
        headers: { authorization: `Bearer ${this.token}`, 'accept-encoding': 'identity' },
      });
      // Attached first and never removed: a destroyed request may still report its socket's end.
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A certificate that does not verify will not verify on a retry either.
        if (TLS_VERIFY_ERROR.test(err.code ?? '')) {
          const hint = 'check caFile and the URL host name';
          return settle(new ContentError('CONTENT_ERR_UPSTREAM', `${where}: TLS: ${err.message} (${hint})`));
        }
        settle(new TransientError(`${where}: ${err.message}`));
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      req.setTimeout(this.config.timeoutMs, () =>
        settle(new TransientError(`${where}: no data for ${this.config.timeoutMs} ms`)),
      );
      req.on('close', () => settle(new TransientError(`${where}: connection closed`)));
      req.on('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          res.resume();
          return settle(statusError(where, status, res.headers['retry-after']));
        }
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (declared > maxBytes)
          return settle(
            new ContentError('CONTENT_ERR_UPSTREAM', `${where}: ${declared} bytes, limit ${maxBytes}`),
          );
        const parts: Buffer[] = [];
        let received = 0;
        res.on('data', (d: Buffer) => {
          received += d.length;
          if (received <= maxBytes) parts.push(d);
          else
            settle(
              new ContentError('CONTENT_ERR_UPSTREAM', `${where}: body over the limit of ${maxBytes} bytes`),
            );
        });
        res.on('error', (err: Error) => settle(new TransientError(`${where}: ${err.message}`)));
        res.on('end', () => {
          if (!res.complete) settle(new TransientError(`${where}: response cut short`));
          else settle(null, Buffer.concat(parts, received));
        });
      });
      req.end();
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

/** Reads the token file and CA bundle of a control-plane upstream (hence async). */
export async function createUpstream(
  config: UpstreamConfig,
  options: { concurrency: number },
): Promise<Upstream> {
  switch (config.kind) {
    case 'directory':
      return new DirectoryUpstream(config.path);
    case 'http2':
      return new Http2Upstream(config);
    case 'control-plane': {
      const token =
        config.token ?? (config.tokenFile ? (await readFile(config.tokenFile, 'utf8')).trim() : undefined);
      if (!token) throw new ContentError('CONTENT_ERR_UPSTREAM', `${config.url}: no API token configured`);
      const ca = config.caFile ? await readFile(config.caFile) : undefined;
      return new ControlPlaneUpstream(config, token, { concurrency: options.concurrency, ca });
    }
  }
}
