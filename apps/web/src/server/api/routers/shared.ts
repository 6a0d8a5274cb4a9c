import { z } from 'zod';
import type { Actor } from '../../services/audit';
import type { AuthedContext } from '../trpc';

export const byId = z.object({ id: z.uuid() });
export const deletedOutput = z.object({ id: z.string() });

export function actorOf(ctx: AuthedContext): Actor {
  return { identity: ctx.identity, ip: ctx.ip, userAgent: ctx.userAgent };
}
