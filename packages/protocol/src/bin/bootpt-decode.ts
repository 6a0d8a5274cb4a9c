#!/usr/bin/env node
/**
 * bootpt-decode: prints one JSON object per BOOTP/DHCP or TFTP packet of a pcap file or a hex string.
 *
 *   bootpt-decode capture.pcap          classic pcap (Ethernet, Linux cooked SLL/SLL2; IPv4/UDP)
 *   bootpt-decode --hex 0101060012...   one packet; --proto bootp|tftp overrides the guess
 *   bootpt-decode -                     pcap or hex text on standard input
 *
 * Malformed packets print {"error":{"code","offset"}} and decoding continues. Exit status: 0 when the
 * input could be read (even if packets were malformed), 2 for bad arguments, 1 for an unreadable file.
 * This file is the package's only I/O edge; the decoding logic lives in src/decode/.
 */
import { readFileSync } from 'node:fs';
import { decodePcap } from '../pcap/index.js';
import { ConversationTracker, decodeHexString } from '../decode/decode.js';

const USAGE = 'usage: bootpt-decode FILE.pcap | --hex HEX [--proto bootp|tftp] | - (stdin)';

function print(record: unknown): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

function decodeInput(bytes: Uint8Array, proto: 'bootp' | 'tftp' | undefined): number {
  const magic =
    bytes.length >= 4 ? ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0 : 0;
  const isPcap = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(magic);
  if (!isPcap) {
    for (const line of Buffer.from(bytes).toString('utf8').split('\n')) {
      if (line.trim()) print(decodeHexString(line.trim(), proto));
    }
    return 0;
  }
  const capture = decodePcap(bytes);
  if (!capture.ok) {
    print({
      error: { code: capture.error.code, offset: capture.error.offset, message: capture.error.message },
    });
    return 0;
  }
  const tracker = new ConversationTracker();
  for (const rec of capture.value.udp) {
    const out = tracker.decode(rec);
    if (out)
      print({
        frame: rec.frame,
        ts: rec.ts,
        src: `${rec.src}:${rec.srcPort}`,
        dst: `${rec.dst}:${rec.dstPort}`,
        ...out,
      });
  }
  if (capture.value.truncated) {
    const t = capture.value.truncated;
    print({ error: { code: t.code, offset: t.offset, message: t.message } });
  }
  return 0;
}

function main(argv: string[]): number {
  let hex: string | undefined;
  let proto: 'bootp' | 'tftp' | undefined;
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--hex') hex = argv[++i];
    else if (a === '--proto') {
      const p = argv[++i];
      if (p !== 'bootp' && p !== 'tftp') {
        console.error(`bootpt-decode: --proto must be bootp or tftp\n${USAGE}`);
        return 2;
      }
      proto = p;
    } else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      return 0;
    } else if (file === undefined) file = a;
    else {
      console.error(`bootpt-decode: unexpected argument ${a}\n${USAGE}`);
      return 2;
    }
  }
  if (hex !== undefined) {
    print(decodeHexString(hex, proto));
    return 0;
  }
  if (file === undefined) {
    console.error(USAGE);
    return 2;
  }
  let bytes: Uint8Array;
  try {
    bytes = file === '-' ? readFileSync(0) : readFileSync(file);
  } catch (err) {
    console.error(`bootpt-decode: cannot read ${file}: ${(err as Error).message}`);
    return 1;
  }
  return decodeInput(bytes, proto);
}

process.exitCode = main(process.argv.slice(2));
