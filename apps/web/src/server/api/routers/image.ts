import { z } from 'zod';
import { getImageDeps } from '../../images/deps';
import {
  createImage,
  deleteImage,
  getImage,
  imageDetailOutput,
  imageInput,
  imageOutput,
  imagePatch,
  layerOutput,
  layerProgress,
  layerProgressOutput,
  listImages,
  reindexLayer,
  toLayerOutput,
  updateImage,
} from '../../images/images';
import {
  abortUpload,
  completeUpload,
  createUpload,
  createUploadInput,
  getUpload,
  uploadOutput,
} from '../../images/uploads';
import { procedure, router } from '../trpc';
import { actorOf, byId, deletedOutput } from './shared';

/** Images, their layers and resumable layer uploads (the bytes go to /api/uploads/{id}). */
export const imageRouter = router({
  list: procedure('image.read', { method: 'GET', path: '/images', summary: 'List images' })
    .input(z.object({}))
    .output(z.array(imageOutput))
    .query(({ ctx }) => listImages(ctx.db)),
  get: procedure('image.read', {
    method: 'GET',
    path: '/images/{id}',
    summary: 'Get an image with its layers',
  })
    .input(byId)
    .output(imageDetailOutput)
    .query(({ ctx, input }) => getImage(ctx.db, input.id)),
  create: procedure('image.manage', { method: 'POST', path: '/images', summary: 'Create an image' })
    .input(imageInput)
    .output(imageOutput)
    .mutation(({ ctx, input }) => createImage(ctx.db, actorOf(ctx), input)),
  update: procedure('image.manage', { method: 'PATCH', path: '/images/{id}', summary: 'Update an image' })
    .input(byId.extend(imagePatch.shape))
    .output(imageOutput)
    .mutation(({ ctx, input: { id, ...patch } }) => updateImage(ctx.db, actorOf(ctx), id, patch)),
  delete: procedure('image.manage', {
    method: 'DELETE',
    path: '/images/{id}',
    summary: 'Delete an image without releases',
  })
    .input(byId)
    .output(deletedOutput)
    .mutation(({ ctx, input }) => deleteImage(ctx.db, actorOf(ctx), input.id)),
  layers: procedure('image.read', { method: 'GET', path: '/layers', summary: 'List layers' })
    .input(z.object({ status: layerOutput.shape.status.optional() }))
    .output(z.array(layerOutput))
    .query(async ({ ctx, input }) =>
      (
        await ctx.db.layer.findMany({
          where: input.status ? { status: input.status } : {},
          orderBy: { createdAt: 'desc' },
          take: 1000,
        })
      ).map(toLayerOutput),
    ),
  layerProgress: procedure('image.read')
    .input(z.object({ ids: z.array(z.uuid()).max(200) }))
    .output(layerProgressOutput)
    .query(({ ctx, input }) => layerProgress(ctx.db, getImageDeps(), input.ids)),
  reindexLayer: procedure('image.manage', {
    method: 'POST',
    path: '/layers/{id}/reindex',
    summary: 'Queue indexing again for a failed layer',
  })
    .input(byId)
    .output(layerOutput)
    .mutation(({ ctx, input }) => reindexLayer(ctx.db, getImageDeps(), actorOf(ctx), input.id)),
  createUpload: procedure('image.manage', {
    method: 'POST',
    path: '/uploads',
    summary: 'Start a resumable layer upload; PATCH the bytes to its uploadUrl with Upload-Offset',
  })
    .input(createUploadInput)
    .output(uploadOutput)
    .mutation(({ ctx, input }) => createUpload(ctx.db, getImageDeps(), actorOf(ctx), input)),
  getUpload: procedure('image.read', {
    method: 'GET',
    path: '/uploads/{id}',
    summary: 'An upload session (bytesReceived is where to resume)',
  })
    .input(byId)
    .output(uploadOutput)
    .query(({ ctx, input }) => getUpload(ctx.db, input.id)),
  completeUpload: procedure('image.manage', {
    method: 'POST',
    path: '/uploads/{id}/complete',
    summary: 'Verify the uploaded bytes, store them as a layer and queue indexing',
  })
    .input(byId)
    .output(uploadOutput)
    .mutation(({ ctx, input }) => completeUpload(ctx.db, getImageDeps(), actorOf(ctx), input.id)),
  abortUpload: procedure('image.manage', {
    method: 'POST',
    path: '/uploads/{id}/abort',
    summary: 'Abandon an upload',
  })
    .input(byId)
    .output(uploadOutput)
    .mutation(({ ctx, input }) => abortUpload(ctx.db, getImageDeps(), actorOf(ctx), input.id)),
});
