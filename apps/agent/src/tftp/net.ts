/** Small IPv4 helpers for the TFTP service: quirk matching, subnet broadcast, multicast address pool. */

export function ipv4ToInt(address: string): number {
  const parts = address.split('.').map(Number);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function intToIpv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Subnet-directed broadcast address of `address` under `mask` (e.g. 10.1.2.3/255.255.255.0 → 10.1.2.255). */
export function subnetBroadcast(address: string, mask: string): string {
  const m = ipv4ToInt(mask);
  return intToIpv4(((ipv4ToInt(address) & m) | (~m >>> 0)) >>> 0);
}

export function inCidr(address: string, cidr: string): boolean {
  const [base, lenText] = cidr.split('/');
  const len = Number(lenText);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return (ipv4ToInt(address) & mask) >>> 0 === (ipv4ToInt(base!) & mask) >>> 0;
}

/** The first quirk whose CIDR contains the client, if any. */
export function quirkFor<Q extends { cidr: string }>(quirks: readonly Q[], address: string): Q | undefined {
  return quirks.find((q) => inCidr(address, q.cidr));
}

/** Hands out addresses from [first, last], lowest free first; `give` returns one. */
export class AddressPool {
  private readonly first: number;
  private readonly last: number;
  private readonly used = new Set<number>();

  constructor(first: string, last: string) {
    this.first = ipv4ToInt(first);
    this.last = ipv4ToInt(last);
  }

  take(): string | null {
    for (let n = this.first; n <= this.last; n++) {
      if (!this.used.has(n)) {
        this.used.add(n);
        return intToIpv4(n);
      }
    }
    return null;
  }

  give(address: string): void {
    this.used.delete(ipv4ToInt(address));
  }
}
