import { z } from 'zod';
import {
  bootProfileInput,
  bootProfileOutput,
  bootProfilePatch,
  createBootProfile,
  deleteBootProfile,
  getBootProfile,
  listBootProfiles,
  updateBootProfile,
} from '../../services/boot-profiles';
import { procedure, router } from '../trpc';
import { actorOf, byId, deletedOutput } from './shared';

export const bootProfileRouter = router({
  list: procedure('bootProfile.read', {
    method: 'GET',
    path: '/boot-profiles',
    summary: 'List boot profiles',
  })
    .input(z.object({}))
    .output(z.array(bootProfileOutput))
    .query(({ ctx }) => listBootProfiles(ctx.db)),
  get: procedure('bootProfile.read', {
    method: 'GET',
    path: '/boot-profiles/{id}',
    summary: 'Get a boot profile',
  })
    .input(byId)
    .output(bootProfileOutput)
    .query(({ ctx, input }) => getBootProfile(ctx.db, input.id)),
  create: procedure('bootProfile.create', {
    method: 'POST',
    path: '/boot-profiles',
    summary: 'Create a boot profile',
  })
    .input(bootProfileInput)
    .output(bootProfileOutput)
    .mutation(({ ctx, input }) => createBootProfile(ctx.db, actorOf(ctx), input)),
  update: procedure('bootProfile.update', {
    method: 'PATCH',
    path: '/boot-profiles/{id}',
    summary: 'Update a boot profile',
  })
    .input(byId.extend(bootProfilePatch.shape))
    .output(bootProfileOutput)
    .mutation(({ ctx, input: { id, ...patch } }) => updateBootProfile(ctx.db, actorOf(ctx), id, patch)),
  /** Releases a profile entry can point at (the form's choices). */
  releaseOptions: procedure('release.read')
    .input(z.object({}))
    .output(z.array(z.object({ id: z.string(), label: z.string(), status: z.string() })))
    .query(async ({ ctx }) => {
      const releases = await ctx.db.release.findMany({
        where: { status: { not: 'RETIRED' } },
        select: { id: true, version: true, status: true, image: { select: { name: true } } },
        orderBy: [{ image: { name: 'asc' } }, { createdAt: 'desc' }],
        take: 500,
      });
      return releases.map((r) => ({ id: r.id, label: `${r.image.name} ${r.version}`, status: r.status }));
    }),
  delete: procedure('bootProfile.delete', {
    method: 'DELETE',
    path: '/boot-profiles/{id}',
    summary: 'Delete an unused boot profile',
  })
    .input(byId)
    .output(deletedOutput)
    .mutation(({ ctx, input }) => deleteBootProfile(ctx.db, actorOf(ctx), input.id)),
});
