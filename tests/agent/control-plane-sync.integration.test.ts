import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTrustStore,
  decodeChunkIndex,
  decodeSignedManifest,
  encodeSignedManifest,
  openSignedManifest,
  type Digest,
} from '@bootpt/protocol';
import { contentConfigSchema, upstreamSchema } from '../../apps/agent/src/content/config.js';
import { ContentService } from '../../apps/agent/src/content/service.js';
import { ContentStore } from '../../apps/agent/src/content/store.js';
import { syncManifest } from '../../apps/agent/src/content/sync.js';
import { Http2Upstream, UpstreamAuthError, createUpstream } from '../../apps/agent/src/content/upstream.js';
import type { PrismaClient } from '../../apps/web/src/generated/prisma/client';
import type { Identity } from '../../apps/web/src/server/api/identity';
import { disconnectDb, getDb } from '../../apps/web/src/server/db/client';
import { GET as getContent, LIST } from '../../apps/web/src/server/images/content-route';
import { bareDigest } from '../../apps/web/src/server/images/deps';
import { createTestImageDeps, type TestImageDeps } from '../../apps/web/src/server/images/testing';
import { GET as getTrustedKeys } from '../../apps/web/src/server/images/trusted-keys-route';
import { PATCH } from '../../apps/web/src/server/images/upload-route';
import { createToken } from '../../apps/web/src/server/services/tokens';
import {
  actorFor,
  callerFor,
  createTestUser,
  runId,
  testNetwork,
  userIdentity,
} from '../../apps/web/src/server/testing/fixtures';

/**
 * Issue 7: an agent syncing from the control plane. The real route handlers (content-route GET/LIST,
 * trusted-keys) run behind a small node:http adapter on 127.0.0.1, over real PostgreSQL, with
 * releases uploaded, indexed and published through the real server code. The agent side is the real
 * ContentService (store, control-plane upstream, HTTP/2 server).
 */
const log = pino({ level: 'silent' });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const KiB = 1024;

let db: PrismaClient;
let deps: TestImageDeps;
let operator: Identity;
/** The agent's token: a VIEWER role is enough (release.read). */
let token: string;
let uploadToken: string;
let imageId: string;
let siteId: string;
let subnetId: string;
let tmp: string;
const tag = runId();
const net = testNetwork();

/** What the adapter does besides forwarding: counts, tampering, holding chunk responses. */
const wire = {
  served: { manifests: 0, indexes: 0, chunks: 0 },
  /** Trusted-keys requests: one per sync round of a control-plane agent. */
  keyFetches: 0,
  tamper: new Set<string>(),
  /** Chunk responses beyond this many are held (never answered) while set. */
  holdAfter: Infinity,
};
let server: Server;
let cpUrl: string;

function tampered(kind: string, body: Buffer): Buffer {
  if (kind !== 'manifests') {
    const out = Buffer.from(body);
    out[out.length >> 1]! ^= 0x01;
    return out;
  }
  const signed = decodeSignedManifest(body);
  if (!signed.ok) throw new Error(signed.error.message);
  const sig = Buffer.from(signed.value.signatures[0]!.sig, 'base64url');
  sig[0]! ^= 0x01;
  return Buffer.from(
    encodeSignedManifest({
      payload: signed.value.payload,
      signatures: [{ ...signed.value.signatures[0]!, sig: sig.toString('base64url') }],
    }),
  );
}

async function route(req: Request): Promise<Response> {
  const path = new URL(req.url).pathname;
  if (path === '/api/agent/v1/manifests') return LIST(req);
  if (path === '/api/agent/v1/trusted-keys') {
    wire.keyFetches++;
    return getTrustedKeys();
  }
  const m = /^\/api\/agent\/v1\/([a-z]+)\/([^/]+)$/.exec(path);
  if (!m) return new Response(null, { status: 404 });
  return getContent(req, { params: Promise.resolve({ kind: m[1]!, digest: m[2]! }) });
}

function startAdapter(): Promise<void> {
  server = createServer((req, res) => {
    void (async () => {
      const auth = req.headers.authorization;
      const request = new Request(
        `http://127.0.0.1${req.url}`,
        auth ? { headers: { authorization: auth } } : {},
      );
      const response = await route(request);
      const kind = /^\/api\/agent\/v1\/([a-z]+)\//.exec(req.url ?? '')?.[1] ?? '';
      let body: Buffer = Buffer.from(await response.arrayBuffer());
      if (response.status === 200 && kind in wire.served) {
        if (kind === 'chunks' && wire.served.chunks >= wire.holdAfter) return; // held: the client waits
        wire.served[kind as keyof typeof wire.served]++;
        if (wire.tamper.has(req.url!.split('/').at(-1)!)) body = tampered(kind, body);
      }
      const headers = Object.fromEntries(response.headers);
      headers['content-length'] = String(body.length);
      res.writeHead(response.status, headers).end(body);
    })().catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      cpUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}

async function uploadLayer(data: Buffer, image = imageId): Promise<string> {
  const api = callerFor(db, operator);
  const upload = await api.image.createUpload({
    imageId: image,
    size: data.length,
    digest: sha(data),
    mediaType: 'application/vnd.bootpt.initramfs.cpio',
  });
  const res = await PATCH(
    new Request(`http://test/api/uploads/${upload.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${uploadToken}`, 'upload-offset': '0' },
      body: new Uint8Array(data),
    }),
    { params: Promise.resolve({ id: upload.id }) },
  );
  expect(res.status).toBe(204);
  const done = await api.image.completeUpload({ id: upload.id });
  await deps.runQueued(db);
  return done.layerId!;
}

async function publish(
  version: string,
  layerIds: string[],
  image = imageId,
): Promise<{ id: string; digest: Digest }> {
  const api = callerFor(db, operator);
  const draft = await api.release.create({ imageId: image, version, layerIds });
  const published = await api.release.publish({ id: draft.id });
  return { id: published.id, digest: bareDigest(published.manifestDigest!) };
}

/** Assigns `releaseId` to a new host of the test site through its own boot profile. */
async function assignToSite(releaseId: string, n: number): Promise<void> {
  const api = callerFor(db, operator);
  const profile = await api.bootProfile.create({
    name: `cp-sync-${tag}-${n}`,
    entries: [{ architecture: 'X86_64_UEFI', releaseId }],
  });
  await api.host.create({
    mac: `02:00:${tag.slice(0, 2)}:${tag.slice(2, 4)}:${tag.slice(4, 6)}:${String(n).padStart(2, '0')}`,
    hostname: `cp-sync-${tag}-${n}`,
    subnetId,
    bootProfileId: profile.id,
  });
}

/** Distinct chunk digests of a published manifest, from the blob store. */
async function chunksOf(digest: Digest): Promise<Set<string>> {
  const envelope = decodeSignedManifest(
    new Uint8Array(await (await route(authed(`manifests/${digest}`))).arrayBuffer()),
  );
  if (!envelope.ok) throw new Error(envelope.error.message);
  const manifest = JSON.parse(Buffer.from(envelope.value.payload).toString('utf8')) as {
    layers: { chunkIndexDigest: string }[];
  };
  const out = new Set<string>();
  for (const layer of manifest.layers) {
    const index = decodeChunkIndex((await deps.blobs.getBytes(layer.chunkIndexDigest))!);
    if (!index.ok) throw new Error(index.error.message);
    for (const c of index.value.chunks) out.add(c.digest);
  }
  return out;
}

const cpUpstream = (tok: string, concurrency: number) =>
  createUpstream(
    upstreamSchema.parse({ kind: 'control-plane', url: cpUrl, token: tok, allowPlaintext: true }),
    {
      concurrency,
    },
  );

const authed = (path: string, auth = token) =>
  new Request(`http://127.0.0.1/api/agent/v1/${path}`, { headers: { authorization: `Bearer ${auth}` } });

function service(
  dir: string,
  upstream: Record<string, unknown> = {},
  registry = new Registry(),
  syncIntervalSec = 0,
) {
  return new ContentService({
    config: contentConfigSchema.parse({
      enabled: true,
      dir,
      port: 0,
      syncIntervalSec,
      syncConcurrency: 4,
      upstream: {
        kind: 'control-plane',
        url: cpUrl,
        token,
        allowPlaintext: true,
        manifests: 'site',
        site: siteId,
        retries: 1,
        ...upstream,
      },
    }),
    dataDir: dir,
    registry,
    log,
  });
}

async function counter(svc: ContentService, name: 'objects' | 'bytes' | 'failures', label: string) {
  const values = (await svc.metrics[name].get()).values;
  return values.find((v) => Object.values(v.labels).includes(label))?.value ?? 0;
}

/** Every chunk in the store digests to its name (and nothing is left in tmp/). */
async function assertStoreSound(dir: string): Promise<number> {
  const names = (await readdir(join(dir, 'chunks'))).filter((n) => !n.endsWith('.br'));
  for (const n of names) expect(sha(await readFile(join(dir, 'chunks', n)))).toBe(n);
  expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  return names.length;
}

let v1: { id: string; digest: Digest };
let v2: { id: string; digest: Digest };

beforeAll(async () => {
  db = getDb();
  deps = await createTestImageDeps();
  tmp = await mkdtemp(join(tmpdir(), 'bpt-cp-sync-'));
  const admin = userIdentity(await createTestUser(db, 'ADMIN', tag));
  operator = userIdentity(await createTestUser(db, 'OPERATOR', tag));
  const tokenFor = async (role: 'VIEWER' | 'OPERATOR') =>
    (await createToken(db, actorFor(operator), { name: `cp-${role}-${tag}`, role, expiresInDays: 1 })).token;
  token = await tokenFor('VIEWER');
  uploadToken = await tokenFor('OPERATOR');
  // A key this run's KEK can open, whatever earlier runs left in the shared database.
  await callerFor(db, admin).signingKey.rotate({});
  const api = callerFor(db, admin);
  imageId = (await api.image.create({ name: `cp-sync-${tag}`, description: '' })).id;
  siteId = (await api.site.create({ name: `cp-sync-${tag}` })).id;
  subnetId = (await api.subnet.create({ siteId, name: `cp-${tag}`, cidr: `${net.prefix}.0.0/24` })).id;

  const base = randomBytes(768 * KiB);
  const overlay1 = randomBytes(256 * KiB);
  const overlay2 = Buffer.from(overlay1);
  randomBytes(8 * KiB).copy(overlay2, 100 * KiB);
  const baseId = await uploadLayer(base);
  v1 = await publish('1.0.0', [baseId, await uploadLayer(overlay1)]);
  v2 = await publish('1.1.0', [baseId, await uploadLayer(overlay2)]);
  await assignToSite(v1.id, 1);
  await startAdapter();
});

afterAll(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await deps.cleanup();
  await rm(tmp, { recursive: true, force: true });
  await disconnectDb();
});

describe('GET /api/agent/v1/manifests', () => {
  it('lists published manifests by digest, paged; with site only those assigned to its hosts', async () => {
    const page = async (query: string) => {
      const res = await LIST(authed(`manifests?${query}`));
      expect(res.status).toBe(200);
      return (await res.json()) as { manifests: { digest: string; version: string }[]; next: string | null };
    };
    const first = await page(`site=${siteId}&limit=1`);
    expect(first.manifests).toEqual([expect.objectContaining({ digest: v1.digest, version: '1.0.0' })]);
    expect(first.next).toBeNull();
    // Unfiltered, v1 and v2 are both there (the shared database holds other runs' releases too).
    const all: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 1000; i++) {
      const p = await page(`limit=50${after ? `&after=${after}` : ''}`);
      all.push(...p.manifests.map((m) => m.digest));
      if (!(after = p.next)) break;
    }
    expect(all).toEqual([...all].sort());
    expect(all).toEqual(expect.arrayContaining([v1.digest, v2.digest]));
    expect(new Set(all).size).toBe(all.length);

    expect((await LIST(authed('manifests?site=0195b7a4-1d6e-7000-8000-000000000001'))).status).toBe(404);
    expect((await LIST(authed('manifests?limit=0'))).status).toBe(400);
    expect((await LIST(authed('manifests?after=../x'))).status).toBe(400);
    expect((await LIST(new Request('http://127.0.0.1/api/agent/v1/manifests'))).status).toBe(401);
  });
});

describe('agent sync from the control plane', () => {
  let svc: ContentService;
  const dir = () => join(tmp, 'agent-a');

  afterAll(async () => {
    await svc?.close();
  });

  it('pulls the site manifest with its indexes and chunks, verified against the control plane keys', async () => {
    svc = service(dir());
    await svc.start();
    const v1Chunks = await chunksOf(v1.digest);
    expect(await counter(svc, 'objects', 'manifests')).toBe(1);
    expect(await counter(svc, 'objects', 'indexes')).toBe(2);
    expect(await counter(svc, 'objects', 'chunks')).toBe(v1Chunks.size);
    expect(await svc.store.manifestDigests()).toEqual([v1.digest]);
    expect(await assertStoreSound(dir())).toBe(v1Chunks.size);
    // The stored manifest verifies against the control plane's exported trust set.
    const { keys } = (await (await getTrustedKeys()).json()) as { keys: never[] };
    expect(
      openSignedManifest((await svc.store.read('manifests', v1.digest))!, createTrustStore(keys)).ok,
    ).toBe(true);
  });

  it('fetches only the missing chunks when another release is assigned, and nothing when up to date', async () => {
    const v1Chunks = await chunksOf(v1.digest);
    const v2Chunks = await chunksOf(v2.digest);
    const missing = [...v2Chunks].filter((d) => !v1Chunks.has(d));
    expect(missing.length).toBeGreaterThan(0);
    expect(missing.length).toBeLessThan(v2Chunks.size / 2);
    await assignToSite(v2.id, 2);
    const before = { ...wire.served };
    const stats = await svc.syncAll();
    expect(stats.find((s) => s.manifest === v2.digest)).toMatchObject({
      chunksFetched: missing.length,
      chunksPresent: v2Chunks.size - missing.length,
    });
    expect(wire.served.chunks - before.chunks).toBe(missing.length);
    expect(wire.served.indexes - before.indexes).toBe(1); // the base layer's index is shared
    expect(await counter(svc, 'objects', 'chunks')).toBe(v1Chunks.size + missing.length);

    const again = { ...wire.served };
    const third = await svc.syncAll();
    expect(third.map((s) => s.chunksFetched)).toEqual([0, 0]);
    expect(wire.served).toEqual(again);
    expect(await assertStoreSound(dir())).toBe(new Set([...v1Chunks, ...v2Chunks]).size);
  });

  it('serves the synced release from its HTTP/2 server, byte for byte', async () => {
    const h2 = new Http2Upstream({
      kind: 'http2',
      url: `https://127.0.0.1:${svc.port()}`,
      fingerprint: svc.fingerprint,
    });
    try {
      const fromCp = Buffer.from(await (await route(authed(`manifests/${v2.digest}`))).arrayBuffer());
      expect(Buffer.from((await h2.get('manifests', v2.digest))!).equals(fromCp)).toBe(true);
      for (const d of [...(await chunksOf(v2.digest))].slice(0, 5)) {
        expect(sha((await h2.get('chunks', d))!)).toBe(d);
      }
    } finally {
      await h2.close();
    }
  });
});

describe('refusals', () => {
  it('a bad token is a clear auth error, counted, not retried', async () => {
    const registry = new Registry();
    const svc = service(join(tmp, 'bad-token'), { token: 'bpt_not-a-real-token', retries: 3 }, registry);
    try {
      const err = await svc.start().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamAuthError);
      expect((err as Error).message).toMatch(/HTTP 401: the control plane does not accept the API token/);
      expect((err as Error).message).not.toContain('bpt_not-a-real-token');
      expect(await counter(svc, 'failures', 'auth')).toBe(1);
    } finally {
      await svc.close();
    }
    // A revoked token is refused the same way.
    const revoked = await createToken(db, actorFor(operator), {
      name: `rv-${tag}`,
      role: 'VIEWER',
      expiresInDays: 1,
    });
    await db.apiToken.update({ where: { id: revoked.id }, data: { revokedAt: new Date() } });
    const up = await cpUpstream(revoked.token, 1);
    await expect(up.get('manifests', v1.digest)).rejects.toBeInstanceOf(UpstreamAuthError);
    await up.close();
  });

  it('a tampered chunk or manifest signature from the upstream is refused and never stored', async () => {
    const d = join(tmp, 'tamper');
    const chunk = [...(await chunksOf(v1.digest))][3]!;
    wire.tamper = new Set([chunk]);
    const svc = service(d);
    try {
      await expect(svc.start()).rejects.toThrow(/digest/);
      // The chunk is in the base layer both site releases share: both manifests fail, both counted.
      expect(await counter(svc, 'failures', 'verify')).toBe(2);
      expect(await svc.store.has('chunks', chunk)).toBe(false);
      await assertStoreSound(d);
      // The manifest's signature altered in transit: refused before anything else is pulled.
      const other = new ContentStore(join(tmp, 'tamper-manifest'));
      await other.open();
      wire.tamper = new Set([v2.digest]);
      const up = await cpUpstream(token, 1);
      const { keys } = (await (await getTrustedKeys()).json()) as { keys: never[] };
      await expect(
        syncManifest({
          store: other,
          upstream: up,
          digest: v2.digest,
          concurrency: 2,
          trust: createTrustStore(keys),
        }),
      ).rejects.toThrow(/manifest .* refused/);
      expect(await other.manifestDigests()).toEqual([]);
      await up.close();
      // Once the upstream is honest again the same store completes.
      wire.tamper = new Set();
      const stats = await svc.syncAll();
      expect(stats).toHaveLength(2);
      expect(await svc.store.has('chunks', chunk)).toBe(true);
    } finally {
      wire.tamper = new Set();
      await svc.close();
    }
  });

  it('a failed start is logged and retried on the interval; requestSync (SIGHUP) runs a round now', async () => {
    const chunk = [...(await chunksOf(v2.digest))].at(-1)!;
    wire.tamper = new Set([chunk]);
    const registry = new Registry();
    const svc = service(join(tmp, 'interval'), {}, registry, 1);
    const rounds = async (result: string) =>
      (await svc.metrics.rounds.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
    try {
      await svc.start(); // does not throw: the interval will retry
      expect(svc.port()).toBeGreaterThan(0);
      expect(await rounds('failed')).toBe(1);
      expect(await svc.store.has('chunks', chunk)).toBe(false);
      wire.tamper = new Set();
      for (let i = 0; i < 100 && (await rounds('ok')) === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await rounds('ok')).toBe(1);
      expect(await svc.store.has('chunks', chunk)).toBe(true);
      // Two requests while idle: one round now, the second queued behind it (never concurrent).
      await Promise.all([svc.requestSync('SIGHUP'), svc.requestSync('SIGHUP')]);
      expect(await rounds('ok')).toBe(3);
      expect(await registry.metrics()).toContain('bootpt_agent_content_sync_bytes_total{kind="chunks"}');
    } finally {
      wire.tamper = new Set();
      await svc.close();
    }
  });

  it('with pinnedKeys only the pinned control-plane keys are trusted', async () => {
    const other = service(join(tmp, 'pinned-other'), { pinnedKeys: ['A'.repeat(43)] });
    try {
      await expect(other.start()).rejects.toThrow(/no usable manifest-signing key/);
      expect(await other.store.manifestDigests()).toEqual([]);
    } finally {
      await other.close();
    }
    // Pinning the key that signed the releases (whatever other runs rotated to since) syncs them.
    const signed = decodeSignedManifest(
      new Uint8Array(await (await route(authed(`manifests/${v1.digest}`))).arrayBuffer()),
    );
    if (!signed.ok) throw new Error(signed.error.message);
    const { keys } = (await (await getTrustedKeys()).json()) as {
      keys: { keyId: string; publicKey: string }[];
    };
    const signer = keys.find((k) => k.keyId === signed.value.signatures[0]!.keyId)!;
    const pinned = service(join(tmp, 'pinned-signer'), { pinnedKeys: [signer.publicKey] });
    try {
      await pinned.start();
      expect((await pinned.store.manifestDigests()).sort()).toEqual([v1.digest, v2.digest].sort());
    } finally {
      await pinned.close();
    }
  });
});

describe('a sync killed half way', () => {
  it('leaves only verified objects; the next sync fetches the rest', async () => {
    const d = join(tmp, 'killed');
    const total = (await chunksOf(v2.digest)).size;
    const hold = 10;
    wire.served.chunks = 0;
    wire.holdAfter = hold;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=source', join(__dirname, 'sync-child.ts'), d, cpUrl, v2.digest],
      { env: { ...process.env, BOOTPT_AGENT_CONTROL_PLANE_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal ? -1 : _code)),
    );
    try {
      for (let i = 0; i < 600 && wire.served.chunks < hold; i++) await new Promise((r) => setTimeout(r, 50));
      expect(wire.served.chunks, output).toBe(hold);
      await new Promise((r) => setTimeout(r, 200)); // let the served chunks land
      child.kill('SIGKILL');
      expect(await exited).toBe(-1);
    } finally {
      wire.holdAfter = Infinity;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    expect(output).not.toContain('synced');

    // A fresh start on the same directory: tmp/ cleared, chunks re-verified, the rest fetched.
    const store = new ContentStore(d);
    await store.open();
    expect(await store.scrub()).toBe(0);
    const held = await assertStoreSound(d);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(hold);
    const up = await cpUpstream(token, 4);
    try {
      const stats = await syncManifest({ store, upstream: up, digest: v2.digest, concurrency: 4 });
      expect(stats.chunksFetched).toBe(total - held);
      expect(await assertStoreSound(d)).toBe(total);
    } finally {
      await up.close();
    }
  });
});

describe('static deltas', () => {
  it('are built between releases of the same image only', async () => {
    const other = (
      await callerFor(db, operator).image.create({ name: `cp-sync-other-${tag}`, description: '' })
    ).id;
    const v3 = await publish('9.0.0', [await uploadLayer(randomBytes(64 * KiB), other)], other);
    await assignToSite(v3.id, 3);
    const svc = service(join(tmp, 'deltas'));
    try {
      await svc.start();
      expect((await svc.store.manifestDigests()).sort()).toEqual([v1.digest, v2.digest, v3.digest].sort());
      expect(await svc.store.deltaSize(v1.digest, v2.digest)).toBeGreaterThan(0);
      expect(await svc.store.deltaSize(v2.digest, v1.digest)).toBeGreaterThan(0);
      for (const d of [v1.digest, v2.digest]) {
        expect(await svc.store.deltaSize(d, v3.digest)).toBeNull();
        expect(await svc.store.deltaSize(v3.digest, d)).toBeNull();
      }
    } finally {
      await svc.close();
    }
  });
});

describe('the bootpt-agent process', () => {
  it('takes the token from BOOTPT_AGENT_CONTROL_PLANE_TOKEN, never logs it, and re-syncs on SIGHUP', async () => {
    const d = join(tmp, 'process');
    await mkdir(d, { recursive: true });
    await writeFile(join(d, 'site.json'), '{}');
    await writeFile(
      join(d, 'agent.json'),
      JSON.stringify({
        agentId: 'cp-sync-test',
        dataDir: join(d, 'data'),
        backend: { kind: 'file', path: join(d, 'site.json') },
        responder: { enabled: false },
        metrics: { enabled: false },
        content: {
          enabled: true,
          port: 0,
          syncIntervalSec: 0,
          upstream: {
            kind: 'control-plane',
            url: cpUrl,
            allowPlaintext: true,
            manifests: 'site',
            site: siteId,
          },
        },
      }),
    );
    const bin = join(__dirname, '../../apps/agent/src/bin/bootpt-agent.ts');
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', bin, '--config', join(d, 'agent.json')],
      {
        env: { ...process.env, BOOTPT_AGENT_CONTROL_PLANE_TOKEN: token, NODE_NO_WARNINGS: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const waitFor = async (what: () => boolean) => {
      for (let i = 0; i < 600 && !what() && child.exitCode === null; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(what(), output).toBe(true);
    };
    const synced = () => output.split('\n').filter((l) => l.includes('"manifest synced"')).length;
    try {
      await waitFor(() => output.includes('"agent started"'));
      const rounds = wire.keyFetches;
      const first = synced();
      expect(first).toBeGreaterThanOrEqual(2);
      child.kill('SIGHUP');
      await waitFor(() => synced() >= 2 * first);
      expect(wire.keyFetches).toBe(rounds + 1);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(output).not.toContain(token);
  });
});
