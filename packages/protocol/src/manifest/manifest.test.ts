import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../chunk/digest.js';
import { utf8Encode } from '../wire.js';
import { createManifest, decodeManifest, encodeManifest, manifestDigest } from './manifest.js';
import type { ManifestInput } from './schema.js';

const sampleManifest: ManifestInput = {
  schemaVersion: 1,
  release: {
    name: 'kiosk-base',
    version: '2026.11.1',
    createdAt: '2026-11-23T19:00:00Z',
    architecture: 'x86_64',
  },
  kernelCmdline: 'console=ttyS0,115200 quiet',
  layers: [
    {
      digest: '1'.repeat(64),
      size: 12_345_678,
      mediaType: 'application/vnd.bootpt.kernel',
      chunkIndexDigest: '2'.repeat(64),
    },
    {
      digest: '3'.repeat(64),
      size: 40_000_000,
      mediaType: 'application/vnd.bootpt.initramfs.cpio+zstd',
      chunkIndexDigest: '4'.repeat(64),
    },
  ],
  annotations: { 'org.bootpt.source': 'git:abc123', 'org.bootpt.note': 'café ☕' },
};

describe('manifest schema and canonical form', () => {
  it('serializes to a golden canonical form and digest', () => {
    const manifest = createManifest(sampleManifest);
    const text = new TextDecoder().decode(encodeManifest(manifest));
    expect(text).toBe(
      '{"annotations":{"org.bootpt.note":"café ☕","org.bootpt.source":"git:abc123"},' +
        '"kernelCmdline":"console=ttyS0,115200 quiet",' +
        `"layers":[{"chunkIndexDigest":"${'2'.repeat(64)}","digest":"${'1'.repeat(64)}","mediaType":"application/vnd.bootpt.kernel","size":12345678},` +
        `{"chunkIndexDigest":"${'4'.repeat(64)}","digest":"${'3'.repeat(64)}","mediaType":"application/vnd.bootpt.initramfs.cpio+zstd","size":40000000}],` +
        '"release":{"architecture":"x86_64","createdAt":"2026-11-23T19:00:00Z","name":"kiosk-base","version":"2026.11.1"},' +
        '"schemaVersion":1}',
    );
    expect(manifestDigest(manifest)).toBe(sha256Hex(utf8Encode(text)));
    expect(manifestDigest(manifest)).toBe('3683f6bd1fab73fa82943d53391cc131ae8bcadbd22304949683c818bb31f8f2');
  });

  it('omits absent optional fields instead of writing undefined', () => {
    const { annotations: _drop, ...rest } = sampleManifest;
    const manifest = createManifest({ ...rest, annotations: undefined });
    expect('annotations' in manifest).toBe(false);
    expect(decodeManifest(encodeManifest(manifest))).toEqual({ ok: true, value: manifest });
  });

  it('round-trips through decodeManifest', () => {
    const manifest = createManifest(sampleManifest);
    expect(decodeManifest(encodeManifest(manifest))).toEqual({ ok: true, value: manifest });
  });

  it.each<[string, (m: ManifestInput) => unknown]>([
    ['upper-case digest', (m) => ({ ...m, layers: [{ ...m.layers[0], digest: 'A'.repeat(64) }] })],
    [
      'short chunk index digest',
      (m) => ({ ...m, layers: [{ ...m.layers[0], chunkIndexDigest: 'a'.repeat(63) }] }),
    ],
    ['fractional size', (m) => ({ ...m, layers: [{ ...m.layers[0], size: 1.5 }] })],
    ['negative size', (m) => ({ ...m, layers: [{ ...m.layers[0], size: -1 }] })],
    [
      'unknown media type',
      (m) => ({ ...m, layers: [{ ...m.layers[0], mediaType: 'application/octet-stream' }] }),
    ],
    ['no layers', (m) => ({ ...m, layers: [] })],
    ['unknown field', (m) => ({ ...m, extra: true })],
    ['unknown layer field', (m) => ({ ...m, layers: [{ ...m.layers[0], url: 'http://x' }] })],
    ['local time', (m) => ({ ...m, release: { ...m.release, createdAt: '2026-11-23T19:00:00' } })],
    ['unknown architecture', (m) => ({ ...m, release: { ...m.release, architecture: 'vax' } })],
    ['bad release name', (m) => ({ ...m, release: { ...m.release, name: '../etc' } })],
    ['control character in cmdline', (m) => ({ ...m, kernelCmdline: 'quiet\nroot=/dev/sda' })],
    ['control character in an annotation key', (m) => ({ ...m, annotations: { 'a\u0000b': 'x' } })],
    ['an annotation that is not a string', (m) => ({ ...m, annotations: { a: 1 } })],
  ])('rejects %s', (_name, change) => {
    expect(() => createManifest(change(sampleManifest) as ManifestInput)).toThrow();
  });
});

describe('decodeManifest on untrusted bytes', () => {
  const canonical = encodeManifest(createManifest(sampleManifest));
  const text = new TextDecoder().decode(canonical);
  const codeOf = (bytes: Uint8Array) => {
    const r = decodeManifest(bytes);
    return r.ok ? 'ok' : r.error.code;
  };

  it('refuses bytes that are not the canonical form', () => {
    expect(codeOf(utf8Encode(JSON.stringify(JSON.parse(text), null, 2)))).toBe('MANIFEST_NOT_CANONICAL');
    expect(codeOf(utf8Encode(`${text} `))).toBe('MANIFEST_NOT_CANONICAL');
    expect(codeOf(utf8Encode(text.replace('"size":12345678', '"size":1.2345678e7')))).toBe(
      'MANIFEST_NOT_CANONICAL',
    );
    expect(codeOf(utf8Encode(text.replace('café', 'caf\\u00e9')))).toBe('MANIFEST_NOT_CANONICAL');
  });

  it('refuses other schema versions with their own code', () => {
    expect(codeOf(utf8Encode(text.replace('"schemaVersion":1', '"schemaVersion":2')))).toBe(
      'MANIFEST_UNSUPPORTED_SCHEMA',
    );
  });

  it('refuses invalid UTF-8, non-JSON and schema violations', () => {
    expect(codeOf(Uint8Array.of(0x7b, 0xff, 0x7d))).toBe('MANIFEST_MALFORMED');
    expect(codeOf(utf8Encode('{"a":'))).toBe('MANIFEST_MALFORMED');
    expect(codeOf(utf8Encode('[]'))).toBe('MANIFEST_MALFORMED');
    expect(codeOf(utf8Encode('null'))).toBe('MANIFEST_MALFORMED');
    expect(codeOf(utf8Encode(text.replace('"size":12345678', '"size":-1')))).toBe('MANIFEST_MALFORMED');
    expect(codeOf(utf8Encode(text.replace('"schemaVersion":1', '"schemaVersion":1,"x":1')))).toBe(
      'MANIFEST_MALFORMED',
    );
    expect(codeOf(new Uint8Array(0))).toBe('MANIFEST_MALFORMED');
  });
});
