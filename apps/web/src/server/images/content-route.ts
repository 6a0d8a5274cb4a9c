import { Readable } from 'node:stream';
import { isDigest } from '@bootpt/protocol';
import { z } from 'zod';
import { DomainError } from '../api/errors';
import { getDb } from '../db/client';
import { bareDigest, getImageDeps, storedDigest } from './deps';
import { failureResponse, requirePermission } from './http';
import { signedManifestByDigest } from './releases';

/**
 * Content for agents and tools, the same paths as the agent's own content API under /api/agent/v1:
 *
 *   GET /api/agent/v1/manifests/<digest>  signed manifest envelope (canonical JSON) of a published release
 *   GET /api/agent/v1/indexes/<digest>    encoded chunk index
 *   GET /api/agent/v1/chunks/<digest>     chunk bytes
 *   GET /api/agent/v1/manifests?limit=&after=&site=
 *       the manifests an agent should hold: `{ manifests: [{ digest, releaseId, image, version,
 *       publishedAt }], next }`, PUBLISHED releases only, ordered by digest; `limit` 1..1000 (default
 *       100), `after` = the previous page's `next` (a digest; null on the last page). With `site` (a site
 *       id) only the releases assigned to that site's hosts: their boot profiles' entries and their
 *       desired releases (set by rollouts). Unknown site → 404.
 *   GET /api/agent/v1/trusted-keys        the manifest-signing trust set (`trusted-keys-route.ts`, public)
 *
 * Objects are content-addressed and immutable once they exist. Callers authenticate like the API
 * (session or API token with `release.read`, as `Authorization: Bearer bpt_…`); the agent credential
 * scheme plugs in here when enrollment lands. Not part of the /api/v1 OpenAPI document.
 */
type Params = { params: Promise<{ kind: string; digest: string }> };

const IMMUTABLE = 'private, max-age=31536000, immutable';

/** Runs a handler with the API's error body for domain errors and a logged 500 for the rest. */
async function handled(run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (err) {
    return failureResponse(err, 'agent content request');
  }
}

export function GET(req: Request, { params }: Params): Promise<Response> {
  return handled(async () => {
    const { kind, digest } = await params;
    if (!['manifests', 'indexes', 'chunks'].includes(kind) || !isDigest(digest)) {
      throw new DomainError('NOT_FOUND', 'Not found');
    }
    const db = getDb();
    await requirePermission(db, req.headers, 'release.read');
    if (kind === 'manifests') {
      const envelope = await signedManifestByDigest(db, digest);
      if (!envelope) throw new DomainError('NOT_FOUND', `No published manifest ${digest}`);
      // Not immutable: signatures are added on key rotation.
      return new Response(Buffer.from(envelope), {
        headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' },
      });
    }
    const blobs = getImageDeps().blobs;
    const stat = await blobs.stat(digest);
    const stream = stat ? await blobs.get(digest) : null;
    if (!stat || !stream) throw new DomainError('NOT_FOUND', `No ${kind.slice(0, -1)} ${digest}`);
    return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, {
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(stat.size),
        'Cache-Control': IMMUTABLE,
        ETag: `"${digest}"`,
      },
    });
  });
}

const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  after: z.string().refine(isDigest, 'must be a digest (64 lower-case hex digits)').optional(),
  site: z.uuid().optional(),
});

/** `GET /api/agent/v1/manifests` (see above). */
export function LIST(req: Request): Promise<Response> {
  return handled(async () => {
    const db = getDb();
    await requirePermission(db, req.headers, 'release.read');
    const parsed = listQuery.safeParse(Object.fromEntries(new URL(req.url).searchParams));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new DomainError('BAD_REQUEST', `${String(issue.path[0] ?? 'query')}: ${issue.message}`, null);
    }
    const { limit, after, site } = parsed.data;
    if (site && !(await db.site.findUnique({ where: { id: site }, select: { id: true } })))
      throw new DomainError('NOT_FOUND', `No site ${site}`, 'site');
    const rows = await db.release.findMany({
      where: {
        status: 'PUBLISHED',
        manifestDigest: after ? { gt: storedDigest(after) } : { not: null },
        ...(site
          ? {
              OR: [
                { desiredBy: { some: { siteId: site } } },
                { profileEntries: { some: { profile: { hosts: { some: { siteId: site } } } } } },
              ],
            }
          : {}),
      },
      orderBy: { manifestDigest: 'asc' },
      take: limit + 1,
      select: {
        id: true,
        version: true,
        manifestDigest: true,
        publishedAt: true,
        image: { select: { name: true } },
      },
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return Response.json(
      {
        manifests: page.map((r) => ({
          digest: bareDigest(r.manifestDigest!),
          releaseId: r.id,
          image: r.image.name,
          version: r.version,
          publishedAt: r.publishedAt?.toISOString() ?? null,
        })),
        next: rows.length > limit && last ? bareDigest(last.manifestDigest!) : null,
      },
      { headers: { 'Cache-Control': 'no-cache' } },
    );
  });
}
