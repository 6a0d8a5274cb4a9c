import type { SocketOptions } from 'node:dgram';
import { lookup } from 'node:dns';
import { isIPv4 } from 'node:net';

/**
 * A dgram socket's `lookup` for sockets that only ever send to literal IPv4 addresses (DHCP clients,
 * relays and broadcasts; TFTP clients and multicast groups). dgram passes every destination through
 * `lookup` (default `dns.lookup`), which answers even an IP literal on the next tick, so each datagram
 * would leave the current callback and come back through process.nextTick before reaching the kernel.
 * Literals are answered at once and the datagram is handed to the kernel inside the callback that sent
 * it; anything else still goes to `dns.lookup`.
 */
export const literalLookup: NonNullable<SocketOptions['lookup']> = (hostname, options, callback) => {
  if (isIPv4(hostname)) callback(null, hostname, 4);
  else lookup(hostname, options, callback);
};
