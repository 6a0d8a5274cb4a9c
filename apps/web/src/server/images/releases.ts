import {
  ARCHITECTURES,
  createManifest,
  decodeBase64url,
  decodeManifest,
  encodeBase64url,
  encodeSignedManifest,
  manifestDigest,
  signManifest,
  type Manifest,
  type SignedManifest,
} from '@bootpt/protocol';
import { z } from 'zod';
import type { Prisma, PrismaClient } from '../../generated/prisma/client';
import { DomainError, notFound } from '../api/errors';
import { recordAudit, type Actor } from '../services/audit';
import { bareDigest, storedDigest, type ImageDeps } from './deps';
import { layerOutput, toLayerOutput } from './images';
import { updateCost, type UpdateCost } from './delta';
import { withActiveSigner } from './signing-keys';

/**
 * Releases: an ordered list of layers (position 0 the base, then overlays; for initramfs overlays the
 * kernel unpacks the concatenated cpio archives in this order, so order matters) plus a kernel command
 * line. Publishing freezes it into a canonical manifest signed by the ACTIVE key; published releases
 * are immutable (they can only be retired).
 */
const printable = (max: number) =>
  z
    .string()
    .max(max)
    .refine(
      (s) => ![...s].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f'),
      'must not contain control characters',
    );

const releaseFields = z.object({
  version: printable(100).trim().min(1, 'is required'),
  kernelCmdline: printable(4096),
  notes: z.string().max(4000),
  layerIds: z
    .array(z.uuid())
    .min(1, 'needs at least a base layer')
    .max(256)
    .refine((ids) => new Set(ids).size === ids.length, 'lists a layer twice'),
});
export const releaseInput = releaseFields.extend({
  imageId: z.uuid(),
  kernelCmdline: releaseFields.shape.kernelCmdline.default(''),
  notes: releaseFields.shape.notes.default(''),
});
export const releasePatch = releaseFields.partial();
export type ReleaseInput = z.infer<typeof releaseInput>;
export const publishInput = z.object({
  id: z.uuid(),
  architecture: z.enum(ARCHITECTURES).default('x86_64'),
});

export const updateCostOutput = z
  .object({
    fromReleaseId: z.string(),
    fromVersion: z.string(),
    /** Bytes of the chunks a host on `fromVersion` must fetch. */
    fetchBytes: z.number(),
    fetchChunks: z.number().int(),
    reusedBytes: z.number(),
    /** Bytes of a full download (sum of layer sizes). */
    totalBytes: z.number(),
  })
  .meta({ id: 'UpdateCost' });

export const releaseOutput = z
  .object({
    id: z.string(),
    imageId: z.string(),
    imageName: z.string(),
    version: z.string(),
    status: z.enum(['DRAFT', 'PUBLISHED', 'RETIRED']),
    kernelCmdline: z.string(),
    notes: z.string(),
    manifestDigest: z.string().nullable(),
    layerCount: z.number().int(),
    totalSize: z.number(),
    signedBy: z.array(z.string()),
    publishedAt: z.string().nullable(),
    createdAt: z.string(),
    /** What updating from the previous published release of the same image costs (null: none). */
    update: updateCostOutput.nullable(),
    /** Why the update cost could not be computed although there is a previous release. */
    updateError: z.string().nullable(),
  })
  .meta({ id: 'Release' });
export type ReleaseOutput = z.infer<typeof releaseOutput>;

export const releaseDetailOutput = releaseOutput
  .extend({
    layers: z.array(layerOutput.extend({ position: z.number().int() })),
    signatures: z.array(z.object({ keyId: z.string(), keyState: z.string(), createdAt: z.string() })),
  })
  .meta({ id: 'ReleaseDetail' });

const include = {
  image: { select: { name: true } },
  layers: { orderBy: { position: 'asc' }, include: { layer: true } },
  signatures: { include: { signingKey: { select: { keyId: true, state: true } } } },
} as const satisfies Prisma.ReleaseInclude;

type ReleaseRow = Prisma.ReleaseGetPayload<{ include: typeof include }>;

function toOutput(
  r: ReleaseRow,
  update: UpdateCost | null,
  updateError: string | null = null,
): ReleaseOutput {
  return {
    id: r.id,
    imageId: r.imageId,
    imageName: r.image.name,
    version: r.version,
    status: r.status,
    kernelCmdline: r.kernelCmdline,
    notes: r.notes,
    manifestDigest: r.manifestDigest,
    layerCount: r.layers.length,
    totalSize: r.layers.reduce((sum, l) => sum + Number(l.layer.size), 0),
    signedBy: r.signatures.map((s) => s.signingKey.keyId),
    publishedAt: r.publishedAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
    update,
    updateError,
  };
}

/** The manifest of a release: the signed bytes when published, else what publishing would produce. */
function manifestOf(
  r: ReleaseRow,
  architecture: Manifest['release']['architecture'] = 'x86_64',
): Manifest | null {
  if (r.manifest) {
    const decoded = decodeManifest(r.manifest);
    return decoded.ok ? decoded.value : null;
  }
  if (r.layers.length === 0 || r.layers.some((l) => l.layer.status !== 'READY' || !l.layer.chunkIndexDigest))
    return null;
  return buildManifest(r, new Date(), architecture);
}

function buildManifest(r: ReleaseRow, createdAt: Date, architecture: Manifest['release']['architecture']) {
  return createManifest({
    schemaVersion: 1,
    release: { name: r.image.name, version: r.version, createdAt: createdAt.toISOString(), architecture },
    kernelCmdline: r.kernelCmdline,
    layers: r.layers.map((l) => ({
      digest: bareDigest(l.layer.digest),
      size: Number(l.layer.size),
      mediaType: l.layer.mediaType as Manifest['layers'][number]['mediaType'],
      chunkIndexDigest: bareDigest(l.layer.chunkIndexDigest!),
    })),
    annotations: { 'bootpt.release.id': r.id },
  });
}

/** The latest release of the same image published before `r` (or before now, for drafts). */
async function previousRelease(db: PrismaClient, r: ReleaseRow): Promise<ReleaseRow | null> {
  return db.release.findFirst({
    where: {
      imageId: r.imageId,
      id: { not: r.id },
      status: { in: ['PUBLISHED', 'RETIRED'] },
      publishedAt: r.publishedAt ? { lt: r.publishedAt } : { not: null },
    },
    orderBy: { publishedAt: 'desc' },
    include,
  });
}

async function withUpdate(db: PrismaClient, deps: ImageDeps | null, r: ReleaseRow): Promise<ReleaseOutput> {
  const target = manifestOf(r);
  const prev = target ? await previousRelease(db, r) : null;
  const from = prev ? manifestOf(prev) : null;
  if (!target || !prev || !from) return toOutput(r, null);
  if (!deps) return toOutput(r, null, 'the blob store is not configured');
  try {
    const cost = await updateCost(deps.blobs, { id: prev.id, version: prev.version, manifest: from }, target);
    return toOutput(r, cost);
  } catch (err) {
    return toOutput(r, null, (err as Error).message);
  }
}

export async function listReleases(
  db: PrismaClient,
  deps: ImageDeps | null,
  filter: { imageId?: string | undefined },
): Promise<ReleaseOutput[]> {
  const rows = await db.release.findMany({
    where: filter.imageId ? { imageId: filter.imageId } : {},
    orderBy: [{ createdAt: 'desc' }],
    include,
    take: 500,
  });
  return Promise.all(rows.map((r) => withUpdate(db, deps, r)));
}

export async function getRelease(db: PrismaClient, deps: ImageDeps | null, id: string) {
  const r = await db.release.findUnique({ where: { id }, include });
  if (!r) throw notFound('Release', 'id');
  return {
    ...(await withUpdate(db, deps, r)),
    layers: r.layers.map((l) => ({ ...toLayerOutput(l.layer), position: l.position })),
    signatures: r.signatures.map((s) => ({
      keyId: s.signingKey.keyId,
      keyState: s.signingKey.state,
      createdAt: s.createdAt.toISOString(),
    })),
  };
}

async function loadRow(tx: Prisma.TransactionClient, id: string): Promise<ReleaseRow> {
  const r = await tx.release.findUnique({ where: { id }, include });
  if (!r) throw notFound('Release', 'id');
  return r;
}

async function checkLayers(tx: Prisma.TransactionClient, layerIds: string[]): Promise<void> {
  const found = await tx.layer.findMany({ where: { id: { in: layerIds } }, select: { id: true } });
  if (found.length !== layerIds.length) throw notFound('Layer', 'layerIds');
}

async function setLayers(tx: Prisma.TransactionClient, releaseId: string, layerIds: string[]): Promise<void> {
  await checkLayers(tx, layerIds);
  await tx.releaseLayer.deleteMany({ where: { releaseId } });
  await tx.releaseLayer.createMany({
    data: layerIds.map((layerId, position) => ({ releaseId, layerId, position })),
  });
}

const summary = (r: { version: string; kernelCmdline: string; status: string }, layerIds?: string[]) => ({
  version: r.version,
  kernelCmdline: r.kernelCmdline,
  status: r.status,
  ...(layerIds ? { layerIds } : {}),
});

export async function createRelease(
  db: PrismaClient,
  deps: ImageDeps | null,
  actor: Actor,
  input: ReleaseInput,
): Promise<ReleaseOutput> {
  const image = await db.image.findUnique({ where: { id: input.imageId }, select: { id: true } });
  if (!image) throw notFound('Image', 'imageId');
  const clash = await db.release.findFirst({ where: { imageId: input.imageId, version: input.version } });
  if (clash)
    throw new DomainError('CONFLICT', `Version "${input.version}" already exists for this image`, 'version');
  const row = await db.$transaction(async (tx) => {
    const created = await tx.release.create({
      data: {
        imageId: input.imageId,
        version: input.version,
        kernelCmdline: input.kernelCmdline,
        notes: input.notes,
        createdById: actor.identity.userId,
      },
    });
    await setLayers(tx, created.id, input.layerIds);
    await recordAudit(tx, actor, {
      action: 'release.create',
      targetType: 'release',
      targetId: created.id,
      after: summary(created, input.layerIds),
    });
    return loadRow(tx, created.id);
  });
  return withUpdate(db, deps, row);
}

function assertDraft(r: { status: string; version: string }) {
  if (r.status !== 'DRAFT') {
    throw new DomainError('CONFLICT', `Release ${r.version} is ${r.status.toLowerCase()} and cannot change`);
  }
}

export async function updateRelease(
  db: PrismaClient,
  deps: ImageDeps | null,
  actor: Actor,
  id: string,
  patch: z.infer<typeof releasePatch>,
): Promise<ReleaseOutput> {
  const row = await db.$transaction(async (tx) => {
    const before = await loadRow(tx, id);
    assertDraft(before);
    const { layerIds, ...fields } = patch;
    const after = await tx.release.update({ where: { id }, data: fields });
    if (layerIds) await setLayers(tx, id, layerIds);
    await recordAudit(tx, actor, {
      action: 'release.update',
      targetType: 'release',
      targetId: id,
      before: summary(
        before,
        before.layers.map((l) => l.layerId),
      ),
      after: summary(after, layerIds),
    });
    return loadRow(tx, id);
  });
  return withUpdate(db, deps, row);
}

export async function deleteRelease(db: PrismaClient, actor: Actor, id: string): Promise<{ id: string }> {
  await db.$transaction(async (tx) => {
    const r = await loadRow(tx, id);
    assertDraft(r);
    await tx.release.delete({ where: { id } });
    await recordAudit(tx, actor, {
      action: 'release.delete',
      targetType: 'release',
      targetId: id,
      before: summary(r),
    });
  });
  return { id };
}

/** Builds the manifest, signs it with the ACTIVE key and freezes the release. */
export async function publishRelease(
  db: PrismaClient,
  deps: ImageDeps,
  actor: Actor,
  input: z.infer<typeof publishInput>,
): Promise<ReleaseOutput> {
  const row = await db.$transaction(
    async (tx) => {
      const r = await loadRow(tx, input.id);
      assertDraft(r);
      const notReady = r.layers.filter((l) => l.layer.status !== 'READY' || !l.layer.chunkIndexDigest);
      if (notReady.length > 0) {
        throw new DomainError(
          'CONFLICT',
          `Layer(s) at position ${notReady.map((l) => l.position).join(', ')} are not indexed yet`,
          'layerIds',
        );
      }
      const now = new Date();
      const manifest = buildManifest(r, now, input.architecture);
      await withActiveSigner(tx, deps.kek(), async (signer, keyRowId) => {
        const signed = signManifest(manifest, signer);
        const published = await tx.release.updateMany({
          where: { id: r.id, status: 'DRAFT' },
          data: {
            status: 'PUBLISHED',
            publishedAt: now,
            manifest: new Uint8Array(signed.payload),
            manifestDigest: storedDigest(manifestDigest(manifest)),
          },
        });
        if (published.count !== 1) throw new DomainError('CONFLICT', 'The release changed while publishing');
        await tx.releaseSignature.create({
          data: {
            releaseId: r.id,
            signingKeyId: keyRowId,
            signature: new Uint8Array(decodeBase64url(signed.signatures[0]!.sig)!),
          },
        });
      });
      await recordAudit(tx, actor, {
        action: 'release.publish',
        targetType: 'release',
        targetId: r.id,
        before: { status: r.status },
        after: { status: 'PUBLISHED', manifestDigest: storedDigest(manifestDigest(manifest)) },
      });
      return loadRow(tx, r.id);
    },
    { timeout: 30_000 },
  );
  return withUpdate(db, deps, row);
}

export async function retireRelease(
  db: PrismaClient,
  deps: ImageDeps | null,
  actor: Actor,
  id: string,
): Promise<ReleaseOutput> {
  const row = await db.$transaction(async (tx) => {
    const r = await loadRow(tx, id);
    if (r.status !== 'PUBLISHED') throw new DomainError('CONFLICT', `Release ${r.version} is not published`);
    await tx.release.update({ where: { id }, data: { status: 'RETIRED', retiredAt: new Date() } });
    await recordAudit(tx, actor, {
      action: 'release.retire',
      targetType: 'release',
      targetId: id,
      before: { status: r.status },
      after: { status: 'RETIRED' },
    });
    return loadRow(tx, id);
  });
  return withUpdate(db, deps, row);
}

/** The signed envelope (canonical JSON) of a published release, by manifest digest; null if unknown. */
export async function signedManifestByDigest(db: PrismaClient, digest: string): Promise<Uint8Array | null> {
  const r = await db.release.findUnique({
    where: { manifestDigest: storedDigest(digest) },
    include: { signatures: { include: { signingKey: { select: { keyId: true, state: true } } } } },
  });
  if (!r?.manifest) return null;
  const signed: SignedManifest = {
    payload: r.manifest,
    // Revoked keys' signatures stay in: verifiers refuse them by key id and can say why.
    signatures: r.signatures.map((s) => ({
      keyId: s.signingKey.keyId,
      alg: 'ed25519',
      sig: encodeBase64url(s.signature),
    })),
  };
  return encodeSignedManifest(signed);
}
