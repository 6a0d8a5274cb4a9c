/**
 * Wire constants and stable error codes of the BOOTP Turbo extension (packages/protocol/SPEC.md).
 */

/**
 * Default DHCP option code that carries the Turbo payload: the first site-specific code (RFC 3942,
 * 224-254). Sites where 224 is already taken configure another code in that range (SPEC §3.1).
 */
export const TURBO_OPTION_CODE = 224;

/** First and last site-specific option codes (RFC 3942); the Turbo option code must lie in between. */
export const SITE_SPECIFIC_FIRST = 224;
export const SITE_SPECIFIC_LAST = 254;

/** `B` `T`: the two magic octets that open every Turbo payload (SPEC §3.2). */
export const TURBO_MAGIC = Uint8Array.of(0x42, 0x54);

/** The only wire version this codec speaks. */
export const TURBO_VERSION = 1;

/** Magic (2) + version (1) + message type (1). */
export const TURBO_HEADER_LENGTH = 4;

/** Message types (SPEC §3.2). */
export const TurboMessageType = {
  DISCOVER: 1,
  OFFER: 2,
} as const;

/** TLV codes inside a Turbo discover (SPEC §4). */
export const DiscoverField = {
  ACCEPT: 1,
  CACHE_TOKEN: 2,
  ATTEMPT: 3,
  WINDOW: 4,
} as const;

/** TLV codes inside a Turbo offer (SPEC §5). */
export const OfferField = {
  MANIFEST: 1,
  VERDICT: 2,
  LOAD: 3,
  PACING: 4,
  ENDPOINT: 5,
  VALIDATION_TOKEN: 6,
} as const;

/** Endpoint types (SPEC §5.2). Values 5-8 are reserved for future types a client may accept. */
export const TurboEndpointType = {
  /** HTTP/2 over TLS: manifests and content-addressed chunks. */
  http2: 1,
  /** Unicast TFTP (RFC 1350 + 2347/2348/2349/7440). */
  tftp: 2,
  /** TFTP server to send an RRQ with `sbroadcast` to (subnet-directed broadcast, master client). */
  broadcast: 3,
  /** TFTP server to send an RRQ with the RFC 2090 `multicast` option to. */
  multicast: 4,
} as const;
export type TurboEndpointTypeName = keyof typeof TurboEndpointType;

/** Highest endpoint type an ACCEPT bitmask can express (one bit per type, bit 0 = type 1). */
export const MAX_ENDPOINT_TYPE = 8;

/** Cache verdict values on the wire (SPEC §5.1). */
export const VERDICT_CODES = { unknown: 0, valid: 1, stale: 2 } as const;
export type TurboVerdict = keyof typeof VERDICT_CODES;

export const DIGEST_LENGTH = 32;
export const VALIDATION_TOKEN_LENGTH = 16;
/** Manifest digest (32) followed by validation token (16). */
export const CACHE_TOKEN_LENGTH = DIGEST_LENGTH + VALIDATION_TOKEN_LENGTH;
/** type (1) + port (2) + id (2) + IPv4 address (4). */
export const ENDPOINT_LENGTH = 9;

/**
 * Stable error codes of the Turbo decoders. Offsets are relative to the Turbo payload (for
 * `getTurboFromOptions`: the concatenation of every instance of the Turbo option, RFC 3396).
 */
export const TurboErrorCode = {
  /** Fewer than 4 octets: no room for magic, version and type; offset = payload length. */
  TRUNCATED_HEADER: 'TURBO_TRUNCATED_HEADER',
  /** The payload does not start with `BT`: a foreign use of the site-specific code; offset 0. */
  BAD_MAGIC: 'TURBO_BAD_MAGIC',
  /** A version this codec does not speak; the receiver ignores the payload (SPEC §8); offset 2. */
  UNSUPPORTED_VERSION: 'TURBO_UNSUPPORTED_VERSION',
  /** A message type other than discover (1) or offer (2); offset 3. */
  UNKNOWN_MESSAGE_TYPE: 'TURBO_UNKNOWN_MESSAGE_TYPE',
  /** A TLV code is the last octet of the payload, with no length octet; offset = the code. */
  TLV_TRUNCATED: 'TURBO_TLV_TRUNCATED',
  /** A TLV's length runs past the end of the payload; offset = the code. */
  TLV_OVERRUN: 'TURBO_TLV_OVERRUN',
  /** A known field has a length other than its fixed width; offset = the TLV code. */
  BAD_LENGTH: 'TURBO_BAD_LENGTH',
  /** A known single-valued field appears twice; offset = the second TLV code. */
  DUPLICATE_FIELD: 'TURBO_DUPLICATE_FIELD',
  /** A field the message type requires is absent; offset = payload length. */
  MISSING_FIELD: 'TURBO_MISSING_FIELD',
  /** A fixed-width field holds a value outside its range (verdict, endpoint type 0); offset = the value. */
  BAD_VALUE: 'TURBO_BAD_VALUE',
} as const;
export type TurboErrorCode = (typeof TurboErrorCode)[keyof typeof TurboErrorCode];

/** Every code the Turbo decoders can return. */
export const TURBO_ERROR_CODES: readonly TurboErrorCode[] = Object.values(TurboErrorCode);

/**
 * Thrown by encoders and token helpers when a value cannot be represented on the wire (a programming
 * error in the caller, never caused by received bytes).
 */
export class TurboEncodeError extends RangeError {
  readonly code = 'TURBO_ENCODE_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'TurboEncodeError';
  }
}
