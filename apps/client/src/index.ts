export { BootClient, type BootDecision, type BootResult, type ClientDeps } from './client.js';
export { ClientCache, type CacheState } from './cache.js';
export { clientConfigSchema, loadClientConfig, parseClientConfig, type ClientConfig } from './config.js';
export { TurboDiscovery, type DiscoveryOptions, type DiscoveryResult } from './discovery.js';
export { CLIENT_ERROR_CODES, ClientError, type ClientErrorCode } from './errors.js';
export { ContentSession, type TlsTrust } from './transport.js';
export { PHASES, Timeline, type Phase, type PhaseSpan } from './timeline.js';
