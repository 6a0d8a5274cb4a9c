import {
  addSignature,
  decodeBase64url,
  encodeBase64url,
  exportPrivateKeyPkcs8,
  generateManifestKeyPair,
  PUBLIC_KEY_BYTES,
  signingKeyFromPkcs8,
  type SigningKey as ManifestSigningKey,
  type TrustedKeyInput,
} from '@bootpt/protocol';
import { z } from 'zod';
import type { Prisma, PrismaClient, SigningKey } from '../../generated/prisma/client';
import { DomainError, notFound } from '../api/errors';
import { recordAudit, type Actor } from '../services/audit';
import { decryptPrivateKey, encryptPrivateKey } from './key-crypto';

/**
 * Manifest-signing keys. At most one key is ACTIVE (key mutations are serialised by a transaction-scoped
 * advisory lock); RETIRED keys no longer sign but still verify manifests created before they were
 * retired; REVOKED keys never verify. Private keys exist in plaintext only inside `withActiveSigner`'s
 * callback and are never returned, logged or audited.
 */
export const signingKeyOutput = z
  .object({
    id: z.string(),
    keyId: z.string(),
    algorithm: z.string(),
    /** Raw Ed25519 public key, base64url. */
    publicKey: z.string(),
    state: z.enum(['ACTIVE', 'RETIRED', 'REVOKED']),
    createdAt: z.string(),
    retiredAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    signatureCount: z.number().int(),
  })
  .meta({ id: 'SigningKey' });
export type SigningKeyOutput = z.infer<typeof signingKeyOutput>;

export const trustedKeyOutput = z
  .object({
    keyId: z.string(),
    publicKey: z.string(),
    state: z.enum(['active', 'retired', 'revoked']),
    retiredAt: z.string().optional(),
  })
  .meta({ id: 'TrustedKey' });
/** One entry of the trust set; assignable to the protocol's `TrustedKeyInput` (`createTrustStore`). */
export type TrustedKey = z.infer<typeof trustedKeyOutput> & TrustedKeyInput;

type Tx = Prisma.TransactionClient;
type KeyWithCount = SigningKey & { _count: { signatures: number } };

const publicFields = {
  id: true,
  keyId: true,
  algorithm: true,
  publicKey: true,
  state: true,
  createdAt: true,
  retiredAt: true,
  revokedAt: true,
  _count: { select: { signatures: true } },
} as const;

function toOutput(k: Omit<KeyWithCount, 'encryptedPrivateKey'>): SigningKeyOutput {
  return {
    id: k.id,
    keyId: k.keyId,
    algorithm: k.algorithm,
    publicKey: encodeBase64url(k.publicKey),
    state: k.state,
    createdAt: k.createdAt.toISOString(),
    retiredAt: k.retiredAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
    signatureCount: k._count.signatures,
  };
}

const summary = (k: { keyId: string; state: string }) => ({ keyId: k.keyId, state: k.state });

async function lockKeys(tx: Tx): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('bootpt:signing-keys'))`;
}

export async function listSigningKeys(db: PrismaClient): Promise<SigningKeyOutput[]> {
  const keys = await db.signingKey.findMany({ select: publicFields, orderBy: { createdAt: 'desc' } });
  return keys.map(toOutput);
}

/** Every key verifiers should know, revoked ones included so they are refused by id. */
export async function trustedKeys(db: PrismaClient): Promise<TrustedKey[]> {
  const keys = await db.signingKey.findMany({ orderBy: { createdAt: 'asc' } });
  return keys.map((k) => ({
    keyId: k.keyId,
    publicKey: encodeBase64url(k.publicKey),
    state:
      k.state === 'ACTIVE'
        ? ('active' as const)
        : k.state === 'RETIRED'
          ? ('retired' as const)
          : ('revoked' as const),
    ...(k.state === 'RETIRED' && k.retiredAt ? { retiredAt: k.retiredAt.toISOString() } : {}),
  }));
}

async function insertKey(tx: Tx, kek: Buffer) {
  const pair = generateManifestKeyPair();
  const publicKey = decodeBase64url(pair.publicKeyRaw, PUBLIC_KEY_BYTES)!;
  const sealed = encryptPrivateKey(kek, pair.keyId, exportPrivateKeyPkcs8(pair.privateKey));
  const row = await tx.signingKey.create({
    data: {
      keyId: pair.keyId,
      algorithm: 'ed25519',
      publicKey: new Uint8Array(publicKey),
      encryptedPrivateKey: new Uint8Array(sealed),
      state: 'ACTIVE',
    },
    select: publicFields,
  });
  return { row, signer: pair as ManifestSigningKey };
}

/** Creates the first ACTIVE key; when one is already active, rotating is the way to replace it. */
export async function createSigningKey(
  db: PrismaClient,
  actor: Actor,
  kek: Buffer,
): Promise<SigningKeyOutput> {
  const row = await db.$transaction(async (tx) => {
    await lockKeys(tx);
    const active = await tx.signingKey.findFirst({ where: { state: 'ACTIVE' }, select: { keyId: true } });
    if (active) {
      throw new DomainError('CONFLICT', `Key ${active.keyId} is already active; rotate it to replace it`);
    }
    const { row } = await insertKey(tx, kek);
    await recordAudit(tx, actor, {
      action: 'signingKey.create',
      targetType: 'signingKey',
      targetId: row.id,
      after: summary(row),
    });
    return row;
  });
  return toOutput(row);
}

/**
 * Rotation: a new ACTIVE key, the previous one RETIRED (it still verifies what it signed). Every
 * published manifest is co-signed with the new key, so revoking the old key later does not strand
 * releases that are in use.
 */
export async function rotateSigningKey(
  db: PrismaClient,
  actor: Actor,
  kek: Buffer,
): Promise<SigningKeyOutput> {
  const row = await db.$transaction(
    async (tx) => {
      await lockKeys(tx);
      const now = new Date();
      const previous = await tx.signingKey.findFirst({ where: { state: 'ACTIVE' } });
      if (previous) {
        await tx.signingKey.update({
          where: { id: previous.id },
          data: { state: 'RETIRED', retiredAt: now },
        });
      }
      const { row, signer } = await insertKey(tx, kek);
      const published = await tx.release.findMany({
        where: { status: 'PUBLISHED', manifest: { not: null } },
        select: { id: true, manifest: true },
      });
      for (const r of published) {
        const signed = addSignature({ payload: r.manifest!, signatures: [] }, signer);
        await tx.releaseSignature.create({
          data: {
            releaseId: r.id,
            signingKeyId: row.id,
            signature: new Uint8Array(decodeBase64url(signed.signatures[0]!.sig)!),
          },
        });
      }
      await recordAudit(tx, actor, {
        action: 'signingKey.rotate',
        targetType: 'signingKey',
        targetId: row.id,
        before: previous ? summary(previous) : null,
        after: { ...summary(row), coSignedReleases: published.length },
      });
      return row;
    },
    { timeout: 30_000 },
  );
  return toOutput(row);
}

async function transition(
  db: PrismaClient,
  actor: Actor,
  id: string,
  to: 'RETIRED' | 'REVOKED',
): Promise<SigningKeyOutput> {
  const row = await db.$transaction(async (tx) => {
    await lockKeys(tx);
    const before = await tx.signingKey.findUnique({ where: { id }, select: publicFields });
    if (!before) throw notFound('Signing key', 'id');
    const allowed = to === 'RETIRED' ? before.state === 'ACTIVE' : before.state !== 'REVOKED';
    if (!allowed) {
      throw new DomainError('CONFLICT', `Key ${before.keyId} is ${before.state.toLowerCase()}`);
    }
    const now = new Date();
    const after = await tx.signingKey.update({
      where: { id },
      data: to === 'RETIRED' ? { state: to, retiredAt: now } : { state: to, revokedAt: now },
      select: publicFields,
    });
    await recordAudit(tx, actor, {
      action: to === 'RETIRED' ? 'signingKey.retire' : 'signingKey.revoke',
      targetType: 'signingKey',
      targetId: id,
      before: summary(before),
      after: summary(after),
    });
    return after;
  });
  return toOutput(row);
}

/** ACTIVE → RETIRED without a successor: publishing stops until a key is created. */
export const retireSigningKey = (db: PrismaClient, actor: Actor, id: string) =>
  transition(db, actor, id, 'RETIRED');

/** Any state → REVOKED: manifests signed only by this key stop verifying everywhere. */
export const revokeSigningKey = (db: PrismaClient, actor: Actor, id: string) =>
  transition(db, actor, id, 'REVOKED');

/**
 * Runs `use` with the ACTIVE key decrypted, inside the caller's transaction (which holds the key lock,
 * so the key cannot be rotated away mid-publish).
 */
export async function withActiveSigner<T>(
  tx: Tx,
  kek: Buffer,
  use: (signer: ManifestSigningKey, keyRowId: string) => Promise<T>,
): Promise<T> {
  await lockKeys(tx);
  const key = await tx.signingKey.findFirst({ where: { state: 'ACTIVE' } });
  if (!key) {
    throw new DomainError('CONFLICT', 'There is no active signing key: an admin must create one first');
  }
  const pkcs8 = decryptPrivateKey(kek, key.keyId, key.encryptedPrivateKey);
  try {
    const signer = signingKeyFromPkcs8(pkcs8);
    if (!signer || signer.keyId !== key.keyId) {
      throw new Error(`signing key ${key.keyId}: stored private key does not match its key id`);
    }
    return await use(signer, key.id);
  } finally {
    pkcs8.fill(0);
  }
}
