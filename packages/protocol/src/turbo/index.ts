/** BOOTP Turbo extension (packages/protocol/SPEC.md): codec, tokens, client timing, selection, rendezvous. */
export * from './codes.js';
export type * from './types.js';
export {
  acceptFromMask,
  acceptMask,
  cacheTokenBytes,
  decodeTurbo,
  encodeTurbo,
  turboEncodingLength,
} from './codec.js';
export { getTurboFromOptions, turboOptions } from './options.js';
export {
  DEFAULT_EPOCH_MS,
  VALIDATION_TAG_LENGTH,
  cacheToken,
  cacheVerdict,
  issueValidationToken,
  turboEpoch,
  turboHostId,
  verifyValidationToken,
} from './token.js';
export type { TokenCheck, TokenPolicy, TokenRejection, TurboKey } from './token.js';
export {
  DISCOVERY_DEFAULTS,
  backoffCeilingMs,
  backoffDelayMs,
  burstOffsets,
  discoveryPlan,
  seededRandom,
} from './schedule.js';
export type { BurstPlan, DiscoveryOptions, RandomSource } from './schedule.js';
export { rankOffers, selectOffer } from './select.js';
export type { OfferCandidate, SelectionContext } from './select.js';
export {
  RENDEZVOUS_DEFAULTS,
  rendezvousDelayMs,
  rendezvousOrder,
  rendezvousRank,
  rendezvousWeight,
} from './rendezvous.js';
export { endpointTypeName, renderTurboJson, renderTurboResultJson } from './json.js';
