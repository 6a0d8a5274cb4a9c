/**
 * JSON rendering of a decoded TFTP packet for `bootpt-decode` and logs. Field order is fixed:
 * `{"proto":"tftp","opcode",…}` then `filename`, `mode`, `options`, `block`, `dataLength`, `errorCode`,
 * `errorMessage`, each present only where the packet type has it (BDATA adds `sbid` after `block`).
 * Options render as an object name → value; a repeated option keeps its first value.
 */
import type { TftpOption, TftpPacket } from './packet.js';

export interface TftpJson {
  readonly proto: 'tftp';
  readonly opcode: TftpPacket['opcode'];
  readonly filename?: string;
  readonly mode?: string;
  readonly options?: Readonly<Record<string, string>>;
  readonly block?: number;
  readonly sbid?: number;
  readonly dataLength?: number;
  readonly errorCode?: number;
  readonly errorMessage?: string;
}

function optionsObject(options: readonly TftpOption[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const o of options) if (!(o.name in out)) out[o.name] = o.value;
  return { ...out };
}

export function tftpToJson(packet: TftpPacket): TftpJson {
  switch (packet.opcode) {
    case 'RRQ':
    case 'WRQ':
      return {
        proto: 'tftp',
        opcode: packet.opcode,
        filename: packet.filename,
        mode: packet.mode,
        options: optionsObject(packet.options),
      };
    case 'OACK':
      return { proto: 'tftp', opcode: packet.opcode, options: optionsObject(packet.options) };
    case 'DATA':
      return { proto: 'tftp', opcode: packet.opcode, block: packet.block, dataLength: packet.data.length };
    case 'BDATA':
      return {
        proto: 'tftp',
        opcode: packet.opcode,
        block: packet.block,
        sbid: packet.sbid,
        dataLength: packet.data.length,
      };
    case 'ACK':
      return { proto: 'tftp', opcode: packet.opcode, block: packet.block };
    case 'ERROR':
      return {
        proto: 'tftp',
        opcode: packet.opcode,
        errorCode: packet.errorCode,
        errorMessage: packet.errorMessage,
      };
  }
}

/** One line of JSON (no trailing newline). */
export function renderTftpJson(packet: TftpPacket): string {
  return JSON.stringify(tftpToJson(packet));
}
