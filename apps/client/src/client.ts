import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type {
  ChunkIndex,
  ChunkToFetch,
  DeltaPlan,
  Digest,
  LayerAssembly,
  RandomSource,
  TurboEndpoint,
  TurboOffer,
} from '@bootpt/protocol';
import {
  createTrustStore,
  decodeChunkIndex,
  openSignedManifest,
  planDelta,
  seededRandom,
  sha256Hex,
  STATIC_DELTA_PARTS,
  staticDeltaChunks,
} from '@bootpt/protocol';
import { fromHex, toHex } from '@bootpt/protocol/wire';
import {
  assembleOutputs,
  handOff,
  locateImageChunks,
  type ChunkLocation,
  type KexecOutcome,
} from './boot.js';
import { ClientCache, type CachedManifest } from './cache.js';
import type { ClientConfig } from './config.js';
import { TurboDiscovery, type DiscoveryResult } from './discovery.js';
import { ChunkChecker } from './chunk-checker.js';
import { DeltaParts, DeltaStream, startDeltaWorker } from './delta-stream.js';
import { ClientError } from './errors.js';
import {
  acceptedEndpointTypes,
  fetchByGroup,
  selectGroupFetch,
  type GroupDeliveryStats,
} from './group-fetch.js';
import { Timeline, type PhaseSpan } from './timeline.js';
import { ContentSession, loadTransport } from './transport.js';

/**
 * One boot: discover → (cache valid: verify the cached manifest, boot) or (fetch and verify the
 * manifest, plan the delta, fetch missing chunks in parallel, verify) → assemble → hand off → report.
 */

const ENDPOINT_HTTP2 = 1;
const MAX_PACING_MS = 65_535;

export type BootDecision = 'cache' | 'update';

export interface BootResult {
  readonly ok: true;
  readonly mac: string;
  readonly manifestDigest: Digest;
  readonly release: { readonly name: string; readonly version: string };
  readonly verdict: TurboOffer['verdict'];
  readonly decision: BootDecision;
  readonly server: string;
  readonly endpoint: string | null;
  /** From the selected offer being final to "boot from cache" decided (warm path only). */
  readonly warmDecisionMs: number | null;
  readonly bytes: {
    /** Image bytes on the wire (TCP payload both ways on the content session before the report). */
    readonly wire: number;
    readonly wireRead: number;
    readonly wireWritten: number;
    readonly manifest: number;
    readonly indexes: number;
    /** Chunk bytes after decoding, and how many bytes of the image were reused from the cache. */
    readonly chunks: number;
    readonly reused: number;
    readonly image: number;
  };
  readonly chunks: { readonly total: number; readonly fetched: number; readonly repaired: number };
  /** Set when cold boot files were fetched by a TFTP group stream (group-fetch.ts); null: HTTP/2 only. */
  readonly delivery: GroupDeliveryStats | null;
  readonly timeline: PhaseSpan[];
  readonly totalMs: number;
  readonly files: Record<string, string>;
  readonly kexec: KexecOutcome;
  readonly reported: boolean;
}

export interface ClientDeps {
  readonly random?: RandomSource;
}

interface Counters {
  manifest: number;
  indexes: number;
  chunks: number;
  fetched: number;
}

export class BootClient {
  private readonly cache: ClientCache;
  private readonly trust;
  private readonly timeline = new Timeline();
  private session: ContentSession | undefined;
  private endpointLabel: string | null = null;
  private readonly counters: Counters = { manifest: 0, indexes: 0, chunks: 0, fetched: 0 };
  /** Chunks fetched (and verified) during this boot, handed to assembly without a re-read. */
  private readonly fresh = new Map<Digest, Uint8Array>();
  private groupStats: GroupDeliveryStats | null = null;
  /** Chunks inside cached images (this release's, the held one's), from the last plan. */
  private located = new Map<Digest, ChunkLocation>();
  /** Image locations found damaged during this boot. */
  private readonly damaged = new Set<Digest>();
  /** The static delta still being received: chunks promised to assembly as they arrive. */
  private delta: DeltaParts | null = null;
  private connecting: Promise<ContentSession> | null = null;
  /** The static delta, asked for (and decoding) as soon as the offer names a new release. */
  private deltaStart: Promise<DeltaParts | null> | null = null;
  private deltaAskedAt = 0;
  /** Its decoding workers (one per part), started while discovering when a held release may be updated. */
  private deltaWorkers: Worker[] = [];
  /**
   * Fetched manifests and indexes being written to the cache (`fetchManifest`, `indexFor`), off the
   * update's path: a file created while the manifest's fsync commits the file system's journal can wait
   * tens of ms for it (ext4). All are done before the state names the release.
   */
  private readonly cacheWrites: Promise<void>[] = [];
  /** Reads and verifies the chunks kept from a held image off the main thread (`chunk-checker.ts`). */
  private checker: ChunkChecker | null = null;
  /** Settles when the first discover is out. */
  private readonly firstSend: Promise<void>;
  private sent!: () => void;
  /** The update threads were started, or are no longer wanted (the delta was asked for, or the run ended). */
  private threadsDecided = false;
  /** Layers of cached releases by manifest digest (each computed once per boot). */
  private readonly layerMemo = new Map<Digest, readonly LayerAssembly[] | null>();
  /** Chunk indexes read (and checked against their digests) or fetched during this boot. */
  private readonly indexMemo = new Map<Digest, ChunkIndex>();

  constructor(
    private readonly config: ClientConfig,
    private readonly log: Logger,
    private readonly deps: ClientDeps = {},
  ) {
    this.cache = new ClientCache(config.cacheDir);
    this.trust = createTrustStore(config.trustedKeys);
    this.firstSend = new Promise((resolve) => (this.sent = resolve));
  }

  /** Starts the delta's decoders and the chunk checker, once, unless the update no longer wants them. */
  private startUpdateThreads(): void {
    if (this.threadsDecided) return;
    this.threadsDecided = true;
    this.deltaWorkers = Array.from({ length: STATIC_DELTA_PARTS }, startDeltaWorker);
    this.checker = new ChunkChecker();
  }

  async run(): Promise<BootResult> {
    let discovery: DiscoveryResult | undefined;
    try {
      await this.cache.init();
      const held = await this.heldManifest();
      // The held release's plan (its indexes, chunk files and images present) is made while discovering,
      // on the time the offer window costs anyway, so a `valid` offer turns into a boot decision without
      // touching the disk again. (The discover's cache token rests on the manifest check above alone.)
      const preparing = held
        ? this.planFromCache(held.manifest, null, null).catch(() => null)
        : Promise.resolve(null);
      // The threads an update from the held release would use (the delta's decoders, the chunk checker)
      // start once the first discover is out and that plan is made: their start-up (~100 ms of CPU each)
      // would otherwise compete with both, and a `valid` offer needs neither thread nor wait.
      if (held) void Promise.all([this.firstSend, preparing]).then(() => this.startUpdateThreads());
      discovery = await this.discover(held);
      return await this.boot(discovery, held, await preparing);
    } catch (err) {
      if (discovery) await this.report(discovery, null, err);
      throw err;
    } finally {
      this.threadsDecided = true;
      for (const w of this.deltaWorkers) void w.terminate();
      void this.checker?.close();
      // A delta asked for early but not used (nothing left to fetch, or a failure before it): drop it.
      await this.deltaStart?.then(
        (d) => d?.cancel(),
        () => undefined,
      );
      await this.session?.close();
    }
  }

  /** What the cache holds, only if its manifest still verifies (SPEC §4.1: otherwise send no token). */
  private async heldManifest(): Promise<{
    state: { manifestDigest: Digest; token: Uint8Array };
    manifest: CachedManifest;
  } | null> {
    const state = await this.cache.readState();
    if (!state) return null;
    const manifest = await this.cache.loadManifest(state.manifestDigest, this.trust);
    if (!manifest) {
      this.log.warn(
        { manifest: state.manifestDigest },
        'cached manifest missing or no longer verifies; discovering cold',
      );
      return null;
    }
    return {
      state: { manifestDigest: state.manifestDigest, token: fromHex(state.validationToken)! },
      manifest,
    };
  }

  private async discover(held: Awaited<ReturnType<BootClient['heldManifest']>>): Promise<DiscoveryResult> {
    const c = this.config;
    const random = this.deps.random ?? (c.seed !== undefined ? seededRandom(c.seed) : Math.random);
    const start = performance.now();
    const result = await new TurboDiscovery({
      mac: c.mac,
      server: c.server,
      serverPort: c.serverPort,
      clientPort: c.clientPort,
      optionCode: c.optionCode,
      windowMs: c.windowMs,
      maxRounds: c.maxRounds,
      backoffInitialMs: c.backoffInitialMs,
      accept: acceptedEndpointTypes(c.group),
      random,
      ...(held
        ? { held: { manifestDigest: fromHex(held.state.manifestDigest)!, validationToken: held.state.token } }
        : {}),
      // HTTP/2, TLS and zlib load while the offers are awaited, not before the first discover; so do the
      // threads an update from the held release would use (the delta's decoders, the chunk checker),
      // whose start-up would otherwise compete with the first discover for the CPU.
      onFirstSend: () => {
        void loadTransport();
        this.sent();
      },
      log: this.log,
    }).run();
    const offered = start + result.discoverMs;
    this.timeline.add('discover', start, offered);
    this.timeline.add('offer', offered, result.offerAt);
    this.log.info(
      {
        server: result.server,
        manifest: toHex(result.offer.manifestDigest),
        verdict: result.offer.verdict,
        load: result.offer.load,
        pacingMs: result.offer.pacingMs,
        rounds: result.rounds,
        acked: result.acked,
      },
      'offer selected',
    );
    return result;
  }

  private async boot(
    discovery: DiscoveryResult,
    held: Awaited<ReturnType<BootClient['heldManifest']>>,
    prepared: DeltaPlan | null,
  ): Promise<BootResult> {
    const { offer } = discovery;
    const digest = toHex(offer.manifestDigest);
    const warm = offer.verdict === 'valid' && held !== null && held.state.manifestDigest === digest;
    let warmDecisionMs: number | null = null;
    let manifest: CachedManifest;
    let plan: DeltaPlan;

    if (warm) {
      // Cache valid: the manifest was verified before discovery; the plan checks the cached indexes
      // against it and the chunk files present. No image byte moves unless the cache is damaged.
      manifest = held.manifest;
      plan = await this.timeline.measure(
        'manifest',
        async () => prepared ?? (await this.planFromCache(manifest, discovery, null)),
      );
      warmDecisionMs = performance.now() - discovery.offerAt;
      if (plan.fetch.length > 0) {
        this.log.warn(
          { missing: plan.fetch.length },
          'cache valid per offer but chunks are missing: repairing',
        );
      }
    } else {
      if (offer.pacingMs > 0) await sleep(Math.min(offer.pacingMs, MAX_PACING_MS));
      // Updating from a held release: the static delta is asked for at once and decodes while the
      // manifest and indexes are fetched and the plan made (nothing in it is used before each chunk is
      // verified against the indexes the signed manifest names).
      if (held && held.state.manifestDigest !== digest)
        this.deltaStart = this.requestDelta(discovery, held.manifest.verified.digest, digest);
      manifest = await this.timeline.measure('manifest', () => this.fetchManifest(discovery, digest));
      plan = await this.timeline.measure('manifest', () =>
        this.planFromCache(manifest, discovery, held?.manifest ?? null),
      );
    }
    const decision: BootDecision = warm && plan.fetch.length === 0 ? 'cache' : 'update';
    this.log.info(
      {
        decision,
        fetchChunks: plan.fetch.length,
        fetchBytes: plan.fetchBytes,
        reusedBytes: plan.reusedBytes,
        totalBytes: plan.totalBytes,
        warmDecisionMs,
      },
      'boot decision',
    );
    if (plan.fetch.length > 0) {
      await this.timeline.measure('transfer', () => this.transfer(discovery, held, warm, digest, plan));
    }
    const repairedBefore = this.cache.repaired.chunks;
    const files = await this.timeline.measure('verify', async () => {
      for (let attempt = 0; ; attempt++) {
        const out = await assembleOutputs(
          this.cache,
          digest,
          plan.layers,
          this.config.outputDir,
          {
            fresh: this.fresh,
            located: this.located,
            damaged: this.damaged,
            ...(this.delta ? { arriving: this.delta.arriving } : {}),
          },
          this.checker,
        );
        // The delta's stream ends before anything is refetched or handed off (its errors surface here).
        if (this.delta) await this.delta.done;
        if (out.missing.length === 0) return out.files;
        if (attempt >= 2) {
          throw new ClientError(
            'CLIENT_ERR_CACHE_UNREPAIRABLE',
            `${out.missing.length} chunk(s) still missing or corrupt after ${attempt + 1} repair attempts`,
          );
        }
        this.log.warn({ chunks: out.missing.length }, 'corrupt or missing cache chunks detected: refetching');
        const lengths = new Map(
          plan.layers.flatMap((l) => l.chunks.map((c) => [c.digest, c.length] as const)),
        );
        await this.fetchChunks(
          discovery,
          out.missing.map((d) => ({ digest: d, length: lengths.get(d)! })),
        );
      }
    });
    const kexec = await this.timeline.measure('boot', async () => {
      await Promise.all(this.cacheWrites);
      if (offer.validationToken) {
        await this.cache.writeState({
          manifestDigest: digest,
          validationToken: toHex(offer.validationToken),
        });
      }
      return handOff({
        outputDir: this.config.outputDir,
        manifest: manifest.verified.manifest,
        manifestDigest: digest,
        files,
        kexec: this.config.kexec,
      });
    });
    // Housekeeping after the hand-off: drop what the booted release no longer uses. Its images hold
    // every chunk it uses, so loose chunk files go too.
    await this.cache.prune({
      manifests: new Set([digest]),
      indexes: new Set(manifest.verified.manifest.layers.map((l) => l.chunkIndexDigest)),
      images: new Set([digest]),
      chunks: new Set(),
    });
    const wire = this.session?.wireBytes() ?? { read: 0, written: 0 };
    const distinct = new Map(plan.layers.flatMap((l) => l.chunks.map((c) => [c.digest, c.length] as const)));
    const result: BootResult = {
      ok: true,
      mac: this.config.mac,
      manifestDigest: digest,
      release: {
        name: manifest.verified.manifest.release.name,
        version: manifest.verified.manifest.release.version,
      },
      verdict: offer.verdict,
      decision,
      server: discovery.server,
      endpoint: this.endpointLabel,
      warmDecisionMs: warmDecisionMs === null ? null : round(warmDecisionMs),
      bytes: {
        wire: wire.read + wire.written,
        wireRead: wire.read,
        wireWritten: wire.written,
        manifest: this.counters.manifest,
        indexes: this.counters.indexes,
        chunks: this.counters.chunks,
        reused: plan.reusedBytes,
        image: plan.totalBytes,
      },
      chunks: {
        total: distinct.size,
        fetched: this.counters.fetched,
        repaired: this.cache.repaired.chunks - repairedBefore + (warm ? plan.fetch.length : 0),
      },
      delivery: this.groupStats,
      timeline: this.timeline.toJSON(),
      totalMs: round(this.timeline.elapsed()),
      files,
      kexec,
      reported: false,
    };
    const reported = await this.report(discovery, result, null);
    return { ...result, reported };
  }

  /**
   * Brings the cache up to `plan`: boot files that are mostly missing go by TFTP group stream when the
   * offer allows it (group-fetch.ts), while HTTP/2 fetches the rest (the static delta first on an update);
   * whatever the group did not deliver verified follows over HTTP/2.
   */
  private async transfer(
    discovery: DiscoveryResult,
    held: Awaited<ReturnType<BootClient['heldManifest']>>,
    warm: boolean,
    digest: Digest,
    plan: DeltaPlan,
  ): Promise<void> {
    const selection = warm ? null : selectGroupFetch(plan, discovery.offer.endpoints, this.config);
    const controller = new AbortController();
    const group = selection
      ? fetchByGroup({
          selection,
          manifestDigest: digest,
          tuning: this.config,
          log: this.log,
          signal: controller.signal,
        })
      : null;
    const own = selection
      ? { ...plan, fetch: plan.fetch.filter((c) => !selection.covers.has(c.digest)) }
      : plan;
    try {
      const rest =
        held && !warm && own.fetch.length > 0
          ? await this.fetchDelta(discovery, held.manifest, digest, own)
          : own.fetch;
      await this.fetchChunks(discovery, rest);
    } catch (err) {
      controller.abort('HTTP/2 transfer failed');
      await group;
      throw err;
    }
    if (!group || !selection) return;
    const { chunks, stats } = await group;
    this.groupStats = stats;
    // Verified chunks are kept in memory for assembly, like the static delta's: the image is the cache.
    const left: ChunkToFetch[] = [];
    for (const c of plan.fetch) {
      if (!selection.covers.has(c.digest)) continue;
      const bytes = chunks.get(c.digest);
      if (!bytes) {
        left.push(c);
        continue;
      }
      this.fresh.set(c.digest, bytes);
      this.counters.chunks += bytes.length;
      this.counters.fetched++;
    }
    if (left.length > 0) await this.fetchChunks(discovery, left);
  }

  /** The boot's one content session (concurrent callers share the same connection attempt). */
  private connect(discovery: DiscoveryResult): Promise<ContentSession> {
    this.connecting ??= this.openSession(discovery);
    return this.connecting;
  }

  private async openSession(discovery: DiscoveryResult): Promise<ContentSession> {
    if (this.session) return this.session;
    const endpoints = discovery.offer.endpoints.filter((e: TurboEndpoint) => e.type === ENDPOINT_HTTP2);
    if (endpoints.length === 0) {
      throw new ClientError(
        'CLIENT_ERR_NO_ENDPOINT',
        `offer from ${discovery.server} lists no HTTP/2 endpoint`,
      );
    }
    let last: unknown;
    for (const e of endpoints) {
      try {
        this.session = await ContentSession.open(e.address, e.port, this.config.tls);
        this.endpointLabel = `${e.address}:${e.port}`;
        return this.session;
      } catch (err) {
        last = err;
        this.log.warn({ endpoint: `${e.address}:${e.port}`, err }, 'content endpoint failed');
      }
    }
    throw last instanceof ClientError ? last : new ClientError('CLIENT_ERR_NO_ENDPOINT', String(last));
  }

  private async fetchManifest(discovery: DiscoveryResult, digest: Digest): Promise<CachedManifest> {
    const cached = await this.cache.loadManifest(digest, this.trust);
    if (cached) return cached;
    const session = await this.connect(discovery);
    const res = await session.get(`/v1/manifests/${digest}`);
    if (res.status !== 200)
      throw new ClientError('CLIENT_ERR_HTTP', `manifest ${digest}: HTTP ${res.status}`);
    this.counters.manifest += res.body.length;
    const opened = openSignedManifest(res.body, this.trust);
    if (!opened.ok) {
      throw new ClientError(
        'CLIENT_ERR_MANIFEST_REJECTED',
        `manifest ${digest} refused: ${opened.error.code}: ${opened.error.message}`,
      );
    }
    if (opened.value.digest !== digest) {
      throw new ClientError(
        'CLIENT_ERR_MANIFEST_DIGEST_MISMATCH',
        `manifest refused: offer names ${digest}, server sent ${opened.value.digest}`,
      );
    }
    this.storeLater(this.cache.putManifest(digest, res.body));
    return { envelope: res.body, verified: opened.value };
  }

  /**
   * The delta plan for `manifest` against the chunks present — in the cached images of `manifest` itself
   * and of `previous` (the held release), and loose — fetching missing indexes (needs `discovery`).
   */
  private async planFromCache(
    manifest: CachedManifest,
    discovery: DiscoveryResult | null,
    previous: CachedManifest | null,
  ): Promise<DeltaPlan> {
    const indexes = new Map<Digest, ChunkIndex>();
    const loose = this.cache.chunkDigests();
    loose.catch(() => undefined);
    // Missing indexes are fetched concurrently (one round trip, not one per layer).
    const distinct = [...new Set(manifest.verified.manifest.layers.map((l) => l.chunkIndexDigest))];
    const loaded = await Promise.all(distinct.map((d) => this.indexFor(d, discovery)));
    distinct.forEach((d, i) => indexes.set(d, loaded[i]!));
    const layers = layersOf(manifest, indexes);
    const located = new Map<Digest, ChunkLocation>();
    if (layers) locateImageChunks(this.cache, manifest.verified.digest, layers, located);
    if (previous && previous.verified.digest !== manifest.verified.digest) {
      const before = await this.cachedLayers(previous);
      if (before) locateImageChunks(this.cache, previous.verified.digest, before, located);
    }
    this.located = located;
    const present = await loose;
    return planOrThrow(manifest, indexes, { has: (d) => present.has(d) || located.has(d) });
  }

  /** A cache write that goes on while the update does; awaited (and its error raised) before the state write. */
  private storeLater(write: Promise<void>): void {
    write.catch(() => undefined);
    this.cacheWrites.push(write);
  }

  /** Chunk index `d` from the cache, or fetched (needs `discovery`), checked against its digest. */
  private async indexFor(d: Digest, discovery: DiscoveryResult | null): Promise<ChunkIndex> {
    let index = await this.cachedIndex(d);
    if (!index) {
      if (!discovery) throw new ClientError('CLIENT_ERR_PLAN', `chunk index ${d} is not cached`);
      const session = await this.connect(discovery);
      const res = await session.get(`/v1/indexes/${d}`);
      if (res.status !== 200)
        throw new ClientError('CLIENT_ERR_HTTP', `chunk index ${d}: HTTP ${res.status}`);
      this.counters.indexes += res.body.length;
      const decoded = sha256Hex(res.body) === d ? decodeChunkIndex(res.body) : null;
      if (!decoded?.ok) {
        throw new ClientError(
          'CLIENT_ERR_INDEX_REJECTED',
          `chunk index ${d} refused: bytes do not match its digest`,
        );
      }
      this.storeLater(this.cache.putIndex(d, res.body));
      index = decoded.value;
      this.indexMemo.set(d, index);
    }
    return index;
  }

  /** Cached chunk index `d`, read and checked once per boot (the held release's is used twice). */
  private async cachedIndex(d: Digest): Promise<ChunkIndex | null> {
    const memo = this.indexMemo.get(d);
    if (memo) return memo;
    const index = await this.cache.loadIndex(d);
    if (index) this.indexMemo.set(d, index);
    return index;
  }

  /** `manifest`'s layers from the cached indexes alone (each read once per boot); null when one is gone. */
  private async cachedLayers(manifest: CachedManifest): Promise<readonly LayerAssembly[] | null> {
    const memo = this.layerMemo.get(manifest.verified.digest);
    if (memo !== undefined) return memo;
    const indexes = new Map<Digest, ChunkIndex>();
    for (const layer of manifest.verified.manifest.layers) {
      const index = await this.cachedIndex(layer.chunkIndexDigest);
      if (index) indexes.set(layer.chunkIndexDigest, index);
    }
    const layers = layersOf(manifest, indexes);
    this.layerMemo.set(manifest.verified.digest, layers);
    return layers;
  }

  private async fetchChunks(discovery: DiscoveryResult, chunks: readonly ChunkToFetch[]): Promise<void> {
    const session = await this.connect(discovery);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        const res = await session.get(`/v1/chunks/${chunk.digest}`);
        if (res.status !== 200)
          throw new ClientError('CLIENT_ERR_HTTP', `chunk ${chunk.digest}: HTTP ${res.status}`);
        if (res.body.length !== chunk.length || sha256Hex(res.body) !== chunk.digest) {
          throw new ClientError(
            'CLIENT_ERR_CHUNK_REJECTED',
            `chunk ${chunk.digest} from ${this.endpointLabel ?? '?'} refused: ${res.body.length} bytes digesting to ${sha256Hex(res.body)}`,
          );
        }
        await this.cache.putChunk(chunk.digest, res.body);
        this.fresh.set(chunk.digest, res.body);
        this.counters.chunks += res.body.length;
        this.counters.fetched++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.config.concurrency, chunks.length) }, worker));
  }

  /**
   * Starts the server's static delta from the release we hold to `to`: one brotli stream of the chunks
   * of `to` that `from` does not use, in order of first use (`staticDeltaChunks`, the list the agent
   * uses too). Resolves as soon as the response starts, with what the delta does not carry (everything,
   * when the server has no such delta or our copy of `from`'s indexes is gone). The stream goes on in
   * the background (`DeltaStream`: decoded, cut into chunks and each verified against its digest on a
   * worker thread) and its chunks are handed to assembly in memory (`this.delta.arriving`), which runs
   * meanwhile in the same order. Nothing is written per chunk: the assembled image is the cache.
   */
  private async fetchDelta(
    discovery: DiscoveryResult,
    from: CachedManifest,
    to: Digest,
    plan: DeltaPlan,
  ): Promise<readonly ChunkToFetch[]> {
    const pending = this.deltaStart ?? this.requestDelta(discovery, from.verified.digest, to);
    this.deltaStart = null;
    const before = await this.cachedLayers(from);
    const delta = await pending;
    if (!delta) return plan.fetch;
    if (!before) {
      delta.cancel();
      return plan.fetch;
    }
    const list = staticDeltaChunks(
      new Set(before.flatMap((l) => l.chunks.map((c) => c.digest))),
      plan.layers,
    );
    const wanted = new Set(plan.fetch.map((c) => c.digest));
    const carried = list.filter((c) => wanted.has(c.digest));
    delta.expect(list, wanted, this.fresh, this.endpointLabel ?? '?', (c) => {
      this.counters.chunks += c.length;
      this.counters.fetched++;
    });
    this.delta = delta;
    const started = this.deltaAskedAt;
    void delta.done.then(
      () => this.timeline.add('transfer', started, performance.now()),
      () => undefined,
    );
    const inDelta = new Set(carried.map((c) => c.digest));
    return plan.fetch.filter((c) => !inDelta.has(c.digest));
  }

  /** Asks for the static delta `from` → `to`; null when the server has none. Decoding starts at once. */
  private requestDelta(discovery: DiscoveryResult, from: Digest, to: Digest): Promise<DeltaParts | null> {
    this.deltaAskedAt = performance.now();
    const started = this.connect(discovery).then(async (session) => {
      // Lowest weight: the manifest and index requests that follow on this session should not queue
      // behind megabytes of delta (the delta's chunks cannot be verified before the indexes arrive).
      // Every part at once, each decoded on its own worker.
      const responses = await Promise.all(
        Array.from({ length: STATIC_DELTA_PARTS }, (_, part) =>
          session.stream(`/v1/deltas/${from}/${to}/${part}`, { decode: false, weight: 1 }),
        ),
      );
      if (responses.some((res) => res.status !== 200)) {
        for (const res of responses) res.body.destroy();
        return null;
      }
      const workers = this.deltaWorkers;
      this.deltaWorkers = [];
      this.threadsDecided = true; // too late to start them now: the parts decode on workers started here
      return new DeltaParts(
        responses.map(
          (res, part) => new DeltaStream(res.body, res.brotli, workers[part] ?? startDeltaWorker(), this.log),
        ),
      );
    });
    started.catch(() => undefined); // awaited (and its error surfaced) by fetchDelta
    return started;
  }

  /** Best effort: a boot never fails because the report could not be delivered. */
  private async report(
    discovery: DiscoveryResult,
    result: BootResult | null,
    err: unknown,
  ): Promise<boolean> {
    if (!this.config.report) return false;
    try {
      const session = await this.connect(discovery);
      const body = {
        mac: this.config.mac,
        manifestDigest: toHex(discovery.offer.manifestDigest),
        verdict: discovery.offer.verdict,
        outcome: result ? 'booted' : 'failed',
        ...(result
          ? {
              decision: result.decision,
              bytes: result.bytes,
              chunks: result.chunks,
              totalMs: result.totalMs,
              ...(result.delivery ? { delivery: result.delivery } : {}),
            }
          : {
              error: {
                code: (err as ClientError).code ?? 'CLIENT_ERR_BOOT',
                message: String((err as Error).message),
              },
            }),
        timeline: this.timeline.toJSON(),
      };
      const res = await session.post('/v1/reports', body);
      if (res.status !== 202) this.log.warn({ status: res.status }, 'report not accepted');
      return res.status === 202;
    } catch (e) {
      this.log.warn({ err: e }, 'report failed');
      return false;
    }
  }
}

function layersOf(
  manifest: CachedManifest,
  indexes: ReadonlyMap<Digest, ChunkIndex>,
): LayerAssembly[] | null {
  const out: LayerAssembly[] = [];
  const layers = manifest.verified.manifest.layers;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const index = indexes.get(layer.chunkIndexDigest);
    if (!index || index.layerDigest !== layer.digest || index.layerSize !== layer.size) return null;
    out.push({
      layerIndex: i,
      digest: layer.digest,
      size: layer.size,
      mediaType: layer.mediaType,
      chunks: index.chunks,
    });
  }
  return out;
}

function planOrThrow(
  manifest: CachedManifest,
  indexes: ReadonlyMap<Digest, ChunkIndex>,
  held: { has(digest: Digest): boolean },
): DeltaPlan {
  // Every index came from `indexFor`: bytes whose SHA-256 is its key (the manifest's chunkIndexDigest).
  const plan = planDelta(manifest.verified.manifest, indexes, held, { indexesChecked: true });
  if (!plan.ok) throw new ClientError('CLIENT_ERR_PLAN', `${plan.error.code}: ${plan.error.message}`);
  return plan.value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
