/**
 * BOOTP/DHCP/PXE codec (RFC 951, 1542, 2131, 2132, 3396, 3046, 4578; PXE 2.1; iPXE option 175).
 *
 * - `decodeBootpView(bytes)` accepts and refuses what `decodeBootp` does but returns a read-only view for
 *   servers (numeric addresses, options concatenated per code, views into the input): no copy, no strings.
 * - `decodeBootp(bytes)` never throws; errors carry a `DhcpErrorCode` and the byte offset.
 *   `encodeBootp(packet, { minLength })` and `bootpEncodingLength` throw `DhcpEncodeError` only for
 *   packets that cannot exist on the wire.
 * - Byte-exact: for every input that decodes, `encodeBootp(decodeBootp(bytes).value)` equals `bytes`
 *   (pads, RFC 3396 split points, overload placement, missing End, bytes after End and padding are all
 *   part of `BootpPacket`), so captures from real clients can be golden-tested.
 * - Options are raw instances in parse order; `getDhcpOption` concatenates them (RFC 3396), typed
 *   getters and `dhcpOptionCodecs` read and write values, `setDhcpOption` keeps option 82 last.
 * - Reply sizes: every reply should be encoded with `{ minLength: BOOTP_MIN_LENGTH }` (300), which BOOTP
 *   clients require and DHCP clients accept; replies are not padded to the 548-octet (312-octet options
 *   field) size, which RFC 2131 §2 sets as what a client must be able to *receive*, not a size to send.
 *   `maxDhcpReplyLength(request)` gives the ceiling (300 for BOOTP, option 57 or 548 for DHCP) and
 *   `fitDhcpOptions` overloads `file`/`sname` only when a reply would not fit otherwise.
 * - Public names carry a `bootp`/`dhcp`/`pxe`/`ipxe` prefix so they can sit next to the other codecs in
 *   the package index.
 */
export * from './types.js';
export * from './codes.js';
export * from './packet.js';
export * from './options.js';
export * from './registry.js';
export * from './suboptions.js';
export * from './json.js';
export * from './reply.js';
export * from './chaddr.js';
export * from './view.js';
