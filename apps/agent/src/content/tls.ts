import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The content server's certificate: from configuration, or generated once (a self-signed P-256
 * certificate via the `openssl` CLI) and kept under `<dir>/`. Clients pin its SHA-256 fingerprint,
 * which is written next to it (`fingerprint`, 64 hex digits) and logged at start.
 */

const run = promisify(execFile);

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** SHA-256 of the DER certificate, lower-case hex without colons. */
  readonly fingerprint: string;
  readonly generated: boolean;
}

export function certificateFingerprint(pem: Buffer | string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}

async function readPair(certFile: string, keyFile: string): Promise<{ cert: Buffer; key: Buffer } | null> {
  try {
    return { cert: await readFile(certFile), key: await readFile(keyFile) };
  } catch {
    return null;
  }
}

export async function loadOrCreateTls(args: {
  dir: string;
  certFile?: string;
  keyFile?: string;
  subject?: string;
}): Promise<TlsMaterial> {
  if (args.certFile && args.keyFile) {
    const pair = await readPair(args.certFile, args.keyFile);
    if (!pair) throw new Error(`cannot read TLS certificate ${args.certFile} / key ${args.keyFile}`);
    return { ...pair, fingerprint: certificateFingerprint(pair.cert), generated: false };
  }
  const certFile = join(args.dir, 'cert.pem');
  const keyFile = join(args.dir, 'key.pem');
  let generated = false;
  let pair = await readPair(certFile, keyFile);
  if (!pair) {
    await mkdir(args.dir, { recursive: true, mode: 0o700 });
    const tmpCert = `${certFile}.tmp`;
    const tmpKey = `${keyFile}.tmp`;
    try {
      await run(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-days',
          '3650',
          '-subj',
          `/CN=${args.subject ?? 'bootpt-agent'}`,
          '-addext',
          `subjectAltName=DNS:${args.subject ?? 'bootpt-agent'},IP:127.0.0.1`,
          '-keyout',
          tmpKey,
          '-out',
          tmpCert,
        ],
        { timeout: 30_000 },
      );
    } catch (err) {
      await rm(tmpCert, { force: true });
      await rm(tmpKey, { force: true });
      throw new Error(
        `no TLS certificate configured and generating one with openssl failed (${(err as Error).message}); set content.tls.certFile/keyFile`,
        { cause: err },
      );
    }
    await rename(tmpKey, keyFile);
    await rename(tmpCert, certFile);
    generated = true;
    pair = (await readPair(certFile, keyFile))!;
  }
  const fingerprint = certificateFingerprint(pair.cert);
  await writeFile(join(args.dir, 'fingerprint'), `${fingerprint}\n`);
  return { ...pair, fingerprint, generated };
}
