import { readFileSync } from 'node:fs';
import type * as Http2 from 'node:http2';
import type * as Net from 'node:net';
import type { Readable } from 'node:stream';
import type * as Tls from 'node:tls';
import type * as Zlib from 'node:zlib';
import { ClientError } from './errors.js';

/**
 * One HTTP/2-over-TLS session to a content server. TLS trust is either a pinned SHA-256 certificate
 * fingerprint (the agent publishes it; self-signed certificates are fine) or a CA file; the pin is
 * checked on the handshake before any request goes out. Bytes are counted on the raw TCP socket, so
 * `wireBytes()` is everything this session put on or took off the network: TLS records, HTTP/2 frames,
 * headers and bodies.
 */

type Modules = readonly [typeof Http2, typeof Net, typeof Tls, typeof Zlib];
let modules: Promise<Modules> | null = null;

/**
 * Node's http2, net, tls and zlib, loaded on first use rather than at start-up (about 10 ms of module
 * loading before the first discover otherwise). The client calls it once its first discover is out, so
 * they load while it waits for offers.
 */
export function loadTransport(): Promise<Modules> {
  modules ??= Promise.all([
    import('node:http2'),
    import('node:net'),
    import('node:tls'),
    import('node:zlib'),
  ]);
  return modules;
}

// HTTP/2 header names (RFC 9113 pseudo-headers, RFC 9110 fields) as node:http2 spells them.
const PATH = ':path';
const METHOD = ':method';
const STATUS = ':status';
const ACCEPT_ENCODING = 'accept-encoding';
const CONTENT_ENCODING = 'content-encoding';
const CONTENT_TYPE = 'content-type';

export interface TlsTrust {
  readonly fingerprint?: string;
  readonly caFile?: string;
  readonly servername: string;
}

export interface FetchedBody {
  readonly status: number;
  readonly body: Buffer;
}

export interface StreamedBody {
  readonly status: number;
  /** The body as it arrives: brotli decoded on the thread pool unless `decode` was false. */
  readonly body: Readable;
  /** Whether `body` is still brotli (only with `decode: false`). */
  readonly brotli: boolean;
}

/** Decoder output pieces: large enough that a consumer handles few of them. */
const DECODE_CHUNK = 256 * 1024;

function normalizeFingerprint(text: string): string {
  return text.replace(/:/g, '').toLowerCase();
}

export class ContentSession {
  private constructor(
    private readonly raw: Net.Socket,
    private readonly session: Http2.ClientHttp2Session,
    private readonly zlib: typeof Zlib,
    readonly authority: string,
  ) {}

  static async open(
    address: string,
    port: number,
    trust: TlsTrust,
    timeoutMs = 10_000,
  ): Promise<ContentSession> {
    const [http2, net, tlsModule, zlib] = await loadTransport();
    const raw = net.connect({ host: address, port });
    raw.setNoDelay(true);
    const ca = trust.caFile ? readFileSync(trust.caFile) : undefined;
    const tls: Tls.TLSSocket = tlsModule.connect({
      socket: raw,
      ALPNProtocols: ['h2'],
      servername: trust.servername,
      ...(ca ? { ca } : {}),
      // With a pin the certificate chain is not what we trust: the fingerprint check below is.
      rejectUnauthorized: trust.fingerprint === undefined,
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        tls.destroy();
        reject(new ClientError('CLIENT_ERR_HTTP', `TLS handshake with ${address}:${port} timed out`));
      }, timeoutMs);
      tls.once('secureConnect', () => {
        clearTimeout(timer);
        resolve();
      });
      tls.once('error', (err: Error) => {
        clearTimeout(timer);
        reject(
          new ClientError('CLIENT_ERR_HTTP', `cannot reach ${address}:${port}: ${err.message}`, {
            cause: err,
          }),
        );
      });
    });
    if (trust.fingerprint !== undefined) {
      const seen = normalizeFingerprint(tls.getPeerCertificate().fingerprint256 ?? '');
      if (seen !== normalizeFingerprint(trust.fingerprint)) {
        tls.destroy();
        throw new ClientError(
          'CLIENT_ERR_TLS_PIN_MISMATCH',
          `content server ${address}:${port} presented certificate ${seen}, pinned ${normalizeFingerprint(trust.fingerprint)}`,
        );
      }
    }
    if (tls.alpnProtocol !== 'h2') {
      tls.destroy();
      throw new ClientError('CLIENT_ERR_HTTP', `content server ${address}:${port} does not speak HTTP/2`);
    }
    const authority = `https://${address}:${port}`;
    const session = http2.connect(authority, {
      createConnection: () => tls,
      settings: { initialWindowSize: 8 * 1024 * 1024, enablePush: false },
    });
    session.on('error', () => undefined); // surfaced per request
    await new Promise<void>((resolve) => {
      if (session.connecting) session.once('connect', () => resolve());
      else resolve();
    });
    session.setLocalWindowSize(64 * 1024 * 1024);
    return new ContentSession(raw, session, zlib, authority);
  }

  /** Bytes through the TCP socket so far: what this session moved on the wire, framing included. */
  wireBytes(): { read: number; written: number } {
    return { read: this.raw.bytesRead, written: this.raw.bytesWritten };
  }

  /** GET `path`; accepts brotli (decoded here). Resolves for any status; the caller checks it. */
  get(path: string): Promise<FetchedBody> {
    return this.request(path, { [ACCEPT_ENCODING]: 'br' });
  }

  /**
   * GET `path` as a stream: resolves with the status once the response headers arrive; the body is
   * decoded while it is received. The caller consumes or destroys `body`. `weight` is the stream's
   * HTTP/2 priority weight (a bulk stream asks for less so small requests beside it are not queued
   * behind its data).
   */
  stream(path: string, options: { decode?: boolean; weight?: number } = {}): Promise<StreamedBody> {
    return new Promise<StreamedBody>((resolve, reject) => {
      const stream = this.session.request(
        { [PATH]: path, [ACCEPT_ENCODING]: 'br' },
        // HTTP/2 priority (RFC 7540 §5.3, 1-256, default 16): a server shares the connection between
        // streams with data by weight.
        options.weight === undefined ? {} : { weight: options.weight },
      );
      const fail = (err: Error) =>
        reject(
          new ClientError('CLIENT_ERR_HTTP', `${path} on ${this.authority}: ${err.message}`, { cause: err }),
        );
      stream.once('error', fail);
      stream.once('response', (h) => {
        stream.off('error', fail);
        const status = Number(h[STATUS]);
        const ce = h[CONTENT_ENCODING];
        if (ce === 'br' && options.decode === false) {
          resolve({ status, body: stream, brotli: true });
        } else if (ce === 'br') {
          const decoder = this.zlib.createBrotliDecompress({ chunkSize: DECODE_CHUNK });
          stream.on('error', (err: Error) => decoder.destroy(err));
          resolve({ status, body: stream.pipe(decoder), brotli: false });
        } else if (ce === undefined || ce === 'identity') {
          resolve({ status, body: stream, brotli: false });
        } else {
          stream.destroy();
          reject(new ClientError('CLIENT_ERR_HTTP', `${path}: unexpected content-encoding ${String(ce)}`));
        }
      });
      stream.end();
    });
  }

  post(path: string, json: unknown): Promise<FetchedBody> {
    return this.request(
      path,
      { [METHOD]: 'POST', [CONTENT_TYPE]: 'application/json' },
      Buffer.from(JSON.stringify(json)),
    );
  }

  private request(path: string, headers: Record<string, string>, body?: Buffer): Promise<FetchedBody> {
    return new Promise<FetchedBody>((resolve, reject) => {
      const stream = this.session.request({ [PATH]: path, ...headers });
      const parts: Buffer[] = [];
      let status = 0;
      let encoding: string | undefined;
      stream.on('response', (h) => {
        status = Number(h[STATUS]);
        const ce = h[CONTENT_ENCODING];
        encoding = typeof ce === 'string' ? ce : undefined;
      });
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('error', (err: Error) =>
        reject(
          new ClientError('CLIENT_ERR_HTTP', `${path} on ${this.authority}: ${err.message}`, { cause: err }),
        ),
      );
      stream.on('end', () => {
        const raw = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        if (encoding === 'br') {
          this.zlib.brotliDecompress(raw, (err, decoded) => {
            if (err) reject(new ClientError('CLIENT_ERR_HTTP', `${path}: bad brotli body: ${err.message}`));
            else resolve({ status, body: decoded });
          });
        } else if (encoding === undefined || encoding === 'identity') {
          resolve({ status, body: raw });
        } else {
          reject(new ClientError('CLIENT_ERR_HTTP', `${path}: unexpected content-encoding ${encoding}`));
        }
      });
      stream.end(body);
    });
  }

  async close(): Promise<void> {
    if (this.session.closed) return;
    await new Promise<void>((resolve) => this.session.close(() => resolve()));
    this.raw.destroy();
  }
}
