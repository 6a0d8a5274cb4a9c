import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function up(env: Record<string, string>) {
  const res = spawnSync('node', ['scripts/up.mjs'], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const errorLines = res.stderr.split('\n').filter((l) => l.trim() !== '' && !l.includes('npm warn'));
  return { status: res.status, stderr: res.stderr, errorLines };
}

describe('npm run up: configuration errors are one clear line', () => {
  it('names DATABASE_URL when the database is unreachable', () => {
    const r = up({ DATABASE_URL: 'postgresql://bootpt:secret@127.0.0.1:9/bootpt', PORT: '39017' });
    expect(r.status).toBe(1);
    expect(r.errorLines).toHaveLength(1);
    expect(r.errorLines[0]).toMatch(
      /^error: DATABASE_URL \(postgresql:\/\/127\.0\.0\.1:9\/bootpt\) is unreachable/,
    );
    expect(r.stderr).not.toContain('secret');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('names DATABASE_URL when it is not a URL', () => {
    const r = up({ DATABASE_URL: 'not a url', PORT: '39017' });
    expect(r.status).toBe(1);
    expect(r.errorLines).toEqual([
      'error: DATABASE_URL is not a valid URL (expected postgresql://user:pass@host:port/db)',
    ]);
  });

  it('rejects a PORT that is not a port number', () => {
    const r = up({ PORT: 'eighty' });
    expect(r.status).toBe(1);
    expect(r.errorLines).toEqual(['error: PORT must be a port number, got "eighty"']);
  });
});

describe('docker-compose.yml', () => {
  const hasCompose = spawnSync('sh', ['-c', 'command -v docker-compose']).status === 0;
  it.runIf(hasCompose)('is valid for docker-compose config (docker-compose is installed here)', () => {
    const res = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: root,
      env: { ...process.env, NEXTAUTH_SECRET: 'x'.repeat(32), BOOTPT_KEY_ENCRYPTION_KEY: 'y'.repeat(32) },
      encoding: 'utf8',
    });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
  });
  it('names every service the system needs', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    for (const svc of ['postgres', 'redis', 'migrate', 'web', 'worker', 'agent'])
      expect(text).toMatch(new RegExp(`^  ${svc}:`, 'm'));
    expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
  });
});
