import type { SiteView } from './site.js';

/**
 * Where the agent gets what it serves. The standalone `FileBackend` reads a local JSON file; the
 * control-plane sync will implement the same interface over its pulled copy. `current()` is called per
 * packet and must be cheap: implementations swap whole immutable snapshots.
 */
export interface Backend {
  readonly kind: string;
  start(): Promise<void>;
  close(): Promise<void>;
  current(): SiteView;
  /** Re-read the source; a bad new version is reported and the previous snapshot kept. */
  reload(): Promise<void>;
}
