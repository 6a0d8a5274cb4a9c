export { PCAP_DECODE_ERROR_CODES, PCAP_LINKTYPE, isSupportedLinkType } from './codes.js';
export type { PcapDecodeErrorCode, PcapLinkType } from './codes.js';
export { decodeFrame } from './frame.js';
export type { FrameResult, UdpDatagram } from './frame.js';
export { decodePcap, decodePcapHeader } from './reader.js';
export type { PcapCapture, PcapDecodeError, PcapHeader, PcapResult, PcapSkip, UdpRecord } from './reader.js';
export { encodeIPv4Udp, encodeLinkFrame, encodePcap } from './writer.js';
export type { PcapWriteOptions, PcapWriteRecord, UdpFrameSpec } from './writer.js';
