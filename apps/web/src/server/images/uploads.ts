import { randomUUID } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LAYER_MEDIA_TYPES } from '@bootpt/protocol';
import { z } from 'zod';
import type { Layer, PrismaClient, Upload } from '../../generated/prisma/client';
import { DomainError, fromPrismaError, notFound } from '../api/errors';
import { recordAudit, type Actor } from '../services/audit';
import { BlobStoreError } from './blob-store';
import { storedDigest, parseDigestInput, type ImageDeps } from './deps';

/**
 * Resumable layer uploads. A session records the expected size (and optionally digest); the client
 * sends byte ranges in order (`writeUploadChunk` at `offset == bytesReceived`), asks the session's
 * `bytesReceived` after an interruption and continues from there. Bytes go straight to a partial file
 * (never held whole in memory); `bytesReceived` is committed only after they are fsynced, so it never
 * claims bytes the disk does not have. Completing verifies size and digest, moves the file into the
 * blob store (a rename) and queues `layer.index`.
 */
export const UPLOAD_TTL_MS = 24 * 3600_000;

export const createUploadInput = z.object({
  imageId: z.uuid(),
  size: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  digest: z
    .string()
    .trim()
    .refine((d) => parseDigestInput(d) !== null, 'must be a SHA-256 digest (64 hex, optionally sha256:)')
    .optional(),
  mediaType: z.enum(LAYER_MEDIA_TYPES),
});
export type CreateUploadInput = z.infer<typeof createUploadInput>;

export const uploadOutput = z
  .object({
    id: z.string(),
    imageId: z.string().nullable(),
    mediaType: z.string(),
    expectedSize: z.number(),
    expectedDigest: z.string().nullable(),
    bytesReceived: z.number(),
    status: z.enum(['ACTIVE', 'COMPLETED', 'ABORTED', 'EXPIRED', 'FAILED']),
    error: z.string().nullable(),
    layerId: z.string().nullable(),
    /** Where to PATCH the bytes (`Upload-Offset` header) and HEAD for the committed offset. */
    uploadUrl: z.string(),
    expiresAt: z.string(),
  })
  .meta({ id: 'Upload' });
export type UploadOutput = z.infer<typeof uploadOutput>;

export function toUploadOutput(u: Upload): UploadOutput {
  return {
    id: u.id,
    imageId: u.imageId,
    mediaType: u.mediaType,
    expectedSize: Number(u.expectedSize),
    expectedDigest: u.expectedDigest,
    bytesReceived: Number(u.bytesReceived),
    status: u.status,
    error: u.error,
    layerId: u.layerId,
    uploadUrl: `/api/uploads/${u.id}`,
    expiresAt: u.expiresAt.toISOString(),
  };
}

const partPath = (deps: ImageDeps, u: Pick<Upload, 'tempPath'>) => join(deps.uploadDir, u.tempPath);

export async function createUpload(
  db: PrismaClient,
  deps: ImageDeps,
  actor: Actor,
  input: CreateUploadInput,
): Promise<UploadOutput> {
  const image = await db.image.findUnique({ where: { id: input.imageId }, select: { id: true } });
  if (!image) throw notFound('Image', 'imageId');
  const digest = input.digest ? parseDigestInput(input.digest) : null;
  const tempPath = `${randomUUID()}.part`;
  await mkdir(deps.uploadDir, { recursive: true });
  await (await open(join(deps.uploadDir, tempPath), 'wx')).close();
  const upload = await db.$transaction(async (tx) => {
    const created = await tx.upload.create({
      data: {
        imageId: input.imageId,
        mediaType: input.mediaType,
        expectedSize: BigInt(input.size),
        expectedDigest: digest ? storedDigest(digest) : null,
        tempPath,
        createdById: actor.identity.userId,
        expiresAt: new Date(Date.now() + UPLOAD_TTL_MS),
      },
    });
    await recordAudit(tx, actor, {
      action: 'image.upload',
      targetType: 'upload',
      targetId: created.id,
      after: {
        imageId: input.imageId,
        size: input.size,
        digest: created.expectedDigest,
        mediaType: input.mediaType,
      },
    });
    return created;
  });
  return toUploadOutput(upload);
}

async function findUpload(db: PrismaClient, id: string): Promise<Upload> {
  const upload = await db.upload.findUnique({ where: { id } });
  if (!upload) throw notFound('Upload', 'id');
  return upload;
}

/** Only an ACTIVE session takes bytes, completes or aborts. */
function assertActive(upload: Upload): void {
  if (upload.status !== 'ACTIVE')
    throw new DomainError('CONFLICT', `Upload is ${upload.status.toLowerCase()}`);
}

export async function getUpload(db: PrismaClient, id: string): Promise<UploadOutput> {
  return toUploadOutput(await findUpload(db, id));
}

/** One writer per session in this process; `bytesReceived` is also committed conditionally. */
const busy = new Set<string>();

async function exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
  if (busy.has(id)) throw new DomainError('CONFLICT', 'Another request is writing to this upload');
  busy.add(id);
  try {
    return await fn();
  } finally {
    busy.delete(id);
  }
}

/** Tells the client where the upload stands: a wrong offset (409), or a body that broke off (400). */
export class UploadOffsetError extends DomainError {
  constructor(
    readonly expectedOffset: number,
    interrupted = false,
  ) {
    super(
      interrupted ? 'BAD_REQUEST' : 'CONFLICT',
      interrupted
        ? `The request body ended early; continue at byte ${expectedOffset}`
        : `Upload offset mismatch: continue at byte ${expectedOffset}`,
      'offset',
    );
  }
}

/** Marks errors raised by the body (the client) apart from errors writing to disk. */
class BodyError extends Error {}

async function* tagBodyErrors(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = body[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await it.next();
    } catch (err) {
      throw new BodyError((err as Error)?.message ?? 'body failed');
    }
    if (next.done) return;
    yield next.value;
  }
}

/**
 * Appends `body` at `offset`. If the body ends early (client went away) the bytes that arrived are
 * still committed, so the client resumes after them. Bytes beyond the expected size are refused.
 */
export async function writeUploadChunk(
  db: PrismaClient,
  deps: ImageDeps,
  id: string,
  offset: number,
  body: AsyncIterable<Uint8Array>,
): Promise<{ bytesReceived: number; complete: boolean }> {
  return exclusive(id, async () => {
    const upload = await findUpload(db, id);
    assertActive(upload);
    const committed = Number(upload.bytesReceived);
    const expected = Number(upload.expectedSize);
    if (offset !== committed) throw new UploadOffsetError(committed);

    const handle = await open(partPath(deps, upload), 'r+');
    let position = offset;
    let failure: Error | null = null;
    try {
      // Anything past the committed offset is from a write that never committed: drop it.
      await handle.truncate(offset);
      try {
        for await (const part of tagBodyErrors(body)) {
          if (position + part.length > expected) {
            throw new DomainError(
              'BAD_REQUEST',
              `Upload exceeds its declared size of ${expected} bytes`,
              'size',
            );
          }
          let written = 0;
          while (written < part.length) {
            const r = await handle.write(part, written, part.length - written, position + written);
            written += r.bytesWritten;
          }
          position += part.length;
        }
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
      }
      if (failure instanceof DomainError) {
        position = offset;
        await handle.truncate(offset);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (position > offset) {
      const res = await db.upload.updateMany({
        where: { id, status: 'ACTIVE', bytesReceived: BigInt(offset) },
        data: { bytesReceived: BigInt(position) },
      });
      if (res.count !== 1)
        throw new DomainError('CONFLICT', 'The upload changed while this request was writing');
    }
    if (failure instanceof BodyError) throw new UploadOffsetError(position, true);
    if (failure) throw failure;
    return { bytesReceived: position, complete: position === expected };
  });
}

async function attachLayer(
  db: PrismaClient,
  upload: Upload,
  digest: string,
  size: number,
  storageKey: string,
): Promise<{ layer: Layer; needsIndex: boolean }> {
  const stored = storedDigest(digest);
  const existing = await db.layer.findUnique({ where: { digest: stored } });
  if (existing) {
    if (existing.status === 'READY') return { layer: existing, needsIndex: false };
    const layer = await db.layer.update({
      where: { id: existing.id },
      data: existing.status === 'FAILED' ? { status: 'INDEXING', error: null } : {},
    });
    return { layer, needsIndex: true };
  }
  try {
    const layer = await db.layer.create({
      data: {
        imageId: upload.imageId,
        digest: stored,
        size: BigInt(size),
        mediaType: upload.mediaType,
        storageKey,
        status: 'INDEXING',
      },
    });
    return { layer, needsIndex: true };
  } catch (err) {
    // Two uploads of the same bytes finished at once: the other one created the layer.
    if (fromPrismaError(err)?.code === 'CONFLICT') return attachLayer(db, upload, digest, size, storageKey);
    throw err;
  }
}

/** Verifies the received bytes, stores them as a layer and queues its indexing. */
export async function completeUpload(
  db: PrismaClient,
  deps: ImageDeps,
  actor: Actor,
  id: string,
): Promise<UploadOutput> {
  return exclusive(id, async () => {
    const upload = await findUpload(db, id);
    if (upload.status === 'COMPLETED') return toUploadOutput(upload);
    assertActive(upload);
    const size = Number(upload.expectedSize);
    if (Number(upload.bytesReceived) !== size) {
      throw new DomainError(
        'CONFLICT',
        `Upload has ${Number(upload.bytesReceived)} of ${size} bytes; send the rest first`,
      );
    }
    let put;
    try {
      put = await deps.blobs.putFile(partPath(deps, upload), {
        size,
        ...(upload.expectedDigest ? { digest: upload.expectedDigest.replace(/^sha256:/, '') } : {}),
      });
    } catch (err) {
      if (!(err instanceof BlobStoreError)) throw err;
      await db.upload.update({ where: { id }, data: { status: 'FAILED', error: err.message } });
      throw new DomainError('BAD_REQUEST', `Upload rejected: ${err.message}`, 'digest');
    }
    const { layer, needsIndex } = await attachLayer(
      db,
      upload,
      put.digest,
      put.size,
      deps.blobs.keyOf(put.digest),
    );
    const done = await db.$transaction(async (tx) => {
      const updated = await tx.upload.update({
        where: { id },
        data: { status: 'COMPLETED', layerId: layer.id, error: null },
      });
      await recordAudit(tx, actor, {
        action: 'image.upload',
        targetType: 'layer',
        targetId: layer.id,
        after: {
          uploadId: id,
          digest: layer.digest,
          size,
          mediaType: layer.mediaType,
          deduplicated: !needsIndex,
        },
      });
      return updated;
    });
    if (needsIndex) await deps.queue.enqueue(layer.id);
    return toUploadOutput(done);
  });
}

export async function abortUpload(
  db: PrismaClient,
  deps: ImageDeps,
  actor: Actor,
  id: string,
): Promise<UploadOutput> {
  return exclusive(id, async () => {
    const upload = await findUpload(db, id);
    assertActive(upload);
    const updated = await db.$transaction(async (tx) => {
      const u = await tx.upload.update({ where: { id }, data: { status: 'ABORTED' } });
      await recordAudit(tx, actor, { action: 'image.upload.abort', targetType: 'upload', targetId: id });
      return u;
    });
    await rm(partPath(deps, upload), { force: true });
    return toUploadOutput(updated);
  });
}

/** Expires sessions past `expiresAt` and deletes their partial files (run periodically by the worker). */
export async function sweepExpiredUploads(
  db: PrismaClient,
  deps: ImageDeps,
  now = new Date(),
): Promise<number> {
  const stale = await db.upload.findMany({ where: { status: 'ACTIVE', expiresAt: { lt: now } } });
  for (const u of stale) {
    const res = await db.upload.updateMany({
      where: { id: u.id, status: 'ACTIVE' },
      data: { status: 'EXPIRED' },
    });
    if (res.count === 1) await rm(partPath(deps, u), { force: true });
  }
  return stale.length;
}
