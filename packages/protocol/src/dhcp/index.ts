/** BOOTP/DHCP/PXE codec: packet model, encoder/decoder, options, registries, JSON rendering, replies. */
export * from './types.js';
export * from './codes.js';
export * from './packet.js';
export * from './options.js';
export * from './registry.js';
export * from './suboptions.js';
export * from './json.js';
export * from './reply.js';
export * from './chaddr.js';
