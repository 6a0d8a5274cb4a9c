import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Lease } from './lease-table.js';

/** The journal's descriptor: appends that are durable on return (O_DSYNC, see below). */
const JOURNAL_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC;

/**
 * Leases on disk: a snapshot plus a journal, so the cost of recording a change does not grow with the
 * number of leases.
 *
 * - `leases.json`: `{ version: 1, generation, leases }`, replaced atomically (temp file, fsync, rename,
 *   directory fsync), so a crash leaves the old or the new snapshot, never a torn one.
 * - `leases.json.journal`: a first line `{"generation":G}`, then one JSON line per changed address
 *   (`{"ip":N,"lease":{…}}`, or `"lease":null` when the address was forgotten), appended through an
 *   O_DSYNC descriptor: the append returns once its data (and the file's new size) are on disk, as an
 *   append plus fdatasync would, in one system call and one trip to the thread pool instead of two (the
 *   ACK waits for it). Replaying it over the snapshot of the same generation gives the current leases.
 *
 * Writes are group commits: `save()` calls made while a write is in progress are folded into one
 * follow-up write of everything that changed meanwhile; every caller's promise resolves once a write
 * that includes its change is durable. An ACK is sent only after that (RFC 2131 §4.3.1: a server must
 * record a binding before acknowledging it).
 *
 * When the journal has grown past the snapshot's size (and past `compactAtBytes`), the next write is a
 * new snapshot instead: generation G+1, then a fresh journal for G+1 (the snapshot is made durable first,
 * so whichever of the two renames a crash keeps, the files on disk describe the same leases: a journal
 * whose generation is not the snapshot's is already folded into it and is ignored). That costs one
 * serialisation of every lease per "snapshot's worth" of journal, so a change costs O(1) amortised.
 *
 * A crash in the middle of an append leaves a last line without its newline: it was never acknowledged,
 * so loading drops it (and the next write compacts). Any other unreadable journal line is corruption,
 * and loading refuses with the file and line rather than hand out addresses it may have lost track of.
 */

interface SnapshotFileV1 {
  readonly version: 1;
  /** Absent in files written before the journal existed: generation 0. */
  readonly generation?: number;
  readonly leases: readonly Lease[];
}

/** What the store reads from the lease table. */
export interface LeaseSource {
  /** Every lease (for a snapshot). */
  all(): readonly Lease[];
  /** What changed since the previous call: per address, its record now, or undefined when forgotten. */
  takeChanges(): ReadonlyMap<number, Lease | undefined>;
}

export interface LeaseStoreOptions {
  /** The journal is compacted once it is larger than this and than the snapshot. Default 256 KiB. */
  readonly compactAtBytes?: number;
}

export interface LeaseLoadReport {
  readonly leases: Lease[];
  /** Journal lines replayed over the snapshot. */
  readonly replayed: number;
  /** Records left out because they were malformed (snapshot entries or journal records). */
  readonly malformed: number;
  /** True when the journal ended in a torn (unacknowledged) line, which was dropped. */
  readonly tornTail: boolean;
}

export class LeaseStore {
  readonly journalPath: string;
  private readonly compactAtBytes: number;
  private generation = 0;
  private snapshotBytes = 0;
  private journalBytes = 0;
  /** Records in the current journal (after its header). */
  private journalRecords = 0;
  private needsSnapshot = false;
  private journal: FileHandle | undefined;
  private writing: Promise<void> | undefined;
  private pending:
    { source: LeaseSource; waiters: { resolve: () => void; reject: (e: unknown) => void }[] } | undefined;
  private tmpCounter = 0;

  constructor(
    readonly path: string,
    options: LeaseStoreOptions = {},
  ) {
    this.journalPath = `${path}.journal`;
    this.compactAtBytes = options.compactAtBytes ?? 256 * 1024;
  }

  async load(): Promise<Lease[]> {
    return (await this.loadReport()).leases;
  }

  /** Reads the snapshot, replays the journal of the same generation over it. */
  async loadReport(): Promise<LeaseLoadReport> {
    const byIp = new Map<number, Lease>();
    let malformed = 0;
    const snapshotText = await readIfExists(this.path);
    if (snapshotText !== undefined) {
      const parsed = JSON.parse(snapshotText) as Partial<SnapshotFileV1>;
      if (parsed.version !== 1 || !Array.isArray(parsed.leases)) {
        throw new Error(`${this.path}: not a version 1 lease file`);
      }
      this.generation = Number.isSafeInteger(parsed.generation) ? parsed.generation! : 0;
      this.snapshotBytes = Buffer.byteLength(snapshotText);
      for (const l of parsed.leases) {
        if (isLease(l)) byIp.set(l.ip, l);
        else malformed++;
      }
    }

    let replayed = 0;
    let tornTail = false;
    const journalText = await readIfExists(this.journalPath);
    if (journalText !== undefined && journalText.length > 0) {
      const lines = journalText.split('\n');
      // split() leaves '' after a final newline; anything else there is a line whose append was cut short.
      const last = lines.pop()!;
      if (last !== '') tornTail = true;
      const header = lines.length > 0 ? parseLine(lines[0]!) : undefined;
      const generation = (header as { generation?: unknown } | undefined)?.generation;
      if (generation === this.generation) {
        for (let n = 1; n < lines.length; n++) {
          const record = parseLine(lines[n]!) as { ip?: unknown; lease?: unknown } | undefined;
          if (record === undefined || typeof record.ip !== 'number') {
            throw new Error(`${this.journalPath}:${n + 1}: unreadable journal record`);
          }
          replayed++;
          if (record.lease === null) byIp.delete(record.ip);
          else if (isLease(record.lease) && record.lease.ip === record.ip) byIp.set(record.ip, record.lease);
          else malformed++;
        }
        this.journalBytes = Buffer.byteLength(journalText);
        this.journalRecords = replayed;
      } else if (header === undefined && lines.length > 0) {
        throw new Error(`${this.journalPath}:1: unreadable journal header`);
      }
      // A journal of another generation was folded into the snapshot before a crash; a torn or replayed
      // one is rewritten. Either way the first write starts a new generation.
      this.needsSnapshot = true;
    }
    return { leases: [...byIp.values()], replayed, malformed, tornTail };
  }

  /** Makes every change `source` reports durable (group commit; see the class comment). */
  save(source: LeaseSource): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.pending) {
        this.pending.source = source;
        this.pending.waiters.push({ resolve, reject });
      } else {
        this.pending = { source, waiters: [{ resolve, reject }] };
      }
      if (!this.writing) this.writing = this.drainLoop();
    });
  }

  /** Resolves when every requested write has finished. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing.catch(() => undefined);
  }

  /**
   * Finishes pending writes and closes the journal. With `checkpoint`, a journal holding records is
   * first folded into a new snapshot, so a cleanly stopped agent starts again without replaying.
   */
  async close(checkpoint?: LeaseSource): Promise<void> {
    await this.flush();
    if (checkpoint && (this.needsSnapshot || this.journalRecords > 0)) {
      checkpoint.takeChanges();
      await this.writeSnapshot(checkpoint.all());
    }
    await this.journal?.close();
    this.journal = undefined;
  }

  /** Bytes in the current journal (header included). */
  get journalSize(): number {
    return this.journalBytes;
  }

  private async drainLoop(): Promise<void> {
    try {
      while (this.pending) {
        const job = this.pending;
        this.pending = undefined;
        try {
          await this.write(job.source);
          for (const w of job.waiters) w.resolve();
        } catch (err) {
          // The changes taken for the failed write are lost to the journal: snapshot on the next write.
          this.needsSnapshot = true;
          for (const w of job.waiters) w.reject(err);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async write(source: LeaseSource): Promise<void> {
    if (this.needsSnapshot || this.journalBytes > Math.max(this.compactAtBytes, this.snapshotBytes)) {
      source.takeChanges(); // all folded into the snapshot
      await this.writeSnapshot(source.all());
      return;
    }
    const changes = source.takeChanges();
    if (changes.size === 0) return;
    let text = '';
    for (const [ip, lease] of changes) text += `${JSON.stringify({ ip, lease: lease ?? null })}\n`;
    const journal = await this.openJournal();
    await journal.appendFile(text); // O_DSYNC: durable when it returns
    this.journalBytes += Buffer.byteLength(text);
    this.journalRecords += changes.size;
  }

  private async openJournal(): Promise<FileHandle> {
    if (this.journal) return this.journal;
    await mkdir(dirname(this.path), { recursive: true });
    const handle = await open(this.journalPath, JOURNAL_FLAGS, 0o640);
    try {
      if ((await handle.stat()).size === 0) {
        const header = `${JSON.stringify({ generation: this.generation })}\n`;
        await handle.appendFile(header);
        this.journalBytes = Buffer.byteLength(header);
        this.journalRecords = 0;
        await syncDirectory(dirname(this.path));
      }
    } catch (err) {
      await handle.close();
      throw err;
    }
    this.journal = handle;
    return handle;
  }

  private async writeSnapshot(leases: readonly Lease[]): Promise<void> {
    const generation = this.generation + 1;
    // Serialized before the first await: the table updates lease records in place.
    const text = JSON.stringify({ version: 1, generation, leases } satisfies SnapshotFileV1);
    const header = `${JSON.stringify({ generation })}\n`;
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true });
    await this.journal?.close();
    this.journal = undefined;
    await this.replace(this.path, text);
    // The snapshot must be durable before the old journal goes: see the class comment.
    await syncDirectory(dir);
    await this.replace(this.journalPath, header);
    await syncDirectory(dir);
    this.generation = generation;
    this.snapshotBytes = Buffer.byteLength(text);
    this.journalBytes = Buffer.byteLength(header);
    this.journalRecords = 0;
    this.needsSnapshot = false;
  }

  /** Writes `text` to a temp file, fsyncs it and renames it over `path`. */
  private async replace(path: string, text: string): Promise<void> {
    const dir = dirname(path);
    const tmp = join(dir, `.${process.pid}.${++this.tmpCounter}.leases.tmp`);
    const handle = await open(tmp, 'w', 0o640);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isLease(v: unknown): v is Lease {
  if (typeof v !== 'object' || v === null) return false;
  const l = v as Record<string, unknown>;
  return (
    typeof l.ip === 'number' &&
    Number.isInteger(l.ip) &&
    typeof l.client === 'string' &&
    typeof l.mac === 'string' &&
    typeof l.subnet === 'string' &&
    (l.state === 'offered' || l.state === 'bound' || l.state === 'declined') &&
    typeof l.expiresAt === 'number'
  );
}
