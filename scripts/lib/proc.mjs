import { spawn, spawnSync } from 'node:child_process';
import { UserError } from './log.mjs';

/** Runs a command to completion with inherited stdio; throws UserError naming it when it fails. */
export function run(cmd, args, { env, cwd, quiet = false, what } = {}) {
  const res = spawnSync(cmd, args, {
    stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    env: { ...process.env, ...env },
    cwd,
    encoding: 'utf8',
  });
  if (res.error) throw new UserError(`${what ?? cmd} could not start: ${res.error.message}`);
  if (res.status !== 0) {
    const tail = quiet
      ? `\n${(res.stderr || res.stdout || '').trim().split('\n').slice(-15).join('\n')}`
      : '';
    throw new UserError(`${what ?? `${cmd} ${args.join(' ')}`} failed (exit ${res.status})${tail}`);
  }
  return res;
}

/** Runs a command and returns { status, stdout, stderr } without throwing. */
export function capture(cmd, args, { env, cwd } = {}) {
  const res = spawnSync(cmd, args, { env: { ...process.env, ...env }, cwd, encoding: 'utf8' });
  return { status: res.error ? -1 : res.status, stdout: res.stdout ?? '', stderr: res.stderr ?? '' };
}

export function which(cmd) {
  return capture('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/**
 * Starts a long-running child with its own process group, prefixing each output line with `name`.
 * Returns the ChildProcess; `stopChild` ends it (and only it) by PID.
 */
export function startChild(name, cmd, args, { env, cwd } = {}) {
  const child = spawn(cmd, args, {
    env: { ...process.env, ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const prefix = `[${name}] `;
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        process.stdout.write(prefix + buf.slice(0, nl + 1));
        buf = buf.slice(nl + 1);
      }
    });
  }
  return child;
}

/** Sends SIGTERM to the child's process group, then SIGKILL after `graceMs` if it is still alive. */
export async function stopChild(child, graceMs = 8000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = new Promise((resolve) => setTimeout(resolve, graceMs, 'timeout'));
  if ((await Promise.race([exited, timer])) === 'timeout') {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
