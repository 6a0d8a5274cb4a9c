import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Digest, TrustStore, TrustedKeyInput } from '@bootpt/protocol';
import { createTrustStore, decodeManifest, decodeSignedManifest } from '@bootpt/protocol';
import type { BootEventSink } from '../telemetry/events.js';
import type { ContentConfig } from './config.js';
import { buildDelta } from './deltas.js';
import { AssembledFiles } from './file-source.js';
import { ContentSyncMetrics, failureReason } from './metrics.js';
import { ReportBuffer } from './reports.js';
import { ContentServer } from './server.js';
import { ContentError, ContentStore } from './store.js';
import { syncManifest, type SyncStats } from './sync.js';
import { loadOrCreateTls, type TlsMaterial } from './tls.js';
import { createUpstream, UpstreamAuthError, type Upstream } from './upstream.js';

/**
 * The agent's content service: store → scrub → sync (only missing chunks) → HTTP/2 server, then a
 * sync every `syncIntervalSec` and on `requestSync()` (SIGHUP). Rounds never overlap: a request during
 * a round runs one more round after it. A round fetches the control plane's trust set (when the
 * upstream is the control plane), the manifest list, then syncs each manifest; one manifest failing
 * does not stop the others, an auth or trust failure stops the round.
 *
 * At start a failed round is fatal only without an interval (nothing would retry it); otherwise it is
 * logged and the agent serves what its store holds until the next round succeeds.
 * `close()` aborts a round in flight, stops the server (in-flight streams get 2 s) and the upstream.
 */
export interface ContentServiceOptions {
  readonly config: ContentConfig;
  readonly dataDir: string;
  readonly log: Logger;
  readonly events?: BootEventSink;
  /** Manifests the site data names (synced at start with `config.manifests`). */
  readonly siteManifests?: () => readonly Digest[];
  /** Where the sync metrics go (the agent's registry); a private one when absent. */
  readonly registry?: Registry;
}

export class ContentService {
  readonly name = 'content';
  readonly store: ContentStore;
  readonly reports: ReportBuffer;
  readonly files: AssembledFiles;
  readonly metrics: ContentSyncMetrics;
  private server: ContentServer | undefined;
  private source: Upstream | undefined;
  private upstream: Upstream | undefined;
  private tlsMaterial: TlsMaterial | undefined;
  private readonly staticTrust: TrustStore | undefined;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: ContentServiceOptions) {
    const { config } = options;
    const dir = config.dir ?? join(options.dataDir, 'content');
    this.staticTrust = config.trustedKeys.length > 0 ? createTrustStore(config.trustedKeys) : undefined;
    // With the control plane's keys, sync verifies against the merged set; the store checks digests.
    this.store = new ContentStore(dir, {
      compress: config.compress,
      ...(this.staticTrust && !this.remoteTrust() ? { trust: this.staticTrust } : {}),
    });
    this.reports = new ReportBuffer(config.reportCapacity, options.events);
    this.files = new AssembledFiles(this.store, config.exportDir ?? join(dir, 'assembled'));
    this.metrics = new ContentSyncMetrics(options.registry ?? new Registry());
    // Every request in flight (up to syncConcurrency) listens for the abort.
    setMaxListeners(config.syncConcurrency + 16, this.abort.signal);
  }

  /** SHA-256 fingerprint of the server certificate (what clients pin). */
  get fingerprint(): string | undefined {
    return this.tlsMaterial?.fingerprint;
  }

  port(): number {
    return this.server?.port() ?? 0;
  }

  private remoteTrust() {
    const up = this.options.config.upstream;
    return up?.kind === 'control-plane' && up.trustKeys ? up : undefined;
  }

  async start(): Promise<void> {
    const { config, log } = this.options;
    await this.store.open();
    const scrubbed = await this.store.scrub();
    if (scrubbed > 0) log.warn({ chunks: scrubbed }, 'damaged chunks removed from the store');
    if (config.upstream) {
      this.source = await createUpstream(config.upstream, { concurrency: config.syncConcurrency });
      this.upstream = this.counting(this.source);
    }
    try {
      await this.syncAll();
    } catch (err) {
      if (config.syncIntervalSec === 0) throw err;
      log.warn({ err, retryInSec: config.syncIntervalSec }, 'content sync failed; serving the store as is');
    }
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
    this.schedule();
  }

  /** The upstream with every fetched object counted (objects and bytes per kind). */
  private counting(inner: Upstream): Upstream {
    const { objects, bytes } = this.metrics;
    return {
      label: inner.label,
      async get(kind, digest, opts) {
        const got = await inner.get(kind, digest, opts);
        if (got) {
          objects.inc({ kind });
          bytes.inc({ kind }, got.length);
        }
        return got;
      },
      close: () => inner.close(),
    };
  }

  private schedule(): void {
    const seconds = this.options.config.syncIntervalSec;
    if (this.closed || !this.upstream || seconds === 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.requestSync('interval'), seconds * 1000);
    this.timer.unref();
  }

  /**
   * Runs a sync round now, or one more after the round in flight. Never rejects (failures are logged
   * and counted); resolves when the rounds it caused are done.
   */
  requestSync(reason: string): Promise<void> {
    if (this.closed || !this.upstream) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const loop = async () => {
      do {
        this.again = false;
        clearTimeout(this.timer);
        try {
          await this.syncAll();
        } catch (err) {
          if (!this.closed) this.options.log.warn({ err, reason }, 'content sync failed');
        }
      } while (this.again && !this.closed);
    };
    this.running = loop().finally(() => {
      this.running = undefined;
      this.schedule();
    });
    return this.running;
  }

  /**
   * One round: every configured, site and (control plane) listed manifest. Throws the first failure
   * after trying them all; auth and trust failures stop the round at once.
   */
  async syncAll(): Promise<SyncStats[]> {
    const upstream = this.upstream;
    if (!upstream || !this.source) return [];
    const { config, log } = this.options;
    const signal = this.abort.signal;
    const out: SyncStats[] = [];
    let firstError: Error | undefined;
    const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));
    try {
      const trust = await this.roundTrust(signal);
      const wanted = new Set([...config.manifests, ...(this.options.siteManifests?.() ?? [])]);
      const listed = config.upstream?.kind === 'control-plane' && config.upstream.manifests !== 'none';
      if (listed && this.source.listManifests) {
        for (const d of await this.source.listManifests(signal)) wanted.add(d);
      }
      this.metrics.manifests.set(wanted.size);
      const synced: Digest[] = [];
      for (const digest of wanted) {
        try {
          out.push(
            await syncManifest({
              store: this.store,
              upstream,
              digest,
              concurrency: config.syncConcurrency,
              trust,
              signal,
              log,
            }),
          );
          synced.push(digest);
        } catch (err) {
          if (signal.aborted || err instanceof UpstreamAuthError) throw err;
          this.metrics.failures.inc({ reason: failureReason(err) });
          log.warn({ err, manifest: digest }, 'manifest sync failed');
          firstError ??= asError(err);
        }
      }
      await this.buildDeltas(synced);
    } catch (err) {
      if (!signal.aborted) this.metrics.failures.inc({ reason: failureReason(err) });
      firstError = asError(err);
    }
    this.metrics.rounds.inc({ result: firstError === undefined ? 'ok' : 'failed' });
    if (firstError !== undefined) throw firstError;
    this.metrics.lastSuccess.set(Date.now() / 1000);
    return out;
  }

  /**
   * Static deltas between every ordered pair of synced releases of the same image (`release.name`): a
   * host moves between versions of its image, and a control plane lists every published release, so all
   * pairs across images would grow with the square of the whole catalogue.
   */
  private async buildDeltas(synced: readonly Digest[]): Promise<void> {
    const byImage = new Map<string, Digest[]>();
    for (const digest of synced) {
      const envelope = await this.store.read('manifests', digest);
      const signed = envelope ? decodeSignedManifest(envelope) : null;
      const manifest = signed?.ok ? decodeManifest(signed.value.payload) : null;
      if (!manifest?.ok) continue;
      const name = manifest.value.release.name;
      byImage.set(name, [...(byImage.get(name) ?? []), digest]);
    }
    for (const group of byImage.values()) {
      for (const from of group) {
        for (const to of group) {
          if (from === to) continue;
          const bytes = await buildDelta(this.store, from, to);
          this.options.log.debug({ from, to, bytes }, 'static delta ready');
        }
      }
    }
  }

  /**
   * The keys manifests must verify against this round: `content.trustedKeys`, plus the control plane's
   * trust set when `trustKeys` (only `pinnedKeys` when set; a local entry wins over the control
   * plane's for the same key, so a key can be revoked locally). None at all is a failure, not "skip".
   */
  private async roundTrust(signal: AbortSignal): Promise<TrustStore | undefined> {
    const remote = this.remoteTrust();
    if (!remote || !this.source?.trustedKeys) return this.staticTrust;
    const local = this.options.config.trustedKeys;
    const localIds = new Set(this.staticTrust?.keys.map((k) => k.keyId));
    const pins = new Set(remote.pinnedKeys);
    const merged: TrustedKeyInput[] = [...local];
    for (const key of await this.source.trustedKeys(signal)) {
      let keyId: string;
      try {
        keyId = createTrustStore([key]).keys[0]!.keyId;
      } catch (err) {
        this.options.log.warn({ err }, 'control plane listed a malformed trusted key; ignored');
        continue;
      }
      if (localIds.has(keyId)) continue;
      if (pins.size > 0 && !pins.has(key.publicKey)) {
        this.options.log.warn({ keyId }, 'control plane key not in pinnedKeys; ignored');
        continue;
      }
      merged.push({ ...key, keyId });
    }
    if (!merged.some((k) => k.state !== 'revoked'))
      throw new ContentError('CONTENT_ERR_UPSTREAM', 'no usable manifest-signing key (control plane, pins)');
    return createTrustStore(merged);
  }

  async sync(digest: Digest): Promise<SyncStats> {
    if (!this.upstream) throw new Error('content: no upstream configured');
    return syncManifest({
      store: this.store,
      upstream: this.upstream,
      digest,
      concurrency: this.options.config.syncConcurrency,
      trust: await this.roundTrust(this.abort.signal),
      signal: this.abort.signal,
      log: this.options.log,
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.abort.abort(new ContentError('CONTENT_ERR_UPSTREAM', 'content service closing'));
    await this.running;
    const server = this.server;
    this.server = undefined;
    await server?.close();
    await this.upstream?.close();
  }
}
