import {
  createSecureServer,
  constants,
  type Http2SecureServer,
  type ServerHttp2Session,
  type ServerHttp2Stream,
  type IncomingHttpHeaders,
} from 'node:http2';
import { open, type FileHandle } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { isDigest } from '@bootpt/protocol';
import { clientReportSchema, type ReportBuffer } from './reports.js';
import type { ContentKind, ContentStore } from './store.js';
import type { TlsMaterial } from './tls.js';

/**
 * The content server: HTTP/2 over TLS (no HTTP/1.1, no cleartext).
 *
 *   GET|HEAD /v1/manifests/<digest>        signed manifest envelope
 *   GET|HEAD /v1/indexes/<digest>          encoded chunk index
 *   GET|HEAD /v1/chunks/<digest>           chunk bytes; `br` when the client accepts it and no Range is asked
 *   GET|HEAD /v1/deltas/<from>/<to>/<part> one part of the static delta between two releases
 *                                          (`deltas.ts`; parts 0..STATIC_DELTA_PARTS-1), always `br`
 *   POST     /v1/reports                   a client's boot report (JSON), 202
 *
 * Content is immutable (named by digest): `cache-control: public, max-age=31536000, immutable`, an ETag
 * of the digest, and single byte ranges (`Range: bytes=a-b`, `a-`, `-n`) answered with 206 or 416.
 */

const {
  HTTP2_HEADER_METHOD: METHOD,
  HTTP2_HEADER_PATH: PATH,
  HTTP2_HEADER_STATUS: STATUS,
  HTTP2_HEADER_CONTENT_TYPE: CONTENT_TYPE,
  HTTP2_HEADER_CONTENT_LENGTH: CONTENT_LENGTH,
} = constants;

const TYPES: Record<ContentKind, string> = {
  manifests: 'application/vnd.bootpt.manifest.v1+json',
  indexes: 'application/vnd.bootpt.chunk-index.v1',
  chunks: 'application/octet-stream',
};

const ROUTE = /^\/v1\/(manifests|indexes|chunks)\/([0-9a-f]{64})$/;
const DELTA_ROUTE = /^\/v1\/deltas\/([0-9a-f]{64})\/([0-9a-f]{64})\/(\d{1,3})$/;

export interface ContentServerOptions {
  readonly store: ContentStore;
  readonly tls: TlsMaterial;
  readonly host: string;
  readonly port: number;
  readonly reports: ReportBuffer;
  readonly maxReportBytes: number;
  readonly log: Logger;
}

/** Parses a single `bytes=` range against `size`; null = whole body, 'invalid' = 416. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | 'invalid' {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'invalid';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return 'invalid';
  return { start, end };
}

export class ContentServer {
  private server: Http2SecureServer | undefined;
  private readonly sessions = new Set<ServerHttp2Session>();
  /** Counters for the content API: requests by route kind and status, bytes of bodies sent. */
  readonly stats = { requests: 0, bodyBytes: 0, notFound: 0 };

  constructor(private readonly options: ContentServerOptions) {}

  async start(): Promise<void> {
    const { tls, host, port } = this.options;
    const server = createSecureServer({
      cert: tls.cert,
      key: tls.key,
      allowHTTP1: false,
      settings: { initialWindowSize: 8 * 1024 * 1024, maxConcurrentStreams: 256 },
    });
    server.on('session', (session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      session.on('error', () => undefined);
    });
    server.on('stream', (stream, headers) => {
      this.handle(stream, headers).catch((err: unknown) => {
        this.options.log.warn({ err }, 'content request failed');
        if (!stream.headersSent && !stream.destroyed) this.respond(stream, 500);
        else stream.destroy();
      });
    });
    server.on('error', (err) => this.options.log.error({ err }, 'content server error'));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.options.log.info(
      { host, port: this.port(), fingerprint: tls.fingerprint },
      'content server listening',
    );
  }

  port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sessions) s.close();
    const timer = setTimeout(() => {
      for (const s of this.sessions) s.destroy();
    }, 2000);
    await closed;
    clearTimeout(timer);
  }

  private respond(stream: ServerHttp2Stream, status: number, body?: string): void {
    if (stream.destroyed) return;
    stream.respond({ [STATUS]: status, [CONTENT_TYPE]: 'text/plain; charset=utf-8' });
    stream.end(body ?? '');
  }

  private async handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    this.stats.requests++;
    const method = headers[METHOD];
    const rawPath = headers[PATH];
    const path = typeof rawPath === 'string' ? rawPath : '';
    if (path === '/v1/reports') {
      if (method !== 'POST') return this.respond(stream, 405);
      return this.acceptReport(stream);
    }
    const delta = DELTA_ROUTE.exec(path);
    if (delta) {
      if (method !== 'GET' && method !== 'HEAD') return this.respond(stream, 405);
      return this.serveDelta(stream, method, delta[1]!, delta[2]!, Number(delta[3]));
    }
    const m = ROUTE.exec(path.split('?')[0]!);
    if (!m) return this.respond(stream, 404, 'not found\n');
    if (method !== 'GET' && method !== 'HEAD') return this.respond(stream, 405);
    const kind = m[1] as ContentKind;
    const digest = m[2]!;
    if (!isDigest(digest)) return this.respond(stream, 404);
    const rangeHeader = headers.range;
    const acceptsBr =
      kind === 'chunks' &&
      rangeHeader === undefined &&
      /\bbr\b/.test(String(headers['accept-encoding'] ?? ''));
    const base = this.options.store.path(kind, digest);
    let file = acceptsBr ? await open(`${base}.br`).catch(() => null) : null;
    const encoded = file !== null;
    file ??= await open(base).catch(() => null);
    if (!file) {
      this.stats.notFound++;
      return this.respond(stream, 404, 'not found\n');
    }
    try {
      const size = (await file.stat()).size;
      const common = {
        [CONTENT_TYPE]: TYPES[kind],
        'cache-control': 'public, max-age=31536000, immutable',
        etag: `"${digest}"`,
        'accept-ranges': 'bytes',
        ...(kind === 'chunks' ? { vary: 'accept-encoding' } : {}),
      };
      const range = encoded
        ? null
        : parseRange(typeof rangeHeader === 'string' ? rangeHeader : undefined, size);
      if (range === 'invalid') {
        stream.respond({ [STATUS]: 416, 'content-range': `bytes */${size}` });
        stream.end();
        return;
      }
      const start = range?.start ?? 0;
      const length = range ? range.end - range.start + 1 : size;
      const head = {
        ...common,
        [STATUS]: range ? 206 : 200,
        [CONTENT_LENGTH]: length,
        ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${size}` } : {}),
        ...(encoded ? { 'content-encoding': 'br' } : {}),
      };
      if (method === 'HEAD') {
        stream.respond(head, { endStream: true });
        return;
      }
      const body = Buffer.allocUnsafe(length);
      const { bytesRead } = await file.read(body, 0, length, start);
      stream.respond(head);
      stream.end(body.subarray(0, bytesRead));
      this.stats.bodyBytes += bytesRead;
    } finally {
      await file.close();
    }
  }

  private async serveDelta(
    stream: ServerHttp2Stream,
    method: string,
    from: string,
    to: string,
    part: number,
  ): Promise<void> {
    // Streamed from the file (not read whole first): the headers and first bytes leave at once, so a
    // client can start decoding while the rest is still being read.
    // A part the store does not have (deltaPath refuses its number) is a 404 like a missing file.
    let file: FileHandle | null = null;
    try {
      file = await open(this.options.store.deltaPath(from, to, part));
    } catch {
      // answered 404 below
    }
    if (!file) {
      this.stats.notFound++;
      return this.respond(stream, 404, 'no such delta\n');
    }
    let handedOff = false;
    try {
      const size = (await file.stat()).size;
      const head = {
        [STATUS]: 200,
        [CONTENT_TYPE]: 'application/vnd.bootpt.delta.v1',
        [CONTENT_LENGTH]: size,
        'content-encoding': 'br',
        'cache-control': 'public, max-age=31536000, immutable',
        etag: `"${from}-${to}.${part}"`,
      };
      if (method === 'HEAD') {
        stream.respond(head, { endStream: true });
        return;
      }
      if (stream.destroyed) return;
      stream.respondWithFD(file, head, { length: size });
      handedOff = true;
      stream.once('close', () => void file.close());
      this.stats.bodyBytes += size;
    } finally {
      if (!handedOff) await file.close();
    }
  }

  private async acceptReport(stream: ServerHttp2Stream): Promise<void> {
    const parts: Buffer[] = [];
    let size = 0;
    const complete = await new Promise<boolean>((resolve) => {
      stream.on('data', (part: Buffer) => {
        size += part.length;
        if (size <= this.options.maxReportBytes) parts.push(part);
        else resolve(false);
      });
      stream.once('end', () => resolve(true));
      stream.once('error', () => resolve(false));
    });
    if (!complete || size > this.options.maxReportBytes)
      return this.respond(stream, 413, 'report too large\n');
    let json: unknown;
    try {
      json = JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch {
      return this.respond(stream, 400, 'report is not JSON\n');
    }
    const parsed = clientReportSchema.safeParse(json);
    if (!parsed.success) {
      return this.respond(stream, 400, `invalid report: ${parsed.error.issues[0]?.message ?? ''}\n`);
    }
    const report = {
      ...parsed.data,
      receivedAt: Date.now(),
      from: stream.session?.socket.remoteAddress ?? '',
    };
    this.options.reports.record(report);
    this.options.log.info(
      {
        mac: report.mac,
        manifest: report.manifestDigest,
        verdict: report.verdict,
        outcome: report.outcome,
        decision: report.decision,
        bytes: report.bytes,
        totalMs: report.totalMs,
        error: report.error?.code,
        delivery: report.delivery,
      },
      'client report',
    );
    this.respond(stream, 202, 'accepted\n');
  }
}
