import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Digest } from '@bootpt/protocol';
import { createTrustStore } from '@bootpt/protocol';
import type { BootEventSink } from '../telemetry/events.js';
import type { ContentConfig } from './config.js';
import { buildDelta } from './deltas.js';
import { AssembledFiles } from './file-source.js';
import { ReportBuffer } from './reports.js';
import { ContentServer } from './server.js';
import { ContentStore } from './store.js';
import { syncManifest, type SyncStats } from './sync.js';
import { loadOrCreateTls, type TlsMaterial } from './tls.js';
import { createUpstream, type Upstream } from './upstream.js';

/**
 * The agent's content service: store → scrub → sync (only missing chunks) → HTTP/2 server.
 * `close()` stops the server (in-flight streams get 2 s) and the upstream session; idempotent.
 */
export interface ContentServiceOptions {
  readonly config: ContentConfig;
  readonly dataDir: string;
  readonly log: Logger;
  readonly events?: BootEventSink;
  /** Manifests the site data names (synced at start with `config.manifests`). */
  readonly siteManifests?: () => readonly Digest[];
}

export class ContentService {
  readonly name = 'content';
  readonly store: ContentStore;
  readonly reports: ReportBuffer;
  readonly files: AssembledFiles;
  private server: ContentServer | undefined;
  private upstream: Upstream | undefined;
  private tlsMaterial: TlsMaterial | undefined;

  constructor(private readonly options: ContentServiceOptions) {
    const { config } = options;
    const dir = config.dir ?? join(options.dataDir, 'content');
    this.store = new ContentStore(dir, {
      compress: config.compress,
      ...(config.trustedKeys.length > 0 ? { trust: createTrustStore(config.trustedKeys) } : {}),
    });
    this.reports = new ReportBuffer(config.reportCapacity, options.events);
    this.files = new AssembledFiles(this.store, config.exportDir ?? join(dir, 'assembled'));
    if (config.upstream) this.upstream = createUpstream(config.upstream);
  }

  /** SHA-256 fingerprint of the server certificate (what clients pin). */
  get fingerprint(): string | undefined {
    return this.tlsMaterial?.fingerprint;
  }

  port(): number {
    return this.server?.port() ?? 0;
  }

  async start(): Promise<void> {
    const { config, log } = this.options;
    await this.store.open();
    const scrubbed = await this.store.scrub();
    if (scrubbed > 0) log.warn({ chunks: scrubbed }, 'damaged chunks removed from the store');
    await this.syncAll();
    this.tlsMaterial = await loadOrCreateTls({
      dir: join(this.store.dir, 'tls'),
      ...(config.tls.certFile ? { certFile: config.tls.certFile } : {}),
      ...(config.tls.keyFile ? { keyFile: config.tls.keyFile } : {}),
    });
    if (this.tlsMaterial.generated)
      log.info({ fingerprint: this.tlsMaterial.fingerprint }, 'TLS certificate generated');
    this.server = new ContentServer({
      store: this.store,
      tls: this.tlsMaterial,
      host: config.host,
      port: config.port,
      reports: this.reports,
      maxReportBytes: config.maxReportBytes,
      log,
    });
    await this.server.start();
  }

  /** Pulls every configured and site manifest from the upstream (when there is one). */
  async syncAll(): Promise<SyncStats[]> {
    if (!this.upstream) return [];
    const wanted = new Set([...this.options.config.manifests, ...(this.options.siteManifests?.() ?? [])]);
    const out: SyncStats[] = [];
    for (const digest of wanted) out.push(await this.sync(digest));
    // Static deltas between every pair of wanted releases (a site holds a handful at a time).
    for (const from of wanted) {
      for (const to of wanted) {
        if (from === to) continue;
        const bytes = await buildDelta(this.store, from, to);
        this.options.log.info({ from, to, bytes }, 'static delta ready');
      }
    }
    return out;
  }

  async sync(digest: Digest): Promise<SyncStats> {
    if (!this.upstream) throw new Error('content: no upstream configured');
    return syncManifest({
      store: this.store,
      upstream: this.upstream,
      digest,
      concurrency: this.options.config.syncConcurrency,
      log: this.options.log,
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.close();
    await this.upstream?.close();
  }
}
