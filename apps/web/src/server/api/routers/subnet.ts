import { z } from 'zod';
import {
  createSubnet,
  deleteSubnet,
  getSubnet,
  listSubnets,
  subnetInput,
  subnetOutput,
  subnetPatch,
  updateSubnet,
} from '../../services/subnets';
import { procedure, router } from '../trpc';
import { actorOf, byId, deletedOutput } from './shared';

export const subnetRouter = router({
  list: procedure('subnet.read', { method: 'GET', path: '/subnets', summary: 'List subnets' })
    .input(z.object({ siteId: z.uuid().optional() }))
    .output(z.array(subnetOutput))
    .query(({ ctx, input }) => listSubnets(ctx.db, input)),
  get: procedure('subnet.read', { method: 'GET', path: '/subnets/{id}', summary: 'Get a subnet' })
    .input(byId)
    .output(subnetOutput)
    .query(({ ctx, input }) => getSubnet(ctx.db, input.id)),
  create: procedure('subnet.create', { method: 'POST', path: '/subnets', summary: 'Create a subnet' })
    .input(subnetInput)
    .output(subnetOutput)
    .mutation(({ ctx, input }) => createSubnet(ctx.db, actorOf(ctx), input)),
  update: procedure('subnet.update', { method: 'PATCH', path: '/subnets/{id}', summary: 'Update a subnet' })
    .input(byId.extend(subnetPatch.shape))
    .output(subnetOutput)
    .mutation(({ ctx, input: { id, ...patch } }) => updateSubnet(ctx.db, actorOf(ctx), id, patch)),
  /** Agents a subnet can be served by (the subnet form's choices). */
  agentOptions: procedure('agent.read')
    .input(z.object({}))
    .output(z.array(z.object({ id: z.string(), name: z.string(), siteId: z.string() })))
    .query(({ ctx }) =>
      ctx.db.agent.findMany({ select: { id: true, name: true, siteId: true }, orderBy: { name: 'asc' } }),
    ),
  delete: procedure('subnet.delete', {
    method: 'DELETE',
    path: '/subnets/{id}',
    summary: 'Delete a subnet without hosts',
  })
    .input(byId)
    .output(deletedOutput)
    .mutation(({ ctx, input }) => deleteSubnet(ctx.db, actorOf(ctx), input.id)),
});
