import { z } from 'zod';
import { auditListInput, auditPageOutput, listAudit } from '../../services/audit-log';
import { dashboard, dashboardOutput } from '../../services/dashboard';
import { createToken, listTokens, revokeToken, tokenCreateInput, tokenOutput } from '../../services/tokens';
import {
  createUser,
  listUsers,
  updateUser,
  userCreateInput,
  userOutput,
  userUpdateInput,
} from '../../services/users';
import { procedure, router } from '../trpc';
import { actorOf, byId, deletedOutput } from './shared';

export const dashboardRouter = router({
  summary: procedure('dashboard.read', {
    method: 'GET',
    path: '/dashboard',
    summary: 'Fleet counts per site and state',
  })
    .input(z.object({}))
    .output(dashboardOutput)
    .query(({ ctx }) => dashboard(ctx.db)),
});

export const auditRouter = router({
  list: procedure('audit.read', { method: 'GET', path: '/audit', summary: 'Audit log, newest first' })
    .input(auditListInput)
    .output(auditPageOutput)
    .query(({ ctx, input }) => listAudit(ctx.db, input)),
});

export const tokenRouter = router({
  list: procedure('token.read', {
    method: 'GET',
    path: '/tokens',
    summary: 'List API tokens (never their secrets)',
  })
    .input(z.object({}))
    .output(z.array(tokenOutput))
    .query(({ ctx }) => listTokens(ctx.db)),
  create: procedure('token.create', {
    method: 'POST',
    path: '/tokens',
    summary: 'Create an API token; the token is in this response only',
  })
    .input(tokenCreateInput)
    .output(z.object({ id: z.string(), token: z.string(), prefix: z.string() }))
    .mutation(({ ctx, input }) => createToken(ctx.db, actorOf(ctx), input)),
  revoke: procedure('token.revoke', {
    method: 'POST',
    path: '/tokens/{id}/revoke',
    summary: 'Revoke an API token',
  })
    .input(byId)
    .output(deletedOutput)
    .mutation(({ ctx, input }) => revokeToken(ctx.db, actorOf(ctx), input.id)),
});

export const userRouter = router({
  list: procedure('user.read', { method: 'GET', path: '/users', summary: 'List user accounts' })
    .input(z.object({}))
    .output(z.array(userOutput))
    .query(({ ctx }) => listUsers(ctx.db)),
  create: procedure('user.create', { method: 'POST', path: '/users', summary: 'Create a local account' })
    .input(userCreateInput)
    .output(userOutput)
    .mutation(({ ctx, input }) => createUser(ctx.db, actorOf(ctx), input)),
  update: procedure('user.update', {
    method: 'PATCH',
    path: '/users/{id}',
    summary: 'Change name, role, password or disable an account (ends its sessions)',
  })
    .input(userUpdateInput)
    .output(userOutput)
    .mutation(({ ctx, input }) => updateUser(ctx.db, actorOf(ctx), input)),
});
