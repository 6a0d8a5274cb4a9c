import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createTrustStore,
  decodeChunkIndex,
  decodeSignedManifest,
  encodeSignedManifest,
  verifySignedManifest,
} from '@bootpt/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../generated/prisma/client';
import type { Identity } from '../api/identity';
import { disconnectDb, getDb } from '../db/client';
import { createToken } from '../services/tokens';
import { actorFor, callerFor, createTestUser, runId, userIdentity } from '../testing/fixtures';
import { HEAD, PATCH } from './upload-route';
import { GET as getContent } from './content-route';
import { GET as getTrustedKeys } from './trusted-keys-route';
import { Queue } from 'bullmq';
import { QUEUE } from '../jobs/definitions';
import { createQueueConnection } from '../redis';
import { bareDigest } from './deps';
import { createBullIndexQueue, indexJobId } from './queue';
import { indexStoredLayer } from './indexing';
import { sweepExpiredUploads } from './uploads';
import { decryptPrivateKey } from './key-crypto';
import { createTestImageDeps, type TestImageDeps } from './testing';

/**
 * The image pipeline against the real database: resumable uploads through the route handler,
 * indexing into the blob store, releases signed and verified against the exported trust set, key
 * rotation and revocation, and no private key material in any output.
 */
const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let db: PrismaClient;
let deps: TestImageDeps;
let admin: Identity;
let operator: Identity;
let viewer: Identity;
let bearer: string;
const tag = runId();
let imageId: string;

beforeAll(async () => {
  db = getDb();
  deps = await createTestImageDeps();
  admin = userIdentity(await createTestUser(db, 'ADMIN', tag));
  operator = userIdentity(await createTestUser(db, 'OPERATOR', tag));
  viewer = userIdentity(await createTestUser(db, 'VIEWER', tag));
  bearer = (
    await createToken(db, actorFor(operator), { name: `up-${tag}`, role: 'OPERATOR', expiresInDays: 1 })
  ).token;
  imageId = (await callerFor(db, operator).image.create({ name: `img-${tag}`, description: 'test image' }))
    .id;
});

afterAll(async () => {
  await deps.cleanup();
  await disconnectDb();
});

const route = (id: string) => ({ params: Promise.resolve({ id }) });

function patch(
  id: string,
  offset: number,
  body: Uint8Array | ReadableStream<Uint8Array>,
  auth = bearer,
): Promise<Response> {
  return PATCH(
    new Request(`http://test/api/uploads/${id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${auth}`, 'upload-offset': String(offset) },
      body: body instanceof Uint8Array ? new Uint8Array(body) : body,
      duplex: 'half',
    } as RequestInit),
    route(id),
  );
}

async function headOffset(id: string): Promise<number> {
  const res = await HEAD(
    new Request(`http://test/api/uploads/${id}`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${bearer}` },
    }),
    route(id),
  );
  expect(res.status).toBe(204);
  return Number(res.headers.get('upload-offset'));
}

/** A body that delivers `bytes` in pieces and then fails, like a client that lost its connection. */
function brokenBody(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes.length) {
        controller.error(new Error('connection reset'));
        return;
      }
      controller.enqueue(bytes.subarray(sent, sent + 256 * 1024));
      sent += 256 * 1024;
    },
  });
}

/** Uploads `data` in one go through the API and the route, completes it and indexes it. */
async function uploadLayer(data: Buffer, mediaType = 'application/vnd.bootpt.initramfs.cpio' as const) {
  const api = callerFor(db, operator);
  const upload = await api.image.createUpload({ imageId, size: data.length, digest: sha(data), mediaType });
  expect((await patch(upload.id, 0, data)).status).toBe(204);
  const done = await api.image.completeUpload({ id: upload.id });
  await deps.runQueued(db);
  return (await db.layer.findUniqueOrThrow({ where: { id: done.layerId! } })).id;
}

describe('resumable layer upload', () => {
  it('survives an interruption, resumes from the committed offset and ends READY with the right digest', async () => {
    const data = randomBytes(3 * MiB + 12345);
    const digest = sha(data);
    const api = callerFor(db, operator);
    const upload = await api.image.createUpload({
      imageId,
      size: data.length,
      digest: `sha256:${digest}`,
      mediaType: 'application/vnd.bootpt.rootfs',
    });
    expect(upload).toMatchObject({
      status: 'ACTIVE',
      bytesReceived: 0,
      uploadUrl: `/api/uploads/${upload.id}`,
    });

    // The first request dies after 1 MiB: what arrived is committed.
    const first = await patch(upload.id, 0, brokenBody(data.subarray(0, MiB)));
    expect(first.status).toBe(400);
    expect(first.headers.get('upload-offset')).toBe(String(MiB));
    const resumeAt = await headOffset(upload.id);
    expect(resumeAt).toBe(MiB);
    expect((await api.image.getUpload({ id: upload.id })).bytesReceived).toBe(MiB);

    // A client that resends from 0 is told where to continue.
    const stale = await patch(upload.id, 0, data.subarray(0, 1000));
    expect(stale.status).toBe(409);
    expect(stale.headers.get('upload-offset')).toBe(String(MiB));

    // Completing early is refused; bytes beyond the declared size are refused and not committed.
    await expect(api.image.completeUpload({ id: upload.id })).rejects.toMatchObject({ code: 'CONFLICT' });
    const tooMuch = await patch(
      upload.id,
      resumeAt,
      Buffer.concat([data.subarray(resumeAt), Buffer.from('x')]),
    );
    expect(tooMuch.status).toBe(400);
    expect(await headOffset(upload.id)).toBe(MiB);

    // Resume in two pieces.
    const mid = 2 * MiB + 7;
    expect((await patch(upload.id, resumeAt, data.subarray(resumeAt, mid))).status).toBe(204);
    const last = await patch(upload.id, mid, data.subarray(mid));
    expect(last.status).toBe(204);
    expect(last.headers.get('upload-offset')).toBe(String(data.length));

    // A viewer may not write; nobody may without credentials.
    const viewerToken = (
      await createToken(db, actorFor(viewer), { name: `v-${tag}`, role: 'VIEWER', expiresInDays: 1 })
    ).token;
    expect((await patch(upload.id, data.length, Buffer.alloc(0), viewerToken)).status).toBe(403);

    const done = await api.image.completeUpload({ id: upload.id });
    expect(done).toMatchObject({ status: 'COMPLETED' });
    const layer = await db.layer.findUniqueOrThrow({ where: { id: done.layerId! } });
    expect(layer).toMatchObject({
      digest: `sha256:${digest}`,
      size: BigInt(data.length),
      status: 'INDEXING',
    });
    expect(deps.enqueued).toEqual([layer.id]);
    await expect(readdir(deps.uploadDir)).resolves.toEqual([]);

    await deps.runQueued(db);
    const ready = await db.layer.findUniqueOrThrow({ where: { id: layer.id } });
    expect(ready.status).toBe('READY');
    expect(ready.chunkCount).toBeGreaterThan(10);

    // The stored chunks, in index order, are exactly the uploaded bytes.
    const index = decodeChunkIndex((await deps.blobs.getBytes(bareDigest(ready.chunkIndexDigest!)))!);
    if (!index.ok) throw new Error(index.error.message);
    expect(index.value.layerDigest).toBe(digest);
    expect(index.value.chunks.length).toBe(ready.chunkCount);
    const parts = await Promise.all(index.value.chunks.map((c) => deps.blobs.getBytes(c.digest)));
    expect(sha(Buffer.concat(parts.map((p) => p!)))).toBe(digest);

    // Agents and tools fetch the index and chunks by digest; credentials are required.
    const fetchContent = (kind: string, digest: string, auth: string | null = bearer) =>
      getContent(
        new Request(`http://test/api/agent/v1/${kind}/${digest}`, {
          headers: auth ? { authorization: `Bearer ${auth}` } : {},
        }),
        { params: Promise.resolve({ kind, digest }) },
      );
    const indexHex = bareDigest(ready.chunkIndexDigest!);
    const indexRes = await fetchContent('indexes', indexHex);
    expect(indexRes.status).toBe(200);
    expect(sha(new Uint8Array(await indexRes.arrayBuffer()))).toBe(indexHex);
    const firstChunk = index.value.chunks[0]!;
    const chunkRes = await fetchContent('chunks', firstChunk.digest);
    expect(chunkRes.headers.get('cache-control')).toContain('immutable');
    expect(sha(new Uint8Array(await chunkRes.arrayBuffer()))).toBe(firstChunk.digest);
    expect((await fetchContent('chunks', firstChunk.digest, null)).status).toBe(401);
    expect((await fetchContent('chunks', sha(Buffer.from('nope')))).status).toBe(404);
    expect((await fetchContent('layers', firstChunk.digest)).status).toBe(404);

    const progress = await callerFor(db, viewer).image.layerProgress({ ids: [layer.id] });
    expect(progress).toEqual([
      { id: layer.id, status: 'READY', progress: 100, error: null, chunkCount: ready.chunkCount },
    ]);
  });

  it('refuses bytes that do not match the declared digest and records the failure', async () => {
    const data = randomBytes(200_000);
    const api = callerFor(db, operator);
    const upload = await api.image.createUpload({
      imageId,
      size: data.length,
      digest: sha(randomBytes(8)),
      mediaType: 'application/vnd.bootpt.rootfs',
    });
    expect((await patch(upload.id, 0, data)).status).toBe(204);
    await expect(api.image.completeUpload({ id: upload.id })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect((await api.image.getUpload({ id: upload.id })).status).toBe('FAILED');
    expect(await deps.blobs.has(sha(data))).toBe(false);
  });

  it('expires abandoned sessions and deletes their partial files; aborting does the same', async () => {
    const api = callerFor(db, operator);
    const mk = () =>
      api.image.createUpload({ imageId, size: 1000, mediaType: 'application/vnd.bootpt.kernel' });
    const stale = await mk();
    const aborted = await mk();
    expect((await patch(stale.id, 0, randomBytes(500))).status).toBe(204);
    await db.upload.update({ where: { id: stale.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const files = async () => (await readdir(deps.uploadDir)).length;
    const before = await files();
    expect(await sweepExpiredUploads(db, deps)).toBeGreaterThanOrEqual(1);
    expect((await api.image.getUpload({ id: stale.id })).status).toBe('EXPIRED');
    expect((await api.image.abortUpload({ id: aborted.id })).status).toBe('ABORTED');
    expect(await files()).toBe(before - 2);
    expect((await patch(stale.id, 500, randomBytes(10))).status).toBe(409);
  });
});

describe('layer.index', () => {
  it('is idempotent: a second run (or a re-run after a crash) changes nothing', async () => {
    const data = randomBytes(2 * MiB);
    const layerId = await uploadLayer(data);
    const first = await db.layer.findUniqueOrThrow({ where: { id: layerId } });
    const count = async () => (await readdir(join(deps.blobs.root, 'sha256'), { recursive: true })).length;
    const before = await count();

    const again = await indexStoredLayer(db, deps.blobs, layerId, undefined, deps.chunking);
    expect(again).toMatchObject({ status: 'READY', alreadyIndexed: true });

    // As if the worker died after writing chunks but before READY: the job runs again from scratch.
    await db.layer.update({
      where: { id: layerId },
      data: { status: 'INDEXING', chunkIndexDigest: null, chunkCount: null },
    });
    const rerun = await indexStoredLayer(db, deps.blobs, layerId, undefined, deps.chunking);
    expect(rerun).toMatchObject({ status: 'READY', alreadyIndexed: false });
    const after = await db.layer.findUniqueOrThrow({ where: { id: layerId } });
    expect(after.chunkIndexDigest).toBe(first.chunkIndexDigest);
    expect(after.chunkCount).toBe(first.chunkCount);
    expect(await count()).toBe(before);
  });

  it('is queued once per layer on the real BullMQ queue, and again after it finished', async () => {
    const layerId = randomUUID();
    const queue = createBullIndexQueue();
    const inspect = new Queue(QUEUE, { connection: createQueueConnection() });
    try {
      await queue.enqueue(layerId);
      await queue.enqueue(layerId);
      const job = await inspect.getJob(indexJobId(layerId));
      expect(job?.name).toBe('layer.index');
      expect(job?.data).toEqual({ layerId });
      const waiting = await inspect.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
      expect(waiting.filter((j) => j.id === indexJobId(layerId))).toHaveLength(1);
      await job!.remove();
    } finally {
      await queue.close?.();
      await inspect.close();
    }
  });

  it('marks a layer FAILED when its stored bytes are gone', async () => {
    const data = randomBytes(100_000);
    const layerId = await uploadLayer(data);
    await db.layer.update({ where: { id: layerId }, data: { status: 'INDEXING' } });
    await deps.blobs.delete(sha(data));
    expect(await indexStoredLayer(db, deps.blobs, layerId, undefined, deps.chunking)).toMatchObject({
      status: 'FAILED',
    });
    expect((await db.layer.findUniqueOrThrow({ where: { id: layerId } })).status).toBe('FAILED');
  });
});

async function trustStore() {
  const res = await getTrustedKeys();
  expect(res.status).toBe(200);
  const { keys } = (await res.json()) as { keys: Parameters<typeof createTrustStore>[0] };
  return createTrustStore(keys);
}

async function envelopeOf(manifestDigest: string): Promise<Uint8Array> {
  const res = await getContent(
    new Request(`http://test/api/agent/v1/manifests/${manifestDigest}`, {
      headers: { authorization: `Bearer ${bearer}` },
    }),
    { params: Promise.resolve({ kind: 'manifests', digest: manifestDigest }) },
  );
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

describe('releases, signing and keys', () => {
  let base: Buffer;
  let overlay1: Buffer;
  let baseId: string;
  let overlay1Id: string;
  let overlay2Id: string;
  let v1: { id: string; manifestDigest: string };

  beforeAll(async () => {
    // Start from a key this run's KEK can open, whatever earlier runs left in the shared database.
    await callerFor(db, admin).signingKey.rotate({});
    base = randomBytes(3 * MiB);
    overlay1 = randomBytes(MiB);
    const overlay2 = Buffer.from(overlay1);
    randomBytes(4096).copy(overlay2, 512 * 1024); // a small change in the middle of the overlay
    baseId = await uploadLayer(base);
    overlay1Id = await uploadLayer(overlay1);
    overlay2Id = await uploadLayer(overlay2);
  });

  it('publishes a signed manifest that verifies against the exported trusted keys', async () => {
    const api = callerFor(db, operator);
    const draft = await api.release.create({
      imageId,
      version: '1.0.0',
      kernelCmdline: 'console=ttyS0 quiet',
      layerIds: [baseId, overlay1Id],
    });
    expect(draft).toMatchObject({ status: 'DRAFT', manifestDigest: null, layerCount: 2 });
    expect(draft.totalSize).toBe(base.length + overlay1.length);
    await expect(callerFor(db, viewer).release.publish({ id: draft.id })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });

    const published = await api.release.publish({ id: draft.id, architecture: 'x86_64' });
    expect(published.status).toBe('PUBLISHED');
    v1 = { id: published.id, manifestDigest: bareDigest(published.manifestDigest!) };

    const signed = decodeSignedManifest(await envelopeOf(v1.manifestDigest));
    if (!signed.ok) throw new Error(signed.error.message);
    const verified = verifySignedManifest(signed.value, await trustStore());
    if (!verified.ok) throw new Error(verified.error.message);
    expect(verified.value.digest).toBe(v1.manifestDigest);
    expect(verified.value.manifest.release).toMatchObject({ name: `img-${tag}`, version: '1.0.0' });
    expect(verified.value.manifest.kernelCmdline).toBe('console=ttyS0 quiet');
    expect(verified.value.manifest.layers.map((l) => l.digest)).toEqual([sha(base), sha(overlay1)]);

    // Published releases are frozen.
    await expect(api.release.update({ id: v1.id, kernelCmdline: 'x' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('shows what an update from the previous release costs (only the changed chunks)', async () => {
    const api = callerFor(db, operator);
    const v2 = await api.release.create({ imageId, version: '1.1.0', layerIds: [baseId, overlay2Id] });
    const published = await api.release.publish({ id: v2.id });
    expect(published.update).toMatchObject({ fromReleaseId: v1.id, fromVersion: '1.0.0' });
    const update = published.update!;
    expect(update.totalBytes).toBe(base.length + overlay1.length);
    expect(update.fetchBytes).toBeGreaterThan(0);
    expect(update.fetchBytes).toBeLessThan(overlay1.length / 2);
    expect(update.reusedBytes + update.fetchBytes).toBeGreaterThanOrEqual(
      update.totalBytes - update.fetchBytes,
    );
    const listed = await callerFor(db, viewer).release.list({ imageId });
    expect(listed.find((r) => r.id === v2.id)?.update?.fetchBytes).toBe(update.fetchBytes);
  });

  it('rotation keeps old releases verifying; a revoked key is refused', async () => {
    const adminApi = callerFor(db, admin);
    const oldKey = (await adminApi.signingKey.list({})).find((k) => k.state === 'ACTIVE')!;
    await expect(adminApi.signingKey.create({})).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(callerFor(db, operator).signingKey.rotate({})).rejects.toMatchObject({ code: 'FORBIDDEN' });

    const newKey = await adminApi.signingKey.rotate({});
    const keys = await adminApi.signingKey.list({});
    expect(keys.find((k) => k.id === oldKey.id)?.state).toBe('RETIRED');
    expect(keys.filter((k) => k.state === 'ACTIVE').map((k) => k.id)).toEqual([newKey.id]);

    // v1 is still valid: its old signature (key retired after it was created) and the new co-signature.
    const envelope = decodeSignedManifest(await envelopeOf(v1.manifestDigest));
    if (!envelope.ok) throw new Error(envelope.error.message);
    expect(envelope.value.signatures.map((s) => s.keyId).sort()).toEqual([oldKey.keyId, newKey.keyId].sort());
    const trust = await trustStore();
    const both = verifySignedManifest(envelope.value, trust);
    expect(both.ok && [...both.value.keyIds].sort()).toEqual([oldKey.keyId, newKey.keyId].sort());
    const oldOnly = {
      payload: envelope.value.payload,
      signatures: envelope.value.signatures.filter((s) => s.keyId === oldKey.keyId),
    };
    expect(verifySignedManifest(oldOnly, trust).ok).toBe(true);

    await adminApi.signingKey.revoke({ id: oldKey.id });
    const afterRevoke = await trustStore();
    expect(afterRevoke.get(oldKey.keyId)?.state).toBe('revoked');
    const oldOnlyDecoded = decodeSignedManifest(encodeSignedManifest(oldOnly));
    if (!oldOnlyDecoded.ok) throw new Error(oldOnlyDecoded.error.message);
    const refused = verifySignedManifest(oldOnlyDecoded.value, afterRevoke);
    expect(refused.ok ? null : refused.error.code).toBe('MANIFEST_KEY_REVOKED');
    // Co-signed by the new key, v1 keeps booting.
    expect(verifySignedManifest(envelope.value, afterRevoke).ok).toBe(true);
    await expect(adminApi.signingKey.retire({ id: oldKey.id })).rejects.toMatchObject({ code: 'CONFLICT' });

    // New releases are signed by the new key only.
    const v3 = await callerFor(db, operator).release.create({
      imageId,
      version: '1.2.0',
      layerIds: [baseId],
    });
    const p3 = await callerFor(db, operator).release.publish({ id: v3.id });
    expect(p3.signedBy).toEqual([newKey.keyId]);
  });

  it('never returns private key material from any procedure', async () => {
    const adminApi = callerFor(db, admin);
    const outputs: unknown[] = [
      await adminApi.signingKey.list({}),
      await adminApi.signingKey.trusted({}),
      await adminApi.release.list({ imageId }),
      await adminApi.release.get({ id: v1.id }),
      await adminApi.image.get({ id: imageId }),
    ];
    const rotated = await adminApi.signingKey.rotate({});
    outputs.push(rotated, await adminApi.signingKey.retire({ id: rotated.id }));
    await expect(adminApi.signingKey.create({ __extra: 1 } as never)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    outputs.push(await adminApi.signingKey.create({}));
    const audit = await db.auditLog.findMany({
      where: { action: { startsWith: 'signingKey.' } },
      take: 200,
      orderBy: { id: 'desc' },
    });
    const text = JSON.stringify([outputs, audit], (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v,
    );

    const rows = await db.signingKey.findMany();
    expect(rows.length).toBeGreaterThan(1);
    for (const row of rows) {
      let pkcs8: Buffer;
      try {
        pkcs8 = decryptPrivateKey(deps.kek(), row.keyId, row.encryptedPrivateKey);
      } catch {
        continue; // sealed under another run's key-encryption key
      }
      const seed = pkcs8.subarray(pkcs8.length - 32);
      const sealed = Buffer.from(row.encryptedPrivateKey);
      for (const secret of [seed, pkcs8, sealed]) {
        for (const encoding of ['hex', 'base64', 'base64url'] as const) {
          expect(text).not.toContain(secret.toString(encoding));
        }
      }
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toMatch(/encryptedPrivateKey/i);
    }
  });
});
