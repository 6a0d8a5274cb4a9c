import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LayerMediaType } from '@bootpt/protocol';
import { RELEASE_1, RELEASE_2, buildInitramfs } from './debian.js';
import { newcArchive } from './newc.js';
import type { LayerInput } from './publish.js';

/**
 * The pair of releases the integration test and the delta benchmark use: each is a Debian base
 * initramfs (`debian.ts`, about 105 MB) plus a small overlay cpio (an `/init` and the release file),
 * booted as the two concatenated. Release 2 updates six packages and adds nine.
 */

const CPIO: LayerMediaType = 'application/vnd.bootpt.initramfs.cpio';

export interface Release {
  readonly version: string;
  readonly layers: readonly LayerInput[];
  /** The layers concatenated: the initramfs file a client ends up with (what zsync/rsync update). */
  readonly initramfs: Buffer;
}

async function overlay(version: string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'bpt-overlay-'));
  try {
    await mkdir(join(dir, 'etc', 'bootpt'), { recursive: true });
    await writeFile(join(dir, 'etc', 'bootpt', 'release'), `version=${version}\n`);
    await writeFile(join(dir, 'init'), '#!/bin/sh\nmount -t proc proc /proc\nexec /bin/sh\n', {
      mode: 0o755,
    });
    return await newcArchive(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function release(spec: typeof RELEASE_1, version: string): Promise<Release> {
  const base = await readFile(await buildInitramfs(spec));
  const top = await overlay(version);
  return {
    version,
    layers: [
      { bytes: base, mediaType: CPIO },
      { bytes: top, mediaType: CPIO },
    ],
    initramfs: Buffer.concat([base, top]),
  };
}

export async function releasePair(): Promise<{ first: Release; second: Release }> {
  return { first: await release(RELEASE_1, '2026.11.1'), second: await release(RELEASE_2, '2026.11.2') };
}
