/**
 * Stable error codes of the client (`CLIENT_ERR_*`). Every failure that stops a boot carries one, so the
 * JSON result, the log line and the report to the agent all name the same reason.
 */
export const CLIENT_ERROR_CODES = [
  'CLIENT_ERR_CONFIG',
  'CLIENT_ERR_NO_OFFER',
  'CLIENT_ERR_NO_ENDPOINT',
  'CLIENT_ERR_TLS_PIN_MISMATCH',
  'CLIENT_ERR_HTTP',
  'CLIENT_ERR_MANIFEST_REJECTED',
  'CLIENT_ERR_MANIFEST_DIGEST_MISMATCH',
  'CLIENT_ERR_INDEX_REJECTED',
  'CLIENT_ERR_PLAN',
  'CLIENT_ERR_CHUNK_REJECTED',
  'CLIENT_ERR_CACHE_UNREPAIRABLE',
  'CLIENT_ERR_BOOT',
] as const;

export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

export class ClientError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ClientError';
  }
}
