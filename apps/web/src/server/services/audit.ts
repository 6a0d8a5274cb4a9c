import type { Prisma } from '../../generated/prisma/client';
import type { Identity } from '../api/identity';

/** Who made a change and from where, as recorded in the audit log. */
export interface Actor {
  identity: Identity;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditEntry {
  action: string;
  targetType: string;
  targetId: string | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

type Tx = Pick<Prisma.TransactionClient, 'auditLog'>;

const SECRET_KEYS = /password|secret|token|hash|private/i;

/** Keeps summaries small and free of secrets: drops secret-looking keys and dates become ISO strings. */
export function summarize(
  value: Record<string, unknown> | null | undefined,
): Prisma.InputJsonValue | undefined {
  if (!value) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_KEYS.test(k) || v === undefined) continue;
    if (v instanceof Date) out[k] = v.toISOString();
    else if (typeof v === 'bigint') out[k] = v.toString();
    else if (v instanceof Uint8Array) continue;
    else out[k] = v;
  }
  return out as Prisma.InputJsonValue;
}

/** Only the keys whose values differ, so an update's entry shows what changed. */
export function changed(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const b: Record<string, unknown> = {};
  const a: Record<string, unknown> = {};
  for (const key of Object.keys(after)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      b[key] = before[key];
      a[key] = after[key];
    }
  }
  return { before: b, after: a };
}

/**
 * Appends one entry; call it inside the mutation's transaction so the change and its record commit
 * together. The application never updates or deletes audit rows.
 */
export async function recordAudit(tx: Tx, actor: Actor, entry: AuditEntry): Promise<void> {
  const id = actor.identity;
  await tx.auditLog.create({
    data: {
      actorType: id.kind === 'token' ? 'API_TOKEN' : 'USER',
      actorUserId: id.userId,
      actorTokenId: id.kind === 'token' ? id.tokenId : null,
      actorLabel: id.label.slice(0, 320),
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      before: summarize(entry.before),
      after: summarize(entry.after),
      ip: actor.ip,
      userAgent: actor.userAgent?.slice(0, 500) ?? null,
    },
  });
}
