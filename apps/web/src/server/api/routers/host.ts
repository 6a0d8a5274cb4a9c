import { exportHosts, exportOutput, importHosts, importInput, importOutput } from '../../services/host-csv';
import {
  createHost,
  deleteHost,
  getHost,
  hostDetail,
  hostDetailOutput,
  hostInput,
  hostListInput,
  hostOutput,
  hostPageOutput,
  hostPatch,
  listHosts,
  updateHost,
} from '../../services/hosts';
import { procedure, router } from '../trpc';
import { actorOf, byId, deletedOutput } from './shared';

const exportInput = hostListInput.pick({ q: true, siteId: true, subnetId: true, tag: true, state: true });

// REST routes match in definition order: `export` must come before `get` (/hosts/{id}).
export const hostRouter = router({
  list: procedure('host.read', {
    method: 'GET',
    path: '/hosts',
    summary: 'List hosts: search (hostname, MAC, address), filter, sort, paginate',
  })
    .input(hostListInput)
    .output(hostPageOutput)
    .query(({ ctx, input }) => listHosts(ctx.db, input)),
  export: procedure('host.export', { method: 'GET', path: '/hosts/export', summary: 'Export hosts as CSV' })
    .input(exportInput)
    .output(exportOutput)
    .query(({ ctx, input }) => exportHosts(ctx.db, input)),
  get: procedure('host.read', { method: 'GET', path: '/hosts/{id}', summary: 'Get a host' })
    .input(byId)
    .output(hostOutput)
    .query(({ ctx, input }) => getHost(ctx.db, input.id)),
  detail: procedure('host.read')
    .input(byId)
    .output(hostDetailOutput)
    .query(({ ctx, input }) => hostDetail(ctx.db, input.id)),
  create: procedure('host.create', { method: 'POST', path: '/hosts', summary: 'Create a host' })
    .input(hostInput)
    .output(hostOutput)
    .mutation(({ ctx, input }) => createHost(ctx.db, actorOf(ctx), input)),
  update: procedure('host.update', { method: 'PATCH', path: '/hosts/{id}', summary: 'Update a host' })
    .input(byId.extend(hostPatch.shape))
    .output(hostOutput)
    .mutation(({ ctx, input: { id, ...patch } }) => updateHost(ctx.db, actorOf(ctx), id, patch)),
  delete: procedure('host.delete', { method: 'DELETE', path: '/hosts/{id}', summary: 'Delete a host' })
    .input(byId)
    .output(deletedOutput)
    .mutation(({ ctx, input }) => deleteHost(ctx.db, actorOf(ctx), input.id)),
  import: procedure('host.import', {
    method: 'POST',
    path: '/hosts/import',
    summary: 'Import hosts from CSV (rows with problems are reported and skipped)',
  })
    .input(importInput)
    .output(importOutput)
    .mutation(({ ctx, input }) => importHosts(ctx.db, actorOf(ctx), input)),
});
