/** The agent's public surface, for the control-plane sync and for embedding (tests, demos). */
export { Agent, type AgentOptions } from './agent.js';
export { ConfigError, ENV_BINDINGS, loadConfig, type LoadConfigInput } from './config/load.js';
export {
  agentConfigSchema,
  type AgentConfig,
  type ResponderConfig,
  type TurboConfig,
} from './config/schema.js';
export type { Backend } from './backend/backend.js';
export { FileBackend } from './backend/file-backend.js';
export {
  SiteDataError,
  SiteView,
  siteDataSchema,
  type BootProfile,
  type Endpoint,
  type HostReservation,
  type SiteData,
  type Subnet,
} from './backend/site.js';
export {
  BootEventRing,
  type BootEvent,
  type BootEventBuffer,
  type BootEventOutcome,
  type BootEventSink,
} from './telemetry/events.js';
export {
  chooseBoot,
  classifyClient,
  firmwareFamily,
  type BootDecision,
  type ClientKind,
} from './responder/boot-policy.js';
