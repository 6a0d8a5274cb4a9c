import { z } from 'zod';
import { DomainError } from '../api/errors';
import { getDb } from '../db/client';
import { getImageDeps } from './deps';
import { bodyChunks, errorResponse, failureResponse, requirePermission } from './http';
import { getUpload, UploadOffsetError, writeUploadChunk } from './uploads';

/**
 * The byte channel of resumable layer uploads (sessions are created and completed through the API):
 *
 *   HEAD  /api/uploads/{id}   → 204, `Upload-Offset: <committed bytes>`, `Upload-Length: <size>`
 *   PATCH /api/uploads/{id}   `Upload-Offset: <n>` + raw bytes → 204 with the new `Upload-Offset`;
 *                             409 with the committed `Upload-Offset` when n is not where the upload is.
 *
 * The body is streamed to disk as it arrives; a request cut off midway still commits what arrived.
 */
type Params = { params: Promise<{ id: string }> };

const idSchema = z.uuid();

async function guarded(req: Request, params: Params['params'], fn: (id: string) => Promise<Response>) {
  try {
    const { id } = await params;
    if (!idSchema.safeParse(id).success) throw new DomainError('NOT_FOUND', 'Upload not found', 'id');
    await requirePermission(getDb(), req.headers, 'image.manage');
    return await fn(id);
  } catch (err) {
    if (err instanceof UploadOffsetError) {
      return errorResponse(err, { 'Upload-Offset': String(err.expectedOffset) });
    }
    return failureResponse(err, 'upload request');
  }
}

export function HEAD(req: Request, { params }: Params): Promise<Response> {
  return guarded(req, params, async (id) => {
    const upload = await getUpload(getDb(), id);
    return new Response(null, {
      status: 204,
      headers: {
        'Upload-Offset': String(upload.bytesReceived),
        'Upload-Length': String(upload.expectedSize),
        'Cache-Control': 'no-store',
      },
    });
  });
}

export function PATCH(req: Request, { params }: Params): Promise<Response> {
  return guarded(req, params, async (id) => {
    const header = req.headers.get('upload-offset');
    if (header === null || !/^\d{1,16}$/.test(header)) {
      throw new DomainError('BAD_REQUEST', 'Send the byte offset of this piece in Upload-Offset', 'offset');
    }
    const result = await writeUploadChunk(getDb(), getImageDeps(), id, Number(header), bodyChunks(req.body));
    return new Response(null, {
      status: 204,
      headers: { 'Upload-Offset': String(result.bytesReceived), 'Cache-Control': 'no-store' },
    });
  });
}
