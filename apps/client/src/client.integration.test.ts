import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releasePair, type Release } from '../../../tests/images/releases.js';
import { BootClient, type BootResult } from './client.js';
import type { ClientConfig } from './config.js';
import { ClientError } from './errors.js';
import { buildClientBundle, buildClientExecutable, clientArgv, startLab, type Lab } from './testing/lab.js';

/**
 * The boot pipeline end to end over loopback: two realistic releases (Debian initramfs images, about
 * 105 MB each) published and synced into an in-process agent; a client boots the first, updates to the
 * second moving only changed chunks, boots again from a warm cache moving nothing; tampered chunks and
 * manifests are refused; a damaged cache is repaired, never booted.
 */

const log = pino({ level: 'silent' });
let lab: Lab;
let pair: { first: Release; second: Release };

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

async function boot(config: ClientConfig): Promise<BootResult> {
  return new BootClient(config, log).run();
}

async function bootError(config: ClientConfig): Promise<ClientError> {
  try {
    await boot(config);
  } catch (err) {
    if (err instanceof ClientError) return err;
    throw err;
  }
  throw new Error('boot succeeded but should have been refused');
}

beforeAll(async () => {
  pair = await releasePair();
  lab = await startLab({ releases: [pair.first, pair.second] });
}, 300_000);

afterAll(async () => {
  await lab?.close();
});

describe('bootpt-client against a loopback agent', () => {
  it('boots release 1 cold, updates to release 2 moving only changed chunks, then boots warm with no image bytes', async () => {
    const [r1, r2] = lab.releases as [(typeof lab.releases)[0], (typeof lab.releases)[0]];
    const config = lab.clientConfig();

    const cold = await boot(config);
    expect(cold.decision).toBe('update');
    expect(cold.verdict).toBe('unknown');
    expect(cold.manifestDigest).toBe(r1.digest);
    expect(sha(await readFile(join(config.outputDir, 'initramfs')))).toBe(sha(pair.first.initramfs));
    expect(cold.bytes.chunks).toBeGreaterThan(0.9 * pair.first.initramfs.length);

    await lab.assign(r2.digest);
    const update = await boot(config);
    expect(update.verdict).toBe('stale');
    expect(update.decision).toBe('update');
    expect(update.manifestDigest).toBe(r2.digest);
    expect(sha(await readFile(join(config.outputDir, 'initramfs')))).toBe(sha(pair.second.initramfs));
    const image = pair.second.initramfs.length;
    // Only changed chunks move: a third of the image or less raw, and brotli on the wire shrinks it further.
    expect(update.bytes.chunks).toBeLessThan(0.4 * image);
    expect(update.bytes.wire).toBeLessThan(0.1 * image); // the static delta: one brotli stream
    console.log(
      `update ${pair.first.version} -> ${pair.second.version}: image ${image} B, chunks ${update.bytes.chunks} B ` +
        `(${((100 * update.bytes.chunks) / image).toFixed(1)}%), on the wire ${update.bytes.wire} B ` +
        `(${((100 * update.bytes.wire) / image).toFixed(1)}%), ${update.chunks.fetched}/${update.chunks.total} chunks, ${update.totalMs} ms`,
    );

    const warm = await boot(config);
    expect(warm.verdict).toBe('valid');
    expect(warm.decision).toBe('cache');
    expect(warm.bytes.wire).toBe(0);
    expect(warm.bytes.chunks).toBe(0);
    expect(warm.warmDecisionMs).not.toBeNull();
    expect(sha(await readFile(join(config.outputDir, 'initramfs')))).toBe(sha(pair.second.initramfs));
    expect(warm.timeline.map((p) => p.phase)).toEqual(['discover', 'offer', 'manifest', 'verify', 'boot']);

    // Every boot reported its timeline and bytes to the agent (logged and buffered as boot events).
    const reports = lab.logs().filter((l) => l.msg === 'client report');
    expect(reports.map((r) => r.decision)).toEqual(['update', 'update', 'cache']);
    expect((reports[2]!.bytes as { wire: number }).wire).toBe(0);
    expect(warm.reported).toBe(true);
  });

  it('boots warm as a process from the single-file bundle an initramfs carries (dist/bootpt-client.mjs)', async () => {
    const config = lab.clientConfig({ logLevel: 'warn' });
    const bundle = join(await mkdtemp(join(tmpdir(), 'bpt-bundle-')), 'bootpt-client.mjs');
    buildClientBundle(bundle);
    const args = [bundle, ...clientArgv(config)];
    const codeDir = join(config.cacheDir, 'code');
    await rm(codeDir, { recursive: true, force: true });
    // Twice: the first run leaves its V8 code cache in the cache directory, the second starts from it
    // (V8 took it: a refused or damaged one would be written again).
    const written: number[] = [];
    for (let i = 0; i < 2; i++) {
      // Run from an empty directory: the bundle must not need node_modules or the workspace.
      const run = spawnSync(process.execPath, args, {
        cwd: dirname(bundle),
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout) as BootResult;
      expect(result.verdict).toBe('valid');
      expect(result.decision).toBe('cache');
      expect(result.bytes.wire).toBe(0);
      expect(sha(await readFile(join(config.outputDir, 'initramfs')))).toBe(sha(pair.second.initramfs));
      const files = (await readdir(codeDir)).filter((n) => n.endsWith('.v8'));
      expect(files).toHaveLength(1);
      written.push((await stat(join(codeDir, files[0]!))).mtimeMs);
    }
    expect(written[1]).toBe(written[0]);
    await rm(dirname(bundle), { recursive: true, force: true });
  });

  it('boots cold, updates and boots warm as the executable started from a snapshot (dist/bootpt-client)', async () => {
    const [r1, r2] = lab.releases as [(typeof lab.releases)[0], (typeof lab.releases)[0]];
    const config = lab.clientConfig({
      logLevel: 'warn',
      cacheDir: join(lab.dir, 'cache-exe'),
      outputDir: join(lab.dir, 'out-exe'),
    });
    const exe = join(await mkdtemp(join(tmpdir(), 'bpt-exe-')), 'bootpt-client');
    buildClientExecutable(exe);
    // From an empty directory, like the bundle: the executable needs nothing but itself.
    const run = async (): Promise<BootResult> => {
      const child = spawnSync(exe, clientArgv(config), {
        cwd: dirname(exe),
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(child.status, child.stderr).toBe(0);
      return JSON.parse(child.stdout) as BootResult;
    };
    const output = async () => sha(await readFile(join(config.outputDir, 'initramfs')));
    try {
      await lab.assign(r1.digest);
      const cold = await run();
      expect([cold.verdict, cold.decision, cold.manifestDigest]).toEqual(['unknown', 'update', r1.digest]);
      expect(await output()).toBe(sha(pair.first.initramfs));

      // The update runs the delta decoders and the chunk checker (worker threads) inside the executable.
      await lab.assign(r2.digest);
      const update = await run();
      expect([update.verdict, update.decision, update.manifestDigest]).toEqual([
        'stale',
        'update',
        r2.digest,
      ]);
      expect(update.bytes.wire).toBeLessThan(0.1 * pair.second.initramfs.length);
      expect(await output()).toBe(sha(pair.second.initramfs));

      const warm = await run();
      expect([warm.verdict, warm.decision, warm.bytes.wire]).toEqual(['valid', 'cache', 0]);
      expect(await output()).toBe(sha(pair.second.initramfs));
    } finally {
      await lab.assign(r2.digest);
      await rm(dirname(exe), { recursive: true, force: true });
    }
  });

  it('repairs a corrupt or truncated cache before booting (never boots it)', async () => {
    const config = lab.clientConfig();
    const cache = config.cacheDir;
    // The cached image is the chunk store: damage three chunks in it (16 different bytes, one bit, and a
    // truncated tail), in place (the image file is also what output/initramfs links to).
    const image = join(cache, 'images', lab.releases[1]!.digest, 'initramfs');
    const size = (await stat(image)).size;
    expect(size).toBe(pair.second.initramfs.length);
    expect((await readdir(join(cache, 'chunks'))).length).toBe(0); // loose chunks pruned once assembled
    const fh = await open(image, 'r+');
    try {
      const at = (offset: number, length: number) => fh.read(Buffer.alloc(length), 0, length, offset);
      const first = (await at(1000, 16)).buffer.map((b) => b ^ 0x5a);
      await fh.write(first, 0, 16, 1000);
      const mid = Math.floor(size / 2);
      const bit = (await at(mid, 1)).buffer;
      bit[0]! ^= 0x01;
      await fh.write(bit, 0, 1, mid);
      await fh.truncate(size - 10);
    } finally {
      await fh.close();
    }
    const repaired = await boot(config);
    expect(repaired.verdict).toBe('valid');
    expect(repaired.chunks.repaired).toBe(3);
    expect(repaired.chunks.fetched).toBe(3);
    expect(sha(await readFile(join(config.outputDir, 'initramfs')))).toBe(sha(pair.second.initramfs));

    // A damaged state file and manifest: the client discovers cold and still boots the right image.
    await writeFile(join(cache, 'state.json'), '{"manifestDigest": "trunc');
    const cold = await boot(config);
    expect(cold.verdict).toBe('unknown');
    expect(sha(await readFile(join(config.outputDir, 'initramfs')))).toBe(sha(pair.second.initramfs));
    expect(cold.chunks.fetched).toBe(0);
  });

  it('refuses a tampered chunk with a clear error', async () => {
    const config = lab.clientConfig({
      cacheDir: join(lab.dir, 'cache-tamper-chunk'),
      outputDir: join(lab.dir, 'out-2'),
    });
    const victim = (await readdir(join(lab.storeDir, 'chunks'))).filter((n) => !n.endsWith('.br'))[5]!;
    const path = join(lab.storeDir, 'chunks', victim);
    const original = await readFile(path);
    const originalBr = await readFile(`${path}.br`).catch(() => null);
    const tampered = Buffer.from(original);
    tampered[tampered.length >> 1]! ^= 0xff;
    await writeFile(path, tampered);
    await rm(`${path}.br`, { force: true });
    try {
      const err = await bootError(config);
      expect(err.code).toBe('CLIENT_ERR_CHUNK_REJECTED');
      expect(err.message).toContain(victim);
      expect(err.message).toContain('refused');
    } finally {
      await writeFile(path, original);
      if (originalBr) await writeFile(`${path}.br`, originalBr);
    }
  });

  it('refuses a tampered manifest with a clear error', async () => {
    const config = lab.clientConfig({
      cacheDir: join(lab.dir, 'cache-tamper-manifest'),
      outputDir: join(lab.dir, 'out-3'),
    });
    const digest = lab.releases[1]!.digest;
    const path = join(lab.storeDir, 'manifests', digest);
    const original = await readFile(path);
    const envelope = JSON.parse(original.toString()) as { payload: string };
    const payload = Buffer.from(envelope.payload, 'base64url')
      .toString()
      .replace('console=ttyS0', 'console=ttyS1');
    await writeFile(
      path,
      JSON.stringify({ ...envelope, payload: Buffer.from(payload).toString('base64url') }),
    );
    try {
      const err = await bootError(config);
      expect(err.code).toBe('CLIENT_ERR_MANIFEST_REJECTED');
      expect(err.message).toContain('MANIFEST_BAD_SIGNATURE');
    } finally {
      await writeFile(path, original);
    }
  });

  it('refuses a content server whose certificate is not the pinned one', async () => {
    const config = lab.clientConfig({
      cacheDir: join(lab.dir, 'cache-pin'),
      outputDir: join(lab.dir, 'out-4'),
      tls: { fingerprint: 'ab'.repeat(32) },
      report: false,
    });
    const err = await bootError(config);
    expect(err.code).toBe('CLIENT_ERR_TLS_PIN_MISMATCH');
  });
});
