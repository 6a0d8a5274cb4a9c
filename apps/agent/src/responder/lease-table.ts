/**
 * The address bindings the responder has made, in memory: pure (time is passed in), persisted by
 * `LeaseStore`. One invariant above all: at most one client per address (`byIp` has one entry per
 * address, and an address is only handed to a client when `isFreeFor` says so).
 *
 * States: `offered` (held for a client between OFFER and REQUEST), `bound` (ACKed), `declined` (a client
 * said the address is in use: kept out of the pool for a while). Expired entries stay until reused, so a
 * returning client can get its old address back.
 */

export type LeaseState = 'offered' | 'bound' | 'declined';

export interface Lease {
  readonly ip: number;
  /** Client identity: `id:<hex of option 61>` when the client sent one, else `mac:<aa:bb:..>` (RFC 2131 §2). */
  readonly client: string;
  readonly mac: string;
  readonly subnet: string;
  readonly state: LeaseState;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
  readonly hostname?: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class LeaseTable {
  private readonly byIp = new Map<number, Lease>();
  private readonly byClient = new Map<string, Lease>();
  /** Addresses changed since the last `takeChanges()` (what the lease journal appends next). */
  private readonly dirty = new Set<number>();
  private version = 0;

  /** Bumped on every change; the store persists when it moves. */
  get changes(): number {
    return this.version;
  }

  get size(): number {
    return this.byIp.size;
  }

  at(ip: number): Lease | undefined {
    return this.byIp.get(ip);
  }

  /** The client's current or most recent binding (any state but `declined`). */
  ofClient(client: string): Lease | undefined {
    return this.byClient.get(client);
  }

  isFreeFor(ip: number, client: string, now: number): boolean {
    const lease = this.byIp.get(ip);
    if (!lease) return true;
    if (lease.state === 'declined') return lease.expiresAt <= now;
    return lease.client === client || lease.expiresAt <= now;
  }

  /**
   * Records a binding. Refuses (returns false) when another client holds the address: callers must have
   * checked `isFreeFor`, this is the last line of defence for "never two hosts on one address".
   */
  put(lease: Lease, now: number): boolean {
    if (!this.isFreeFor(lease.ip, lease.client, now)) return false;
    const previousAtIp = this.byIp.get(lease.ip);
    if (
      previousAtIp !== undefined &&
      previousAtIp.client === lease.client &&
      this.byClient.get(lease.client) === previousAtIp &&
      lease.state !== 'declined' &&
      previousAtIp.hostname === undefined &&
      lease.hostname === undefined
    ) {
      // The same client's binding of the same address moves on (offered → bound, renewed): update the
      // record in place rather than replacing it, so the steady DISCOVER/REQUEST traffic of known hosts
      // leaves no long-lived garbage. Both maps keep pointing at this one record.
      const record = previousAtIp as Mutable<Lease>;
      record.mac = lease.mac;
      record.subnet = lease.subnet;
      record.state = lease.state;
      record.expiresAt = lease.expiresAt;
      this.changed(lease.ip);
      return true;
    }
    if (previousAtIp && this.byClient.get(previousAtIp.client) === previousAtIp)
      this.byClient.delete(previousAtIp.client);
    const previousOfClient = this.byClient.get(lease.client);
    if (previousOfClient && previousOfClient.ip !== lease.ip) {
      this.byIp.delete(previousOfClient.ip);
      this.changed(previousOfClient.ip);
    }
    this.byIp.set(lease.ip, lease);
    if (lease.state !== 'declined') this.byClient.set(lease.client, lease);
    this.changed(lease.ip);
    return true;
  }

  /** RELEASE: the client gives the address back; it stays remembered (expired) for that client. */
  release(ip: number, client: string, now: number): boolean {
    const lease = this.byIp.get(ip);
    if (!lease || lease.client !== client || lease.state === 'declined') return false;
    const released = { ...lease, state: 'bound' as const, expiresAt: Math.min(lease.expiresAt, now) };
    this.byIp.set(ip, released);
    this.byClient.set(client, released);
    this.changed(ip);
    return true;
  }

  /** DECLINE: the address is in use by someone we do not know; quarantine it. */
  decline(ip: number, client: string, mac: string, subnet: string, holdMs: number, now: number): void {
    const current = this.byIp.get(ip);
    if (current && this.byClient.get(current.client) === current) this.byClient.delete(current.client);
    this.byIp.set(ip, { ip, client, mac, subnet, state: 'declined', expiresAt: now + holdMs });
    this.changed(ip);
  }

  counts(now: number): Record<'offered' | 'bound' | 'declined' | 'expired', number> {
    const out = { offered: 0, bound: 0, declined: 0, expired: 0 };
    for (const lease of this.byIp.values()) {
      if (lease.expiresAt <= now) out.expired++;
      else out[lease.state]++;
    }
    return out;
  }

  /** Forgets expired entries older than `keepMs` (bounded memory for long-running agents). */
  prune(now: number, keepMs: number): number {
    let removed = 0;
    for (const [ip, lease] of this.byIp) {
      if (lease.expiresAt + keepMs <= now) {
        this.byIp.delete(ip);
        if (this.byClient.get(lease.client) === lease) this.byClient.delete(lease.client);
        this.changed(ip);
        removed++;
      }
    }
    return removed;
  }

  /** What changed since the previous call: each changed address's record now, or undefined if forgotten. */
  takeChanges(): Map<number, Lease | undefined> {
    const out = new Map<number, Lease | undefined>();
    for (const ip of this.dirty) out.set(ip, this.byIp.get(ip));
    this.dirty.clear();
    return out;
  }

  private changed(ip: number): void {
    this.dirty.add(ip);
    this.version++;
  }

  all(): Lease[] {
    return [...this.byIp.values()];
  }

  /** Loads persisted leases; entries that would break the one-client-per-address invariant are skipped. */
  load(leases: readonly Lease[]): number {
    let skipped = 0;
    for (const lease of leases) {
      if (this.byIp.has(lease.ip)) {
        skipped++;
        continue;
      }
      const other = this.byClient.get(lease.client);
      if (other && other.expiresAt >= lease.expiresAt) {
        skipped++;
        continue;
      }
      if (other) this.byIp.delete(other.ip);
      this.byIp.set(lease.ip, lease);
      if (lease.state !== 'declined') this.byClient.set(lease.client, lease);
    }
    this.version++;
    return skipped;
  }
}
