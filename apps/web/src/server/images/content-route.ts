import { Readable } from 'node:stream';
import { isDigest } from '@bootpt/protocol';
import { DomainError } from '../api/errors';
import { getDb } from '../db/client';
import { getImageDeps } from './deps';
import { errorResponse, requirePermission } from './http';
import { signedManifestByDigest } from './releases';
import { logger } from '../logger';

/**
 * Content for agents and tools, the same paths as the agent's own content API under /api/agent/v1:
 *
 *   GET /api/agent/v1/manifests/<digest>  signed manifest envelope (canonical JSON) of a published release
 *   GET /api/agent/v1/indexes/<digest>    encoded chunk index
 *   GET /api/agent/v1/chunks/<digest>     chunk bytes
 *
 * Everything is content-addressed and immutable once it exists. Callers authenticate like the API
 * (session or API token with `release.read`); the agent credential scheme plugs in here when enrollment
 * lands.
 */
type Params = { params: Promise<{ kind: string; digest: string }> };

const IMMUTABLE = 'private, max-age=31536000, immutable';

export async function GET(req: Request, { params }: Params): Promise<Response> {
  try {
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
  } catch (err) {
    if (err instanceof DomainError) return errorResponse(err);
    logger.error({ err }, 'agent content request failed');
    return Response.json(
      { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error', field: null },
      { status: 500 },
    );
  }
}
