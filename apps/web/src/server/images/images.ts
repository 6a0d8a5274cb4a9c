import { z } from 'zod';
import type { Layer, PrismaClient } from '../../generated/prisma/client';
import { DomainError, notFound } from '../api/errors';
import { changed, recordAudit, type Actor } from '../services/audit';
import type { ImageDeps } from './deps';
import { toUploadOutput, uploadOutput } from './uploads';

/** Images name a line of releases; their name becomes `release.name` in signed manifests. */
const imageFields = z.object({
  name: z
    .string()
    .trim()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
      'letters, digits, ".", "_" and "-" (at most 128), no spaces',
    ),
  description: z.string().trim().max(2000),
});
export const imageInput = imageFields.extend({ description: imageFields.shape.description.default('') });
export const imagePatch = z.object({ description: imageFields.shape.description });
export type ImageInput = z.infer<typeof imageInput>;

export const layerOutput = z
  .object({
    id: z.string(),
    imageId: z.string().nullable(),
    digest: z.string(),
    size: z.number(),
    mediaType: z.string(),
    status: z.enum(['UPLOADING', 'INDEXING', 'READY', 'FAILED']),
    error: z.string().nullable(),
    chunkIndexDigest: z.string().nullable(),
    chunkCount: z.number().int().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Layer' });
export type LayerOutput = z.infer<typeof layerOutput>;

export const imageOutput = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    layerCount: z.number().int(),
    releaseCount: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Image' });
export type ImageOutput = z.infer<typeof imageOutput>;

export const imageDetailOutput = imageOutput
  .extend({ layers: z.array(layerOutput), uploads: z.array(uploadOutput) })
  .meta({ id: 'ImageDetail' });

export const layerProgressOutput = z.array(
  z.object({
    id: z.string(),
    status: layerOutput.shape.status,
    /** Indexing progress in percent while INDEXING (from the job), 100 when READY. */
    progress: z.number().nullable(),
    error: z.string().nullable(),
    chunkCount: z.number().int().nullable(),
  }),
);

export function toLayerOutput(l: Layer): LayerOutput {
  return {
    id: l.id,
    imageId: l.imageId,
    digest: l.digest,
    size: Number(l.size),
    mediaType: l.mediaType,
    status: l.status,
    error: l.error,
    chunkIndexDigest: l.chunkIndexDigest,
    chunkCount: l.chunkCount,
    createdAt: l.createdAt.toISOString(),
  };
}

const withCounts = { _count: { select: { layers: true, releases: true } } } as const;

type ImageWithCounts = {
  id: string;
  name: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
  _count: { layers: number; releases: number };
};

function toOutput(i: ImageWithCounts): ImageOutput {
  return {
    id: i.id,
    name: i.name,
    description: i.description,
    layerCount: i._count.layers,
    releaseCount: i._count.releases,
    createdAt: i.createdAt.toISOString(),
    updatedAt: i.updatedAt.toISOString(),
  };
}

export async function listImages(db: PrismaClient): Promise<ImageOutput[]> {
  const images = await db.image.findMany({ orderBy: { name: 'asc' }, include: withCounts });
  return images.map(toOutput);
}

export async function getImage(db: PrismaClient, id: string) {
  const image = await db.image.findUnique({
    where: { id },
    include: {
      ...withCounts,
      layers: { orderBy: { createdAt: 'desc' } },
      uploads: { where: { status: 'ACTIVE' }, orderBy: { createdAt: 'desc' } },
    },
  });
  if (!image) throw notFound('Image', 'id');
  return {
    ...toOutput(image),
    layers: image.layers.map(toLayerOutput),
    uploads: image.uploads.map(toUploadOutput),
  };
}

export async function createImage(db: PrismaClient, actor: Actor, input: ImageInput): Promise<ImageOutput> {
  const clash = await db.image.findFirst({
    where: { name: { equals: input.name, mode: 'insensitive' } },
    select: { id: true },
  });
  if (clash) throw new DomainError('CONFLICT', `An image named "${input.name}" already exists`, 'name');
  const image = await db.$transaction(async (tx) => {
    const created = await tx.image.create({ data: input, include: withCounts });
    await recordAudit(tx, actor, {
      action: 'image.create',
      targetType: 'image',
      targetId: created.id,
      after: { name: created.name, description: created.description },
    });
    return created;
  });
  return toOutput(image);
}

export async function updateImage(
  db: PrismaClient,
  actor: Actor,
  id: string,
  patch: { description?: string | undefined },
): Promise<ImageOutput> {
  const image = await db.$transaction(async (tx) => {
    const before = await tx.image.findUnique({ where: { id } });
    if (!before) throw notFound('Image', 'id');
    const after = await tx.image.update({ where: { id }, data: patch, include: withCounts });
    await recordAudit(tx, actor, {
      action: 'image.update',
      targetType: 'image',
      targetId: id,
      ...changed({ description: before.description }, { description: after.description }),
    });
    return after;
  });
  return toOutput(image);
}

/** Only an image without releases can go; its layers stay (they may be shared) and lose the link. */
export async function deleteImage(db: PrismaClient, actor: Actor, id: string): Promise<{ id: string }> {
  await db.$transaction(async (tx) => {
    const image = await tx.image.findUnique({ where: { id }, include: withCounts });
    if (!image) throw notFound('Image', 'id');
    if (image._count.releases > 0) {
      throw new DomainError(
        'CONFLICT',
        `Image "${image.name}" has ${image._count.releases} release(s); delete or keep them first`,
      );
    }
    await tx.image.delete({ where: { id } });
    await recordAudit(tx, actor, {
      action: 'image.delete',
      targetType: 'image',
      targetId: id,
      before: { name: image.name },
    });
  });
  return { id };
}

/** Status and indexing progress of some layers, for the page to poll while jobs run. */
export async function layerProgress(db: PrismaClient, deps: ImageDeps, ids: string[]) {
  const layers = await db.layer.findMany({ where: { id: { in: ids } } });
  return Promise.all(
    layers.map(async (l) => ({
      id: l.id,
      status: l.status,
      progress:
        l.status === 'READY'
          ? 100
          : l.status === 'INDEXING'
            ? await deps.queue.progress(l.id).catch(() => null)
            : null,
      error: l.error,
      chunkCount: l.chunkCount,
    })),
  );
}

/** Queues indexing again for a FAILED (or stuck INDEXING) layer. */
export async function reindexLayer(
  db: PrismaClient,
  deps: ImageDeps,
  actor: Actor,
  id: string,
): Promise<LayerOutput> {
  const layer = await db.$transaction(async (tx) => {
    const before = await tx.layer.findUnique({ where: { id } });
    if (!before) throw notFound('Layer', 'id');
    if (before.status === 'READY') throw new DomainError('CONFLICT', 'The layer is already indexed');
    const after = await tx.layer.update({ where: { id }, data: { status: 'INDEXING', error: null } });
    await recordAudit(tx, actor, {
      action: 'image.reindex',
      targetType: 'layer',
      targetId: id,
      before: { status: before.status },
      after: { status: after.status },
    });
    return after;
  });
  await deps.queue.enqueue(id);
  return toLayerOutput(layer);
}
