import type { Subnet } from '../backend/site.js';
import type { LeaseTable } from './lease-table.js';

/**
 * Picks a dynamic-pool address for a client (RFC 2131 §4.3.1 order): its current or previous binding,
 * then the address it asked for (option 50), then the next free one after a rotating cursor. Never an
 * address reserved for a host, held by another client, or outside the pool. Work is bounded by the
 * pool size (at most 65536, enforced by the site schema).
 */
export interface AllocateInput {
  readonly subnet: Subnet;
  readonly client: string;
  readonly requested?: number | undefined;
  readonly table: LeaseTable;
  readonly isReserved: (ip: number) => boolean;
  /** Addresses that are never handed out (the agent's own address, routers). */
  readonly excluded: ReadonlySet<number>;
  readonly now: number;
}

export class PoolAllocator {
  private readonly cursors = new Map<string, number>();

  allocate(input: AllocateInput): number | undefined {
    const { subnet, client, requested, table, now } = input;
    if (subnet.poolStart === undefined || subnet.poolEnd === undefined) return undefined;
    const start = subnet.poolStart;
    const end = subnet.poolEnd;
    const usable = (ip: number) =>
      ip >= start &&
      ip <= end &&
      !input.isReserved(ip) &&
      !input.excluded.has(ip) &&
      table.isFreeFor(ip, client, now);

    const previous = table.ofClient(client);
    if (previous && previous.subnet === subnet.id && usable(previous.ip)) return previous.ip;
    if (requested !== undefined && usable(requested)) return requested;

    const size = end - start + 1;
    let at = this.cursors.get(subnet.id) ?? start;
    if (at < start || at > end) at = start;
    for (let i = 0; i < size; i++) {
      const ip = start + ((at - start + i) % size);
      if (usable(ip)) {
        this.cursors.set(subnet.id, ip === end ? start : ip + 1);
        return ip;
      }
    }
    return undefined;
  }
}
