import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Backend } from './backend/backend.js';
import { FileBackend } from './backend/file-backend.js';
import type { AgentConfig } from './config/schema.js';
import { closeLogger, createLogger } from './lib/logger.js';
import { Responder } from './responder/responder.js';
import type { LocalTftp } from './responder/turbo.js';
import { BootEventRing } from './telemetry/events.js';
import { MetricsHttpServer } from './telemetry/http-server.js';
import { TftpService } from './tftp/service.js';
import { ContentService } from './content/service.js';
import { AgentMetrics } from './telemetry/metrics.js';

/**
 * The agent process: one start path and one stop path.
 *
 * Start: backend (site data) → content (store, sync, HTTP/2 server: up before offers point at it) →
 * responder (lease file loaded, then sockets bound) → metrics HTTP → healthy. A failure part-way closes what already started, in reverse.
 *
 * Stop (`close`, on SIGINT/SIGTERM), in this order:
 *   1. stop accepting: /healthz turns 503, the responder ignores new packets;
 *   2. drain: wait (at most `shutdownDrainMs`) for requests in flight, paced offers included;
 *   3. close sockets: the responder's UDP sockets, then the metrics HTTP server;
 *   4. flush telemetry: final lease-file write, the boot-event buffer's size logged (the control-plane
 *      sync, when present, drains it here);
 *   5. close the logger (flushes stdout).
 * `close()` is idempotent; concurrent callers share one shutdown.
 */
export interface AgentOptions {
  readonly config: AgentConfig;
  readonly log?: Logger;
  readonly backend?: Backend;
}

export class Agent {
  readonly log: Logger;
  readonly metrics: AgentMetrics;
  readonly events: BootEventRing;
  readonly backend: Backend;
  readonly responder: Responder | undefined;
  readonly http: MetricsHttpServer | undefined;
  readonly tftp: TftpService | undefined;
  readonly content: ContentService | undefined;
  private closing: Promise<void> | undefined;
  private started = false;
  private readonly ownsLogger: boolean;

  constructor(private readonly options: AgentOptions) {
    const { config } = options;
    this.ownsLogger = options.log === undefined;
    this.log = options.log ?? createLogger({ level: config.log.level, agentId: config.agentId });
    // Process metrics (event-loop lag timer, GC observer) only when something can scrape them.
    this.metrics = new AgentMetrics({ defaultMetrics: config.metrics.enabled });
    this.events = new BootEventRing(config.events.capacity);
    this.backend =
      options.backend ?? new FileBackend(config.backend.path, this.log.child({ svc: 'backend' }));
    this.responder = config.responder.enabled
      ? new Responder({
          config: config.responder,
          ...(config.tftp.enabled ? { tftp: this.localTftp() } : {}),
          agentId: config.agentId,
          leasePath: join(config.dataDir, 'leases.json'),
          backend: this.backend,
          metrics: this.metrics,
          events: this.events,
          log: this.log.child({ svc: 'responder' }),
        })
      : undefined;
    this.content = config.content.enabled
      ? new ContentService({
          config: config.content,
          dataDir: config.dataDir,
          events: this.events,
          siteManifests: () => this.backend.current().data.manifests.map((m) => m.digest.toLowerCase()),
          registry: this.metrics.registry,
          log: this.log.child({ svc: 'content' }),
        })
      : undefined;
    this.tftp = config.tftp.enabled
      ? new TftpService({
          config: config.tftp,
          registry: this.metrics.registry,
          log: this.log.child({ svc: 'tftp' }),
          // Boot files of synced manifests (`<digest>/kernel|initramfs|layer-<n>`) from the content store.
          ...(this.content ? { files: this.content.files } : {}),
        })
      : undefined;
    this.http = config.metrics.enabled
      ? new MetricsHttpServer(config.metrics, this.metrics.registry, this.log.child({ svc: 'metrics' }))
      : undefined;
  }

  /** What Turbo offers advertise of this agent's TFTP service (the bound port once started). */
  private localTftp(): LocalTftp {
    const { tftp } = this.options.config;
    const service = (): TftpService | undefined => this.tftp;
    return {
      get port() {
        return service()?.ports[0] ?? tftp.port;
      },
      multicast: tftp.options.multicast,
      sbroadcast: tftp.options.sbroadcast,
    };
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('agent already started');
    this.started = true;
    try {
      await this.backend.start();
      await this.content?.start();
      await this.responder?.start();
      await this.tftp?.start();
      await this.http?.start();
    } catch (err) {
      this.log.fatal({ err }, 'agent failed to start');
      await this.shutdown(false);
      throw err;
    }
    this.http?.setHealthy(true);
    this.log.info('agent started');
    if (this.tftp && this.content) void this.assembleBootFiles(this.content);
  }

  /**
   * Builds the TFTP boot files of the site's manifests in the background, so the first RRQ of a boot
   * storm is not held up by assembly (a client's RRQ retries last about 10 s; it falls back to HTTP/2).
   */
  private async assembleBootFiles(content: ContentService): Promise<void> {
    for (const { digest } of this.backend.current().data.manifests) {
      if (this.closing) return;
      try {
        await content.files.assemble(digest.toLowerCase());
        this.log.debug({ manifest: digest }, 'boot files assembled');
      } catch (err) {
        this.log.warn({ err, manifest: digest }, 'boot files not assembled');
      }
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown(true);
    return this.closing;
  }

  private async shutdown(drain: boolean): Promise<void> {
    this.log.info('agent stopping');
    this.http?.setHealthy(false);
    this.responder?.stopAccepting();
    if (drain && this.responder) await this.responder.drain(this.options.config.shutdownDrainMs);
    await this.responder?.closeSockets();
    await this.tftp?.close();
    await this.content?.close();
    await this.http?.close();
    await this.responder?.flush();
    await this.backend.close();
    this.log.info(
      { bootEventsBuffered: this.events.length, bootEventsOverwritten: this.events.dropped },
      'agent stopped',
    );
    if (this.ownsLogger) await closeLogger(this.log);
  }
}
