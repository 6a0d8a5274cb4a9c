#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { Agent } from '../agent.js';
import { ConfigError, loadConfig } from '../config/load.js';

const USAGE = `usage: bootpt-agent [--config FILE]

Runs the BOOTP Turbo agent. Configuration: the JSON file given by --config (or BOOTPT_AGENT_CONFIG),
overlaid with BOOTPT_AGENT_* environment variables (see apps/agent/README.md).
Signals: SIGINT/SIGTERM stop gracefully, SIGHUP re-reads the site data file and syncs content.`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 64;
  }
  if (args.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  let config;
  try {
    config = loadConfig({ file: args.values.config, env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 78;
    }
    throw err;
  }

  const agent = new Agent({ config });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    agent.log.info({ signal }, 'shutdown requested');
    agent.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => {
    const sync = () => agent.content?.requestSync('SIGHUP');
    void agent.backend.reload().then(sync, sync);
  });

  try {
    await agent.start();
  } catch (err) {
    process.stderr.write(`bootpt-agent: ${(err as Error).message}\n`);
    return 1;
  }
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `bootpt-agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);
