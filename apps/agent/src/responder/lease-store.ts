import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Lease } from './lease-table.js';

/**
 * Leases on disk: one JSON file, replaced atomically (write a temp file, fsync it, rename it over the old
 * one, fsync the directory), so a crash leaves either the old or the new file, never a torn one.
 *
 * Writes are coalesced: `save()` calls made while a write is in progress are folded into one follow-up
 * write of the newest snapshot; every caller's promise resolves once a write that includes its state is
 * durable. An ACK is sent only after that (RFC 2131 §4.3.1: a server must record a binding before
 * acknowledging it).
 */

interface LeaseFileV1 {
  readonly version: 1;
  readonly leases: readonly Lease[];
}

export class LeaseStore {
  private writing: Promise<void> | undefined;
  private pending:
    | { snapshot: () => readonly Lease[]; waiters: { resolve: () => void; reject: (e: unknown) => void }[] }
    | undefined;
  private tmpCounter = 0;

  constructor(readonly path: string) {}

  async load(): Promise<Lease[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const parsed = JSON.parse(text) as Partial<LeaseFileV1>;
    if (parsed.version !== 1 || !Array.isArray(parsed.leases)) {
      throw new Error(`${this.path}: not a version 1 lease file`);
    }
    return parsed.leases.filter(isLease);
  }

  /** Persists the snapshot returned by `snapshot` (called when the write actually starts). */
  save(snapshot: () => readonly Lease[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.pending) {
        this.pending.snapshot = snapshot;
        this.pending.waiters.push({ resolve, reject });
      } else {
        this.pending = { snapshot, waiters: [{ resolve, reject }] };
      }
      if (!this.writing) this.writing = this.drainLoop();
    });
  }

  /** Resolves when every requested write has finished. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing.catch(() => undefined);
  }

  private async drainLoop(): Promise<void> {
    try {
      while (this.pending) {
        const job = this.pending;
        this.pending = undefined;
        try {
          await this.writeAtomically(job.snapshot());
          for (const w of job.waiters) w.resolve();
        } catch (err) {
          for (const w of job.waiters) w.reject(err);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async writeAtomically(leases: readonly Lease[]): Promise<void> {
    // Serialized before the first await: the table updates lease records in place.
    const text = JSON.stringify({ version: 1, leases } satisfies LeaseFileV1);
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${process.pid}.${++this.tmpCounter}.leases.tmp`);
    const handle = await open(tmp, 'w', 0o640);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    const dirHandle = await open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
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
