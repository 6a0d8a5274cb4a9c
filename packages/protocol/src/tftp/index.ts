/** Public TFTP API: codec, options, negotiation, netascii, state machines and JSON rendering. */
export {
  TFTP_DECODE_ERROR_CODES,
  TFTP_DEFAULT_BLKSIZE,
  TFTP_ERROR_CODES,
  TFTP_MAX_BLKSIZE,
  TFTP_MIN_BLKSIZE,
  TFTP_MULTICAST_PORT,
  TFTP_OPCODES,
  TFTP_PORT,
  TFTP_SBROADCAST_PORT,
  TftpEncodeError,
  decodeTftp,
  encodeTftp,
  encodingLength,
} from './packet.js';
export type {
  TftpAckPacket,
  TftpBdataPacket,
  TftpDataPacket,
  TftpDecodeErrorCode,
  TftpDecodeOptions,
  TftpErrorPacket,
  TftpOackPacket,
  TftpOpcodeName,
  TftpOption,
  TftpPacket,
  TftpRequestPacket,
} from './packet.js';
export {
  TFTP_OPTION_NAMES,
  formatMulticastValue,
  formatSbroadcastValue,
  getTftpOption,
  parseMulticastValue,
  parseSbroadcastValue,
  parseSubnetMask,
} from './options.js';
export type { MulticastValue, SbroadcastValue, TftpKnownOptionName } from './options.js';
export { negotiateOptions } from './negotiate.js';
export type { NegotiatedParams, NegotiationResult, TftpServerPolicy } from './negotiate.js';
export { createNetasciiDecoder, createNetasciiEncoder, netasciiDecode, netasciiEncode } from './netascii.js';
export type { NetasciiCodec } from './netascii.js';
export { TFTP_DEFAULT_RETRY } from './machine.js';
export type { RetryPolicy, TftpEffect, TftpOutcome, TftpStep } from './machine.js';
export { createServerRead, serverReadStep } from './server-read.js';
export type { ServerReadConfig, ServerReadEvent, ServerReadState } from './server-read.js';
export { createServerWrite, serverWriteStep } from './server-write.js';
export type { ServerWriteConfig, ServerWriteEvent, ServerWriteState } from './server-write.js';
export { abortClientRead, clientReadStep, createClientRead } from './client-read.js';
export type { ClientReadConfig, ClientReadEvent, ClientReadState, GroupReception } from './client-read.js';
export { createGroup, groupStep } from './group.js';
export type { GroupConfig, GroupDelivery, GroupEvent, GroupMember, GroupState } from './group.js';
export { renderTftpJson, tftpToJson } from './render.js';
export type { TftpJson } from './render.js';
