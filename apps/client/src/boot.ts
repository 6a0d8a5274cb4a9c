import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest, LayerAssembly, Manifest } from '@bootpt/protocol';
import { LayerVerifier } from '@bootpt/protocol';
import type { ClientCache } from './cache.js';
import { ClientError } from './errors.js';

/**
 * The hand-off: layers assembled from verified chunks into `outputDir` — the kernel layer as `kernel`,
 * initramfs layers concatenated in manifest order as `initramfs` (the kernel unpacks concatenated cpio
 * archives in order, so overlays need no merging), any other layer as `layer-<n>` — plus `boot.json`
 * (command line, manifest digest). Each output is written to a temp name and renamed, so a reader
 * never sees a half-written image. Outputs are not fsynced: they are rebuilt from the verified cache at
 * every boot and are consumed at once (kexec, or the next stage reading `/run`). Optionally `kexec -l` loads the result.
 */

const KERNEL = 'application/vnd.bootpt.kernel';

export interface AssemblyOutcome {
  /** Chunks that were missing or failed verification on read (removed from the cache). */
  readonly missing: Digest[];
  readonly files: Record<string, string>;
  readonly bytes: number;
}

function outputName(layer: LayerAssembly): string {
  if (layer.mediaType === KERNEL) return 'kernel';
  if (layer.mediaType.startsWith('application/vnd.bootpt.initramfs.cpio')) return 'initramfs';
  return `layer-${layer.layerIndex}`;
}

/**
 * Streams every layer from the cache into the output files, verifying each chunk on read and each
 * layer against its signed digest and size. If chunks are missing or corrupt nothing is renamed into
 * place and they are returned in `missing` so the caller can fetch them and try again.
 */
export async function assembleOutputs(
  cache: ClientCache,
  layers: readonly LayerAssembly[],
  outputDir: string,
  /** Chunks fetched and verified during this boot, still in memory: not read back or hashed again. */
  fresh: ReadonlyMap<Digest, Uint8Array> = new Map(),
): Promise<AssemblyOutcome> {
  await mkdir(outputDir, { recursive: true });
  const groups = new Map<string, LayerAssembly[]>();
  for (const layer of layers) {
    const name = outputName(layer);
    const list = groups.get(name) ?? [];
    list.push(layer);
    groups.set(name, list);
  }
  const missing: Digest[] = [];
  const temps: [string, string][] = [];
  let bytes = 0;
  try {
    for (const [name, group] of groups) {
      const tmp = join(outputDir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
      temps.push([tmp, join(outputDir, name)]);
      const fd = openSync(tmp, 'w');
      try {
        for (const layer of group) {
          // One hash pass: the signed layer digest covers every byte, so chunks are only length-checked
          // on the way through. If the layer does not verify, a second pass hashes each chunk to find
          // (and remove) the damaged ones, which the caller then refetches.
          const verifier = new LayerVerifier(layer);
          for (const chunk of layer.chunks) {
            const data = fresh.get(chunk.digest) ?? cache.readChunkUnverifiedSync(chunk.digest, chunk.length);
            if (!data) {
              if (!missing.includes(chunk.digest)) missing.push(chunk.digest);
              continue;
            }
            if (missing.length === 0) {
              verifier.update(data);
              writeSync(fd, data);
            }
          }
          if (missing.length === 0) {
            const checked = verifier.finish();
            if (!checked.ok) {
              for (const chunk of layer.chunks) {
                if (fresh.has(chunk.digest)) continue;
                if (!cache.readChunkSync(chunk.digest, chunk.length) && !missing.includes(chunk.digest)) {
                  missing.push(chunk.digest);
                }
              }
              if (missing.length === 0) {
                throw new ClientError(
                  'CLIENT_ERR_LAYER_REJECTED',
                  `layer ${layer.layerIndex} (${layer.digest}) refused: ${checked.error.message}`,
                );
              }
            } else {
              bytes += layer.size;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
    }
    if (missing.length > 0) return { missing, files: {}, bytes: 0 };
    const files: Record<string, string> = {};
    for (const [tmp, final] of temps) {
      await rename(tmp, final);
      files[final.slice(outputDir.length + 1)] = final;
    }
    temps.length = 0;
    return { missing, files, bytes };
  } finally {
    for (const [tmp] of temps) await rm(tmp, { force: true });
  }
}

export type KexecOutcome = 'loaded' | 'not-requested' | 'unavailable' | 'no-kernel';

/** Writes `boot.json` and, when asked and possible, loads the kernel with `kexec -l`. */
export async function handOff(args: {
  outputDir: string;
  manifest: Manifest;
  manifestDigest: Digest;
  files: Record<string, string>;
  kexec: boolean;
}): Promise<KexecOutcome> {
  const { outputDir, manifest, manifestDigest, files } = args;
  const info = {
    manifestDigest,
    release: manifest.release,
    kernelCmdline: manifest.kernelCmdline,
    files,
  };
  const tmp = join(outputDir, `.boot.json.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`);
  await rename(tmp, join(outputDir, 'boot.json'));
  if (!args.kexec) return 'not-requested';
  if (!files.kernel) return 'no-kernel';
  const probe = spawnSync('kexec', ['--version'], { timeout: 5000, stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return 'unavailable';
  const kexecArgs = ['-l', files.kernel, `--command-line=${manifest.kernelCmdline}`];
  if (files.initramfs) kexecArgs.push(`--initrd=${files.initramfs}`);
  const run = spawnSync('kexec', kexecArgs, { timeout: 60_000, encoding: 'utf8' });
  if (run.status !== 0) {
    throw new ClientError(
      'CLIENT_ERR_BOOT',
      `kexec -l failed: ${run.stderr || run.error?.message || run.status}`,
    );
  }
  return 'loaded';
}
