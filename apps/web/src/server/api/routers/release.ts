import { z } from 'zod';
import { getImageDeps, type ImageDeps } from '../../images/deps';
import {
  createRelease,
  deleteRelease,
  getRelease,
  listReleases,
  publishInput,
  publishRelease,
  releaseDetailOutput,
  releaseInput,
  releaseOutput,
  releasePatch,
  retireRelease,
  updateRelease,
} from '../../images/releases';
import { procedure, router } from '../trpc';
import { actorOf, byId, deletedOutput } from './shared';

/** Reads still work without a blob store configured; they just cannot compute update costs. */
function optionalDeps(): ImageDeps | null {
  try {
    return getImageDeps();
  } catch {
    return null;
  }
}

export const releaseRouter = router({
  list: procedure('release.read', { method: 'GET', path: '/releases', summary: 'List releases' })
    .input(z.object({ imageId: z.uuid().optional() }))
    .output(z.array(releaseOutput))
    .query(({ ctx, input }) => listReleases(ctx.db, optionalDeps(), input)),
  get: procedure('release.read', {
    method: 'GET',
    path: '/releases/{id}',
    summary: 'A release with its layers, signatures and update cost',
  })
    .input(byId)
    .output(releaseDetailOutput)
    .query(({ ctx, input }) => getRelease(ctx.db, optionalDeps(), input.id)),
  create: procedure('release.manage', {
    method: 'POST',
    path: '/releases',
    summary: 'Create a draft release',
  })
    .input(releaseInput)
    .output(releaseOutput)
    .mutation(({ ctx, input }) => createRelease(ctx.db, optionalDeps(), actorOf(ctx), input)),
  update: procedure('release.manage', { method: 'PATCH', path: '/releases/{id}', summary: 'Change a draft' })
    .input(byId.extend(releasePatch.shape))
    .output(releaseOutput)
    .mutation(({ ctx, input: { id, ...patch } }) =>
      updateRelease(ctx.db, optionalDeps(), actorOf(ctx), id, patch),
    ),
  delete: procedure('release.manage', { method: 'DELETE', path: '/releases/{id}', summary: 'Delete a draft' })
    .input(byId)
    .output(deletedOutput)
    .mutation(({ ctx, input }) => deleteRelease(ctx.db, actorOf(ctx), input.id)),
  publish: procedure('release.manage', {
    method: 'POST',
    path: '/releases/{id}/publish',
    summary: 'Build, sign (active key) and freeze the manifest',
  })
    .input(publishInput)
    .output(releaseOutput)
    .mutation(({ ctx, input }) => publishRelease(ctx.db, getImageDeps(), actorOf(ctx), input)),
  retire: procedure('release.manage', {
    method: 'POST',
    path: '/releases/{id}/retire',
    summary: 'Retire a published release',
  })
    .input(byId)
    .output(releaseOutput)
    .mutation(({ ctx, input }) => retireRelease(ctx.db, optionalDeps(), actorOf(ctx), input.id)),
});
