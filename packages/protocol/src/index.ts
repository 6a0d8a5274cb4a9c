/**
 * @bootpt/protocol: everything both ends of BOOTP Turbo must agree on. Pure: no sockets, files, timers
 * or logging. Each area is also importable on its own (`@bootpt/protocol/dhcp/index`, ...).
 */
export * from './wire.js';
export * from './dhcp/index.js';
export * from './tftp/index.js';
export * from './turbo/index.js';
export * from './manifest/index.js';
export * from './chunk/index.js';
export * from './pcap/index.js';
