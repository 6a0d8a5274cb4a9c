import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../chunk/digest.js';
import { concatBytes, utf8Encode } from '../wire.js';
import { MANIFEST_ERROR_CODES } from './errors.js';
import type { ManifestKeyPair, SigningKey } from './keys.js';
import {
  decodeBase64url,
  encodeBase64url,
  exportPrivateKeyPem,
  exportPrivateKeyPkcs8,
  exportPublicKeyRaw,
  generateManifestKeyPair,
  importPrivateKeyPkcs8,
  importPublicKeyRaw,
  keyIdOf,
  signingKeyFromPkcs8,
} from './keys.js';
import { createManifest, encodeManifest, manifestDigest } from './manifest.js';
import type { SignedManifest } from './signed.js';
import {
  addSignature,
  decodeSignedManifest,
  encodeSignedManifest,
  openSignedManifest,
  signManifest,
  verifySignedManifest,
} from './signed.js';
import type { KeyState, TrustedKeyInput } from './trust.js';
import { createTrustStore } from './trust.js';

const manifest = createManifest({
  schemaVersion: 1,
  release: { name: 'lab-rack', version: '7', createdAt: '2026-11-20T08:00:00.000Z', architecture: 'aarch64' },
  kernelCmdline: 'console=ttyAMA0 root=/dev/ram0',
  layers: [
    {
      digest: 'a'.repeat(64),
      size: 1000,
      mediaType: 'application/vnd.bootpt.initramfs.cpio+gzip',
      chunkIndexDigest: 'b'.repeat(64),
    },
  ],
});

const [keyA, keyB, keyC, keyD] = Array.from({ length: 4 }, () => generateManifestKeyPair()) as [
  ManifestKeyPair,
  ManifestKeyPair,
  ManifestKeyPair,
  ManifestKeyPair,
];

const trusted = (
  key: ManifestKeyPair,
  state: KeyState,
  extra: Partial<TrustedKeyInput> = {},
): TrustedKeyInput => ({
  publicKey: key.publicKeyRaw,
  keyId: key.keyId,
  state,
  ...extra,
});

/** A, B active, C retired, D revoked. */
const trust = createTrustStore([
  trusted(keyA, 'active'),
  trusted(keyB, 'active'),
  trusted(keyC, 'retired'),
  trusted(keyD, 'revoked'),
]);

const codeOf = (r: { ok: true } | { ok: false; error: { code: string } }) => (r.ok ? 'ok' : r.error.code);

describe('manifest keys', () => {
  it('exports and imports raw public keys and derives short key ids', () => {
    expect(keyA.publicKeyRaw).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(decodeBase64url(keyA.publicKeyRaw)).toHaveLength(32);
    expect(keyA.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(keyA.keyId).toBe(sha256Hex(decodeBase64url(keyA.publicKeyRaw)!).slice(0, 16));
    expect(keyIdOf(keyA.publicKey)).toBe(keyA.keyId);
    expect(keyIdOf(keyA.privateKey)).toBe(keyA.keyId);
    const imported = importPublicKeyRaw(keyA.publicKeyRaw)!;
    expect(exportPublicKeyRaw(imported)).toBe(keyA.publicKeyRaw);
    expect(new Set([keyA, keyB, keyC, keyD].map((k) => k.keyId)).size).toBe(4);
  });

  it('refuses malformed raw public keys', () => {
    const raw = decodeBase64url(keyA.publicKeyRaw)!;
    expect(importPublicKeyRaw(encodeBase64url(raw.subarray(0, 31)))).toBeNull();
    expect(importPublicKeyRaw(encodeBase64url(concatBytes([raw, Uint8Array.of(0)])))).toBeNull();
    expect(importPublicKeyRaw(`${keyA.publicKeyRaw}=`)).toBeNull();
    expect(importPublicKeyRaw(keyA.publicKeyRaw.replace(/.$/, (c) => (c === 'B' ? 'C' : 'B')))).toBeNull();
    expect(importPublicKeyRaw('')).toBeNull();
    expect(importPublicKeyRaw('not base64 at all!')).toBeNull();
    expect(() => keyIdOf('short')).toThrow(TypeError);
  });

  it('round-trips PKCS#8 private keys (DER and PEM) into working signing keys', () => {
    const der = exportPrivateKeyPkcs8(keyA.privateKey);
    const pem = exportPrivateKeyPem(keyA.privateKey);
    expect(pem).toContain('BEGIN PRIVATE KEY');
    for (const stored of [der, pem]) {
      const key = signingKeyFromPkcs8(stored)!;
      expect(key.keyId).toBe(keyA.keyId);
      expect(codeOf(verifySignedManifest(signManifest(manifest, key), trust))).toBe('ok');
    }
    expect(importPrivateKeyPkcs8(der.subarray(1))).toBeNull();
    expect(
      importPrivateKeyPkcs8('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
    ).toBeNull();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(importPrivateKeyPkcs8(new Uint8Array(rsa.export({ format: 'der', type: 'pkcs8' })))).toBeNull();
    expect(() => exportPublicKeyRaw(rsa)).toThrow(TypeError);
  });
});

describe('trust store', () => {
  it('refuses bad configuration', () => {
    expect(() => createTrustStore([trusted(keyA, 'active', { keyId: keyB.keyId })])).toThrow(
      /does not match/,
    );
    expect(() => createTrustStore([trusted(keyA, 'active'), trusted(keyA, 'revoked')])).toThrow(/twice/);
    expect(() => createTrustStore([{ publicKey: 'abc', state: 'active' }])).toThrow(TypeError);
    expect(() => createTrustStore([{ publicKey: keyA.publicKeyRaw, state: 'dormant' as KeyState }])).toThrow(
      TypeError,
    );
  });

  it('derives key ids when they are not given', () => {
    const store = createTrustStore([{ publicKey: keyA.publicKeyRaw, state: 'active' }]);
    expect(store.get(keyA.keyId)?.state).toBe('active');
    expect(store.keys).toHaveLength(1);
  });
});

describe('signing and verification', () => {
  it('verifies a manifest signed by any one of several trusted keys', () => {
    for (const key of [keyA, keyB]) {
      const result = verifySignedManifest(signManifest(manifest, key), trust);
      expect(result).toEqual({
        ok: true,
        value: { manifest, digest: manifestDigest(manifest), keyIds: [key.keyId] },
      });
    }
    const both = verifySignedManifest(signManifest(manifest, [keyA, keyB]), trust, { minSignatures: 2 });
    expect(both.ok && [...both.value.keyIds].sort()).toEqual([keyA.keyId, keyB.keyId].sort());
  });

  it('signs the domain-separated canonical payload', () => {
    const signed = signManifest(manifest, keyA);
    expect(signed.payload).toEqual(encodeManifest(manifest));
    const message = concatBytes([utf8Encode('bootpt-manifest-v1\n'), signed.payload]);
    expect(signed.signatures[0]!.sig).toBe(
      encodeBase64url(new Uint8Array(sign(null, message, keyA.privateKey))),
    );
    // a signature over the bare payload (no context) is not accepted
    const bare = encodeBase64url(new Uint8Array(sign(null, signed.payload, keyA.privateKey)));
    const result = verifySignedManifest(
      { ...signed, signatures: [{ ...signed.signatures[0]!, sig: bare }] },
      trust,
    );
    expect(codeOf(result)).toBe('MANIFEST_BAD_SIGNATURE');
  });

  it('supports rotation: retired keys still verify, and co-signing carries a manifest across', () => {
    const byOld = signManifest(manifest, keyC);
    expect(verifySignedManifest(byOld, trust)).toMatchObject({ ok: true, value: { keyIds: [keyC.keyId] } });
    // retired at a known instant: only manifests created before then
    const retiredAfter = createTrustStore([trusted(keyC, 'retired', { retiredAt: '2026-11-21T00:00:00Z' })]);
    const retiredBefore = createTrustStore([trusted(keyC, 'retired', { retiredAt: '2026-11-19T00:00:00Z' })]);
    expect(codeOf(verifySignedManifest(byOld, retiredAfter))).toBe('ok');
    expect(codeOf(verifySignedManifest(byOld, retiredBefore))).toBe('MANIFEST_KEY_RETIRED');
    // co-signed by the old and the new key: verifies for verifiers that know either
    const coSigned = addSignature(byOld, keyA);
    expect(coSigned.signatures.map((s) => s.keyId)).toEqual([keyC.keyId, keyA.keyId]);
    expect(codeOf(verifySignedManifest(coSigned, createTrustStore([trusted(keyC, 'active')])))).toBe('ok');
    expect(codeOf(verifySignedManifest(coSigned, createTrustStore([trusted(keyA, 'active')])))).toBe('ok');
    // re-adding a key's signature replaces it rather than duplicating it
    expect(addSignature(coSigned, keyA).signatures).toHaveLength(2);
  });

  it('refuses manifests signed only by a revoked key, even if the signature is valid', () => {
    const byRevoked = signManifest(manifest, keyD);
    expect(codeOf(verifySignedManifest(byRevoked, trust))).toBe('MANIFEST_KEY_REVOKED');
    // ...but a second, good signature still carries the manifest, and only it counts
    const withGood = addSignature(byRevoked, keyB);
    expect(verifySignedManifest(withGood, trust)).toMatchObject({
      ok: true,
      value: { keyIds: [keyB.keyId] },
    });
    // revoking a key takes effect for manifests it already signed
    const afterRevocation = createTrustStore([trusted(keyA, 'revoked')]);
    expect(codeOf(verifySignedManifest(signManifest(manifest, keyA), afterRevocation))).toBe(
      'MANIFEST_KEY_REVOKED',
    );
  });

  it('refuses unknown keys, missing signatures, other algorithms and too few signers', () => {
    const stranger: SigningKey = generateManifestKeyPair();
    expect(codeOf(verifySignedManifest(signManifest(manifest, stranger), trust))).toBe(
      'MANIFEST_UNKNOWN_KEY',
    );
    const signed = signManifest(manifest, keyA);
    expect(codeOf(verifySignedManifest({ ...signed, signatures: [] }, trust))).toBe('MANIFEST_NO_SIGNATURES');
    const rsa = { ...signed.signatures[0]!, alg: 'rsa-pss' };
    expect(codeOf(verifySignedManifest({ ...signed, signatures: [rsa] }, trust))).toBe(
      'MANIFEST_UNSUPPORTED_ALG',
    );
    expect(codeOf(verifySignedManifest(signed, trust, { minSignatures: 2 }))).toBe(
      'MANIFEST_INSUFFICIENT_SIGNATURES',
    );
    // the same key twice counts once
    const twice = { ...signed, signatures: [signed.signatures[0]!, signed.signatures[0]!] };
    expect(codeOf(verifySignedManifest(twice, trust, { minSignatures: 2 }))).toBe(
      'MANIFEST_INSUFFICIENT_SIGNATURES',
    );
  });

  it('refuses a payload with any single byte changed', () => {
    const signed = signManifest(manifest, keyA);
    const codes = new Set<string>();
    for (let i = 0; i < signed.payload.length; i++) {
      const payload = signed.payload.slice();
      payload[i] = payload[i]! ^ 0x01;
      codes.add(codeOf(verifySignedManifest({ ...signed, payload }, trust)));
    }
    expect([...codes]).toEqual(['MANIFEST_BAD_SIGNATURE']);
  });

  it('refuses a signature with any single byte changed', () => {
    const signed = signManifest(manifest, keyA);
    const sig = decodeBase64url(signed.signatures[0]!.sig)!;
    const codes = new Set<string>();
    for (let i = 0; i < sig.length; i++) {
      const bad = sig.slice();
      bad[i] = bad[i]! ^ 0x80;
      const signature = { ...signed.signatures[0]!, sig: encodeBase64url(bad) };
      codes.add(codeOf(verifySignedManifest({ ...signed, signatures: [signature] }, trust)));
    }
    expect([...codes]).toEqual(['MANIFEST_BAD_SIGNATURE']);
    const truncated = { ...signed.signatures[0]!, sig: encodeBase64url(sig.subarray(0, 63)) };
    expect(codeOf(verifySignedManifest({ ...signed, signatures: [truncated] }, trust))).toBe(
      'MANIFEST_BAD_SIGNATURE',
    );
  });

  it('refuses a signature whose key id was swapped for another trusted key', () => {
    const signed = signManifest(manifest, keyA);
    const swapped = { ...signed.signatures[0]!, keyId: keyB.keyId };
    expect(codeOf(verifySignedManifest({ ...signed, signatures: [swapped] }, trust))).toBe(
      'MANIFEST_BAD_SIGNATURE',
    );
    const toRetired = { ...signed.signatures[0]!, keyId: keyC.keyId };
    expect(codeOf(verifySignedManifest({ ...signed, signatures: [toRetired] }, trust))).toBe(
      'MANIFEST_BAD_SIGNATURE',
    );
  });

  it('refuses a validly signed payload that is not a canonical manifest', () => {
    const sloppy = utf8Encode(JSON.stringify(manifest, null, 1));
    const sig = sign(null, concatBytes([utf8Encode('bootpt-manifest-v1\n'), sloppy]), keyA.privateKey);
    const signed: SignedManifest = {
      payload: sloppy,
      signatures: [{ keyId: keyA.keyId, alg: 'ed25519', sig: encodeBase64url(new Uint8Array(sig)) }],
    };
    expect(codeOf(verifySignedManifest(signed, trust))).toBe('MANIFEST_NOT_CANONICAL');
  });
});

describe('signed manifest envelope bytes', () => {
  const signed = signManifest(manifest, [keyA, keyC]);
  const bytes = encodeSignedManifest(signed);

  it('round-trips and has a deterministic layout', () => {
    const text = new TextDecoder().decode(bytes);
    expect(text).toMatch(
      /^\{"payload":"[A-Za-z0-9_-]+","payloadType":"application\/vnd\.bootpt\.manifest\.v1\+json","signatures":\[\{"alg":"ed25519","keyId":"[0-9a-f]{16}","sig":"[A-Za-z0-9_-]{86}"\},\{.*\}\]\}$/,
    );
    expect(decodeSignedManifest(bytes)).toEqual({ ok: true, value: signed });
    expect(encodeSignedManifest(signed)).toEqual(bytes);
    expect(openSignedManifest(bytes, trust)).toMatchObject({
      ok: true,
      value: { digest: manifestDigest(manifest), keyIds: [keyA.keyId, keyC.keyId] },
    });
  });

  it('reports structural problems with codes', () => {
    const enc = (v: unknown) => utf8Encode(JSON.stringify(v));
    const envelope = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    const cases: [Uint8Array, string][] = [
      [new Uint8Array(0), 'MANIFEST_MALFORMED'],
      [Uint8Array.of(0xff, 0xfe), 'MANIFEST_MALFORMED'],
      [enc([]), 'MANIFEST_MALFORMED'],
      [enc({ ...envelope, payloadType: 'text/plain' }), 'MANIFEST_MALFORMED'],
      [enc({ ...envelope, payload: 'a+b/' }), 'MANIFEST_MALFORMED'],
      [enc({ ...envelope, payload: `${envelope.payload as string}=` }), 'MANIFEST_MALFORMED'],
      [enc({ ...envelope, extra: 1 }), 'MANIFEST_MALFORMED'],
      [enc({ ...envelope, signatures: [{ keyId: 1, alg: 'ed25519', sig: '' }] }), 'MANIFEST_MALFORMED'],
      [
        enc({
          ...envelope,
          signatures: Array.from({ length: 17 }, () => (envelope.signatures as unknown[])[0]),
        }),
        'MANIFEST_MALFORMED',
      ],
      [new Uint8Array(2 * 1024 * 1024), 'MANIFEST_TOO_LARGE'],
    ];
    for (const [input, code] of cases) expect(codeOf(decodeSignedManifest(input))).toBe(code);
    expect(codeOf(decodeSignedManifest(bytes, 100))).toBe('MANIFEST_TOO_LARGE');
    expect(codeOf(openSignedManifest(enc({ ...envelope, signatures: [] }), trust))).toBe(
      'MANIFEST_NO_SIGNATURES',
    );
  });

  it('never throws on mutated envelopes and returns only listed codes (seeded)', () => {
    const known = new Set<string>(MANIFEST_ERROR_CODES);
    const problems: string[] = [];
    let x = 42;
    const rand = (n: number) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    let verified = 0;
    for (let i = 0; i < 3000; i++) {
      let input = bytes.slice();
      for (let e = 0, edits = 1 + rand(3); e < edits; e++) {
        const op = rand(3);
        if (op === 0) input[rand(input.length)] = rand(256);
        else if (op === 1) input = input.subarray(0, rand(input.length + 1));
        else input[rand(input.length)] = '{}[]",:0a\\'.charCodeAt(rand(10));
      }
      try {
        const result = openSignedManifest(input, trust);
        if (result.ok) {
          verified++;
          if (result.value.digest !== manifestDigest(manifest))
            problems.push(`${i}: verified a different payload`);
        } else if (!known.has(result.error.code)) problems.push(`${i}: ${result.error.code}`);
      } catch (err) {
        problems.push(`${i} threw ${String(err)}`);
      }
    }
    expect(problems).toEqual([]);
    // only mutations that leave the signed payload and one good signature intact can verify
    expect(verified).toBeLessThan(3000);
  });
});
