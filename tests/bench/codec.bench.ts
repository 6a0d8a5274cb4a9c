/**
 * Benchmark `codec`: wire codec throughput and content-defined chunking speed, each side by side with a
 * peer in the same process:
 * - DHCP discover decode+encode vs the `dhcp` npm package's parser/formatter (a pure-JS DHCP server);
 * - TFTP DATA (1468-byte block) decode+encode; no maintained JS TFTP codec exists on npm to compare;
 * - FastCDC boundary detection (and with SHA-256 per chunk) vs `@dstanesc/wasm-chunking-fastcdc-node`
 *   (the Rust `fastcdc` crate compiled to WebAssembly) at the same 16/64/256 KiB parameters.
 */
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  chunkLengths,
  decodeBootp,
  decodePcap,
  decodeTftp,
  encodeBootp,
  encodeTftp,
  indexLayer,
} from '@bootpt/protocol';
import { result, type BenchResult } from './lib.js';

const require = createRequire(import.meta.url);

interface DhcpJsProtocol {
  parse(buf: Buffer): unknown;
  format(data: unknown): { _data: Buffer; getBuffer?: () => Buffer } | Buffer;
}
interface WasmFastCdc {
  compute_chunks(source: Uint8Array, min: number, avg: number, max: number): Uint32Array;
}

/** Runs `fn` repeatedly for about `ms` milliseconds (after a warm-up) and returns operations per second. */
function rate(fn: () => void, ms: number): number {
  const warm = performance.now() + ms / 5;
  while (performance.now() < warm) fn();
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 256; i++) fn();
    ops += 256;
    now = performance.now();
  }
  return ops / ((now - start) / 1000);
}

/** Median of `runs` timings of `fn` over `bytes`, as MB/s. */
function mbps(fn: () => void, bytes: number, runs: number): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return bytes / 1e6 / (times[Math.floor(times.length / 2)]! / 1000);
}

export default async function codec({ quick }: { quick: boolean }): Promise<BenchResult[]> {
  const ms = quick ? 300 : 1500;
  const out: BenchResult[] = [];

  // DHCP discover: busybox udhcpc's real DISCOVER from the golden fixtures (options both codecs know, so
  // the peer does not log about unknown PXE options inside the timed loop).
  const capture = decodePcap(
    readFileSync(new URL('../../packages/protocol/fixtures/dhcp-udhcpc-dnsmasq.pcap', import.meta.url)),
  );
  if (!capture.ok) throw new Error(capture.error.code);
  const discover = capture.value.udp.find((r) => r.dstPort === 67)!.payload;
  const ours = rate(() => {
    const d = decodeBootp(discover);
    if (!d.ok) throw new Error(d.error.code);
    encodeBootp(d.value);
  }, ms);
  const dhcpjs = require('dhcp/lib/protocol.js') as DhcpJsProtocol;
  const buf = Buffer.from(discover);
  const peer = rate(() => {
    dhcpjs.format(dhcpjs.parse(buf));
  }, ms);
  out.push(
    result('codec', 'dhcp discover decode+encode', Math.round(ours), 'packets/s', 'higher', {
      'dhcp (npm)': Math.round(peer),
    }),
  );

  // TFTP DATA with a 1468-byte block.
  const data = encodeTftp({ opcode: 'DATA', block: 4242, data: randomBytes(1468) });
  const target = new Uint8Array(data.length);
  const tftp = rate(() => {
    const d = decodeTftp(data);
    if (!d.ok) throw new Error(d.error.code);
    encodeTftp(d.value, target);
  }, ms);
  out.push(
    result(
      'codec',
      'tftp DATA(1468) decode+encode',
      Math.round(tftp),
      'packets/s',
      'higher',
      {},
      'no JS TFTP codec on npm to compare',
    ),
  );

  // Content-defined chunking on incompressible data.
  const size = (quick ? 16 : 64) * 1024 * 1024;
  const blob = randomBytes(size);
  const runs = quick ? 3 : 5;
  const wasm = require('@dstanesc/wasm-chunking-fastcdc-node') as WasmFastCdc;
  const oursCdc = mbps(() => chunkLengths(blob), size, runs);
  const wasmCdc = mbps(() => wasm.compute_chunks(blob, 16384, 65536, 262144), size, runs);
  out.push(
    result('codec', 'cdc boundaries', Number(oursCdc.toFixed(1)), 'MB/s', 'higher', {
      'fastcdc (rust/wasm)': Number(wasmCdc.toFixed(1)),
    }),
  );
  const oursIndex = mbps(() => indexLayer(blob), size, runs);
  out.push(
    result(
      'codec',
      'cdc boundaries + sha256 per chunk + layer digest',
      Number(oursIndex.toFixed(1)),
      'MB/s',
      'higher',
    ),
  );
  return out;
}
