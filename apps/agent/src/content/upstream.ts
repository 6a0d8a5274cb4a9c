import { readFile } from 'node:fs/promises';
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { brotliDecompress } from 'node:zlib';
import type { Digest } from '@bootpt/protocol';
import { isDigest } from '@bootpt/protocol';
import type { UpstreamConfig } from './config.js';
import { ContentError, type ContentKind } from './store.js';

/**
 * Where the store syncs from. Returns bytes or null (absent); never trusted: the store verifies every
 * object on write. `DirectoryUpstream` reads a publish directory (the image tooling writes one);
 * `Http2Upstream` speaks the content API of another agent (later: the control plane).
 */
export interface Upstream {
  readonly label: string;
  get(kind: ContentKind, digest: Digest): Promise<Uint8Array | null>;
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

export function createUpstream(config: UpstreamConfig): Upstream {
  return config.kind === 'directory' ? new DirectoryUpstream(config.path) : new Http2Upstream(config);
}
