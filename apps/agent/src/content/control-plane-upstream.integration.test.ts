import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { contentConfigSchema, upstreamSchema } from './config.js';
import { ContentError } from './store.js';
import { loadOrCreateTls } from './tls.js';
import { ControlPlaneUpstream, UpstreamAuthError, createUpstream } from './upstream.js';

/**
 * The control-plane upstream's HTTP behaviour against a scripted node:http server on loopback: status
 * mapping, retries with backoff, size limits cut off at the socket, timeouts, the token sent as a
 * Bearer credential and kept out of errors, keep-alive reuse. (The real route handler is exercised in
 * tests/agent/control-plane-sync.integration.test.ts.)
 */
const TOKEN = `bpt_${randomBytes(16).toString('hex')}`;
const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let handler: Handler;
let seen: { url: string; auth: string | undefined; socket: number }[] = [];
const sockets = new Map<object, number>();
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (!sockets.has(req.socket)) sockets.set(req.socket, sockets.size);
    seen.push({ url: req.url ?? '', auth: req.headers.authorization, socket: sockets.get(req.socket)! });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
afterEach(() => {
  seen = [];
});

function upstream(overrides: Record<string, unknown> = {}) {
  const config = upstreamSchema.parse({
    kind: 'control-plane',
    url,
    token: TOKEN,
    allowPlaintext: true,
    timeoutMs: 500,
    retries: 3,
    ...overrides,
  });
  if (config.kind !== 'control-plane') throw new Error('unreachable');
  return new ControlPlaneUpstream(config, TOKEN, { concurrency: 4, backoffMs: 5 });
}

describe('ControlPlaneUpstream', () => {
  it('fetches with the Bearer token over one keep-alive connection; 404 is absent', async () => {
    const chunk = randomBytes(5000);
    handler = (req, res) => {
      if (req.url === `/api/agent/v1/chunks/${digest(chunk)}`) res.end(chunk);
      else res.writeHead(404).end('{}');
    };
    const up = upstream();
    try {
      expect(Buffer.from((await up.get('chunks', digest(chunk)))!).equals(chunk)).toBe(true);
      expect(await up.get('chunks', 'a'.repeat(64))).toBeNull();
      expect(await up.get('indexes', digest(chunk))).toBeNull();
      expect(seen.map((s) => s.auth)).toEqual(Array(3).fill(`Bearer ${TOKEN}`));
      expect(new Set(seen.map((s) => s.socket)).size).toBe(1);
    } finally {
      await up.close();
    }
  });

  it('maps 401 and 403 to a clear error naming the permission, without retrying or leaking the token', async () => {
    for (const status of [401, 403] as const) {
      handler = (_req, res) => res.writeHead(status).end('{"code":"X"}');
      const up = upstream();
      const err = await up.get('chunks', 'b'.repeat(64)).catch((e: unknown) => e);
      await up.close();
      expect(err).toBeInstanceOf(UpstreamAuthError);
      expect((err as UpstreamAuthError).status).toBe(status);
      expect((err as Error).message).toContain(status === 401 ? 'API token' : 'release.read');
      expect((err as Error).message).not.toContain(TOKEN);
      expect(seen).toHaveLength(1);
      seen = [];
    }
  });

  it('retries 503, resets and cut-short bodies with backoff, then succeeds', async () => {
    const chunk = randomBytes(20_000);
    let n = 0;
    handler = (req, res) => {
      n++;
      if (n === 1) res.writeHead(503).end();
      else if (n === 2) req.socket.destroy();
      else if (n === 3) {
        res.writeHead(200, { 'content-length': String(chunk.length) });
        res.write(chunk.subarray(0, 1000));
        setTimeout(() => res.socket?.destroy(), 10);
      } else res.end(chunk);
    };
    const up = upstream();
    try {
      expect(Buffer.from((await up.get('chunks', digest(chunk)))!).equals(chunk)).toBe(true);
      expect(n).toBe(4);
    } finally {
      await up.close();
    }
  });

  it('gives up after the configured retries with the last error', async () => {
    handler = (_req, res) => res.writeHead(502).end();
    const up = upstream({ retries: 2 });
    try {
      await expect(up.get('chunks', 'c'.repeat(64))).rejects.toThrow(/HTTP 502/);
      expect(seen).toHaveLength(3);
    } finally {
      await up.close();
    }
  });

  it('refuses a body longer than the limit, declared or streamed, without retrying', async () => {
    const big = randomBytes(64 * 1024);
    for (const declare of [true, false]) {
      handler = (_req, res) => {
        if (declare) res.writeHead(200, { 'content-length': String(big.length) });
        res.write(big.subarray(0, 32 * 1024));
        res.end(big.subarray(32 * 1024));
      };
      const up = upstream();
      const err = await up.get('chunks', digest(big), { maxBytes: 1000 }).catch((e: unknown) => e);
      await up.close();
      expect(err).toBeInstanceOf(ContentError);
      expect((err as Error).message).toMatch(/limit/);
      expect(seen).toHaveLength(1);
      seen = [];
    }
  });

  it('times out a stalled response and retries it', async () => {
    let n = 0;
    const chunk = randomBytes(100);
    handler = (_req, res) => {
      if (++n === 1) res.writeHead(200, { 'content-length': '100' }).write(chunk.subarray(0, 10));
      else res.end(chunk);
    };
    const up = upstream({ timeoutMs: 200 });
    try {
      expect(Buffer.from((await up.get('chunks', digest(chunk)))!).equals(chunk)).toBe(true);
      expect(n).toBe(2);
    } finally {
      await up.close();
    }
  });

  it('stops at once when aborted', async () => {
    handler = () => undefined; // never answers
    const up = upstream({ timeoutMs: 60_000 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('stop')), 50);
    try {
      await expect(up.get('chunks', 'd'.repeat(64), { signal: abort.signal })).rejects.toThrow('stop');
    } finally {
      await up.close();
    }
  });

  it('stops at once when aborted while waiting to retry, with the abort reason', async () => {
    handler = (_req, res) => res.writeHead(503, { 'retry-after': '30' }).end();
    const up = upstream();
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('stop')), 100);
    const started = Date.now();
    try {
      await expect(up.get('chunks', 'd'.repeat(64), { signal: abort.signal })).rejects.toThrow('stop');
      expect(seen).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await up.close();
    }
  });

  it('lists manifests page by page and validates the bodies', async () => {
    const digests = Array.from({ length: 3 }, () => digest(randomBytes(8)));
    handler = (req, res) => {
      const q = new URL(req.url!, 'http://x').searchParams;
      expect(q.get('site')).toBe('0195b7a4-1d6e-7000-8000-000000000001');
      const after = q.get('after');
      const start = after ? digests.indexOf(after) + 1 : 0;
      const page = digests.slice(start, start + 2);
      const next = start + 2 < digests.length ? page.at(-1) : null;
      res.end(JSON.stringify({ manifests: page.map((d) => ({ digest: d, version: 'x' })), next }));
    };
    const up = upstream({ manifests: 'site', site: '0195b7a4-1d6e-7000-8000-000000000001' });
    try {
      expect(await up.listManifests()).toEqual(digests);
      handler = (_req, res) => res.end('{"manifests":[{"digest":"../x"}],"next":null}');
      await expect(up.listManifests()).rejects.toThrow(/unexpected body/);
    } finally {
      await up.close();
    }
  });
});

describe('control-plane upstream config', () => {
  const base = { enabled: true, upstream: { kind: 'control-plane', url: 'https://cp.example', token: 't' } };
  it('needs a token, TLS unless allowPlaintext, and a site for manifests: site', () => {
    expect(contentConfigSchema.safeParse(base).success).toBe(true);
    const problems = (upstream: Record<string, unknown>) => {
      const r = contentConfigSchema.safeParse({ ...base, upstream: { ...base.upstream, ...upstream } });
      return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    };
    expect(problems({ token: undefined })).toEqual(['upstream.token']);
    expect(problems({ url: 'http://cp.example' })).toEqual(['upstream.url']);
    expect(problems({ url: 'http://cp.example', allowPlaintext: true })).toEqual([]);
    expect(problems({ manifests: 'site' })).toEqual(['upstream.site']);
    expect(problems({ url: 'ftp://cp.example' })).toEqual(['upstream.url']);
    expect(problems({ pinnedKeys: ['3f2a9c0d1e4b5a67'] })).toEqual(['upstream.pinnedKeys.0']);
  });
});

describe('ControlPlaneUpstream over TLS', () => {
  it('verifies the certificate against caFile; an unverified one fails at once, not after retries', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bpt-cp-tls-'));
    const tls = await loadOrCreateTls({ dir });
    const body = randomBytes(3000);
    let hits = 0;
    const secure = createHttpsServer({ cert: tls.cert, key: tls.key }, (_req, res) => {
      hits++;
      res.end(body);
    });
    let connections = 0;
    secure.on('connection', () => connections++);
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
    const secureUrl = `https://127.0.0.1:${(secure.address() as AddressInfo).port}`;
    await writeFile(join(dir, 'ca.pem'), tls.cert);
    const make = (caFile?: string) =>
      createUpstream(
        upstreamSchema.parse({
          kind: 'control-plane',
          url: secureUrl,
          token: TOKEN,
          retries: 3,
          ...(caFile ? { caFile } : {}),
        }),
        { concurrency: 2 },
      );
    try {
      const trusted = await make(join(dir, 'ca.pem'));
      expect(Buffer.from((await trusted.get('chunks', digest(body)))!).equals(body)).toBe(true);
      await trusted.close();
      expect([hits, connections]).toEqual([1, 1]);
      const untrusted = await make();
      await expect(untrusted.get('chunks', digest(body))).rejects.toThrow(/TLS: .*caFile/);
      await untrusted.close();
      expect([hits, connections]).toEqual([1, 2]); // one handshake, no retries, no request
    } finally {
      secure.closeAllConnections();
      await new Promise((resolve) => secure.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
