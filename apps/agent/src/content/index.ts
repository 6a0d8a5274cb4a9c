export { contentConfigSchema, type ContentConfig, type UpstreamConfig } from './config.js';
export { buildDelta } from './deltas.js';
export { AssembledFiles, type FileSource } from './file-source.js';
export { ReportBuffer, clientReportSchema, type ClientReport } from './reports.js';
export { ContentServer, parseRange } from './server.js';
export { ContentService, type ContentServiceOptions } from './service.js';
export {
  CONTENT_ERROR_CODES,
  ContentError,
  ContentStore,
  type ContentErrorCode,
  type ContentKind,
} from './store.js';
export { syncManifest, type SyncStats } from './sync.js';
export { certificateFingerprint, loadOrCreateTls, type TlsMaterial } from './tls.js';
export { ContentSyncMetrics } from './metrics.js';
export {
  ControlPlaneUpstream,
  DirectoryUpstream,
  Http2Upstream,
  UpstreamAuthError,
  createUpstream,
  type GetOptions,
  type Upstream,
} from './upstream.js';
