import type { TurboVerdict } from './codes.js';

/** A TLV this codec does not know, kept in wire order so it survives a round trip (SPEC §8). */
export interface TurboExtension {
  readonly code: number;
  readonly data: Uint8Array;
}

/** What a client holds: the digest of its signed manifest and the validation token it was given. */
export interface TurboCacheToken {
  /** Raw SHA-256 of the canonical signed manifest (32 octets). */
  readonly manifestDigest: Uint8Array;
  /** Opaque server-issued token (16 octets), see `issueValidationToken`. */
  readonly validationToken: Uint8Array;
}

/** A Turbo discover: carried by DHCPDISCOVER / DHCPREQUEST / BOOTREQUEST (SPEC §4). */
export interface TurboDiscover {
  readonly kind: 'discover';
  /** Endpoint types the client can use, ascending and unique (1..8, see `TurboEndpointType`). */
  readonly accept: readonly number[];
  /** Absent when the client holds no cached manifest. */
  readonly cacheToken?: TurboCacheToken;
  /** Retransmission round (0 = first burst) and index within the burst; absent = both unknown. */
  readonly attempt?: { readonly round: number; readonly burstIndex: number };
  /** How long the client collects offers after a burst, in ms; absent = the SPEC default. */
  readonly windowMs?: number;
  readonly extensions?: readonly TurboExtension[];
}

/** A delivery endpoint: type + IPv4 address + UDP/TCP port + server-assigned id (SPEC §5.2). */
export interface TurboEndpoint {
  /** `TurboEndpointType` value (1..255; unknown types are kept and skipped by clients). */
  readonly type: number;
  /** Dotted-quad IPv4 address. */
  readonly address: string;
  readonly port: number;
  /** 0..65535; meaning per endpoint type (SPEC §5.2). */
  readonly id: number;
}

/** A Turbo offer: carried by DHCPOFFER / DHCPACK / BOOTREPLY (SPEC §5). */
export interface TurboOffer {
  readonly kind: 'offer';
  /** Raw SHA-256 of the signed manifest this host should boot (32 octets). */
  readonly manifestDigest: Uint8Array;
  readonly verdict: TurboVerdict;
  /** Delivery load of the answering server: 0 idle .. 255 saturated. */
  readonly load: number;
  /** Milliseconds the client should wait before opening its first transfer (0..65535). */
  readonly pacingMs: number;
  /** Preference order: the client tries them first to last. */
  readonly endpoints: readonly TurboEndpoint[];
  /** Token for (host, manifestDigest, epoch); the client stores it with the manifest. */
  readonly validationToken?: Uint8Array;
  readonly extensions?: readonly TurboExtension[];
}

export type TurboPayload = TurboDiscover | TurboOffer;

/** An option instance as the DHCP codec keeps it (structural: no import from `src/dhcp`). */
export interface OptionLike {
  readonly code: number;
  readonly data: Uint8Array;
}
