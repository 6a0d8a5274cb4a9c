import type { DecodeResult } from '../wire.js';
import { toHex } from '../wire.js';
import { TurboEndpointType, TURBO_VERSION } from './codes.js';
import type { TurboEndpoint, TurboExtension, TurboPayload } from './types.js';

const TYPE_NAMES = new Map<number, string>(
  Object.entries(TurboEndpointType).map(([name, value]) => [value, name]),
);

/** `http2`, `tftp`, `broadcast`, `multicast`, or `type-N` for a type this version does not know. */
export function endpointTypeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `type-${type}`;
}

function endpointJson(e: TurboEndpoint): Record<string, unknown> {
  return { type: endpointTypeName(e.type), address: e.address, port: e.port, id: e.id };
}

function extensionsJson(extensions: readonly TurboExtension[] | undefined): Record<string, unknown>[] {
  return (extensions ?? []).map((x) => ({ code: x.code, data: toHex(x.data) }));
}

/** A JSON view of a Turbo payload (digests and tokens as lower-case hex). Deterministic key order. */
export function renderTurboJson(payload: TurboPayload): Record<string, unknown> {
  if (payload.kind === 'discover') {
    return {
      version: TURBO_VERSION,
      type: 'discover',
      accept: payload.accept.map(endpointTypeName),
      cacheToken: payload.cacheToken
        ? {
            manifestDigest: toHex(payload.cacheToken.manifestDigest),
            validationToken: toHex(payload.cacheToken.validationToken),
          }
        : null,
      attempt: payload.attempt
        ? { round: payload.attempt.round, burstIndex: payload.attempt.burstIndex }
        : null,
      windowMs: payload.windowMs ?? null,
      extensions: extensionsJson(payload.extensions),
    };
  }
  return {
    version: TURBO_VERSION,
    type: 'offer',
    manifestDigest: toHex(payload.manifestDigest),
    verdict: payload.verdict,
    load: payload.load,
    pacingMs: payload.pacingMs,
    endpoints: payload.endpoints.map(endpointJson),
    validationToken: payload.validationToken ? toHex(payload.validationToken) : null,
    extensions: extensionsJson(payload.extensions),
  };
}

/**
 * The `"turbo"` member of a decoded packet's JSON: null without a Turbo option, the payload view, or the
 * decode error (code, offset, message).
 */
export function renderTurboResultJson(
  result: DecodeResult<TurboPayload | null>,
): Record<string, unknown> | null {
  if (!result.ok) return { error: { ...result.error } };
  return result.value ? renderTurboJson(result.value) : null;
}
