import { z } from 'zod';
import {
  createSite,
  deleteSite,
  getSite,
  listSites,
  siteInput,
  siteOutput,
  sitePatch,
  updateSite,
} from '../../services/sites';
import { procedure, router } from '../trpc';
import { actorOf, byId, deletedOutput } from './shared';

export const siteRouter = router({
  list: procedure('site.read', { method: 'GET', path: '/sites', summary: 'List sites' })
    .input(z.object({}))
    .output(z.array(siteOutput))
    .query(({ ctx }) => listSites(ctx.db)),
  get: procedure('site.read', { method: 'GET', path: '/sites/{id}', summary: 'Get a site' })
    .input(byId)
    .output(siteOutput)
    .query(({ ctx, input }) => getSite(ctx.db, input.id)),
  create: procedure('site.create', { method: 'POST', path: '/sites', summary: 'Create a site' })
    .input(siteInput)
    .output(siteOutput)
    .mutation(({ ctx, input }) => createSite(ctx.db, actorOf(ctx), input)),
  update: procedure('site.update', { method: 'PATCH', path: '/sites/{id}', summary: 'Update a site' })
    .input(byId.extend(sitePatch.shape))
    .output(siteOutput)
    .mutation(({ ctx, input: { id, ...patch } }) => updateSite(ctx.db, actorOf(ctx), id, patch)),
  delete: procedure('site.delete', { method: 'DELETE', path: '/sites/{id}', summary: 'Delete an empty site' })
    .input(byId)
    .output(deletedOutput)
    .mutation(({ ctx, input }) => deleteSite(ctx.db, actorOf(ctx), input.id)),
});
