import { z } from 'zod';
import { getImageDeps } from '../../images/deps';
import {
  createSigningKey,
  listSigningKeys,
  retireSigningKey,
  revokeSigningKey,
  rotateSigningKey,
  signingKeyOutput,
  trustedKeyOutput,
  trustedKeys,
} from '../../images/signing-keys';
import { procedure, router } from '../trpc';
import { actorOf, byId } from './shared';

/** Manifest-signing keys. Outputs carry public keys only: private keys never leave the key service. */
export const signingKeyRouter = router({
  list: procedure('signingKey.read', { method: 'GET', path: '/signing-keys', summary: 'List signing keys' })
    .input(z.object({}))
    .output(z.array(signingKeyOutput))
    .query(({ ctx }) => listSigningKeys(ctx.db)),
  trusted: procedure('signingKey.read', {
    method: 'GET',
    path: '/signing-keys/trusted',
    summary: 'The trust set for verifiers (also public at /api/agent/v1/trusted-keys)',
  })
    .input(z.object({}))
    .output(z.array(trustedKeyOutput))
    .query(({ ctx }) => trustedKeys(ctx.db)),
  // No-argument mutations take a strict empty object so a stray body is refused, not ignored.
  create: procedure('signingKey.manage', {
    method: 'POST',
    path: '/signing-keys',
    summary: 'Create the first active signing key',
  })
    .input(z.strictObject({}))
    .output(signingKeyOutput)
    .mutation(({ ctx }) => createSigningKey(ctx.db, actorOf(ctx), getImageDeps().kek())),
  rotate: procedure('signingKey.manage', {
    method: 'POST',
    path: '/signing-keys/rotate',
    summary: 'New active key; the old one is retired and published manifests are co-signed',
  })
    .input(z.strictObject({}))
    .output(signingKeyOutput)
    .mutation(({ ctx }) => rotateSigningKey(ctx.db, actorOf(ctx), getImageDeps().kek())),
  retire: procedure('signingKey.manage', {
    method: 'POST',
    path: '/signing-keys/{id}/retire',
    summary: 'Stop signing with a key (it still verifies)',
  })
    .input(byId)
    .output(signingKeyOutput)
    .mutation(({ ctx, input }) => retireSigningKey(ctx.db, actorOf(ctx), input.id)),
  revoke: procedure('signingKey.manage', {
    method: 'POST',
    path: '/signing-keys/{id}/revoke',
    summary: 'Distrust a key: manifests signed only by it stop verifying',
  })
    .input(byId)
    .output(signingKeyOutput)
    .mutation(({ ctx, input }) => revokeSigningKey(ctx.db, actorOf(ctx), input.id)),
});
