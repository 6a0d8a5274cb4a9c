import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkName, TftpJail } from './jail.js';

describe('checkName', () => {
  it.each([
    ['../etc/passwd', 'dot_component', 2],
    ['a/../../b', 'dot_component', 2],
    ['./a', 'dot_component', 2],
    ['/etc/passwd', 'absolute', 2],
    ['boot\\x64\\wdsnbp.com', 'backslash', 2],
    ['a\u0001b', 'control_char', 2],
    ['a\nb', 'control_char', 2],
    ['', 'not_found', 1],
    ['x'.repeat(256), 'too_long', 2],
  ])('refuses %j as %s (ERROR %d)', (name, reason, code) => {
    const r = checkName(name);
    expect(typeof r).toBe('object');
    expect(r).toMatchObject({ ok: false, reason, code });
  });

  it('normalises repeated slashes and keeps ordinary names', () => {
    expect(checkName('pxelinux.cfg//default')).toBe('pxelinux.cfg/default');
    expect(checkName('a.b/c..d')).toBe('a.b/c..d');
  });

  it('optionally translates backslashes and strips a leading slash', () => {
    expect(checkName('\\boot\\x64\\a.com', { translateBackslashes: true, stripLeadingSlash: true })).toBe(
      'boot/x64/a.com',
    );
    expect(checkName('/pxelinux.0', { stripLeadingSlash: true })).toBe('pxelinux.0');
    expect(checkName('/../x', { stripLeadingSlash: true })).toMatchObject({ reason: 'dot_component' });
  });
});

describe('TftpJail.open', () => {
  let work: string;
  let jail: TftpJail;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'bpt-jail-'));
    const root = join(work, 'root');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'sub', 'file'), 'hello');
    writeFileSync(join(work, 'outside'), 'secret');
    symlinkSync(join(work, 'outside'), join(root, 'escape'));
    symlinkSync('../../outside', join(root, 'sub', 'relative-escape'));
    symlinkSync('file', join(root, 'sub', 'inside'));
    symlinkSync(work, join(root, 'dir-escape'));
    writeFileSync(join(root, 'unreadable'), 'x');
    chmodSync(join(root, 'unreadable'), 0o000);
    spawnSync('mkfifo', [join(root, 'fifo')]);
    jail = new TftpJail(root);
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('opens regular files and symlinks that stay inside the root', () => {
    for (const name of ['sub/file', 'sub/inside']) {
      const r = jail.open(name);
      expect(r.ok).toBe(true);
      if (r.ok) {
        expect(r.snapshot.size).toBe(5);
        r.snapshot.release();
      }
    }
  });

  it.each([
    ['escape', 'outside_root'],
    ['sub/relative-escape', 'outside_root'],
    ['dir-escape/outside', 'outside_root'],
    ['sub', 'not_regular'],
    ['fifo', 'not_regular'],
    ['missing', 'not_found'],
    ['sub/file/x', 'not_found'],
  ])('refuses %s (%s)', (name, reason) => {
    const r = jail.open(name);
    expect(r).toMatchObject({ ok: false, reason, code: reason === 'not_found' ? 1 : 2 });
  });

  it('refuses device files', () => {
    const r = new TftpJail('/dev').open('null');
    expect(r).toMatchObject({ ok: false, reason: 'not_regular', code: 2 });
  });
});
