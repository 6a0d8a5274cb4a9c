// The demo agent started by `npm run up`. It must never answer DHCP on the machine's real network
// (a rogue DHCP server takes a LAN down), so it serves loopback only, on unprivileged ports.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR, ROOT } from './services.mjs';
import { startChild } from './proc.mjs';
import { warn } from './log.mjs';

export async function startDemoAgent(env) {
  const bin = join(ROOT, 'apps/agent/dist/bin/bootpt-agent.js');
  if (!existsSync(bin)) {
    warn('the agent is not built; no demo agent started');
    return null;
  }
  const dir = join(DATA_DIR, 'demo-agent');
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'agent.json');
  const { demoAgentConfig } = await import('./demo-agent-config.mjs');
  const { describe, ...config } = demoAgentConfig(dir);
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child = startChild('agent', 'node', [bin, '--config', configPath], {
    cwd: ROOT,
    env: { ...env, BOOTPT_SERVICE: 'agent' },
  });
  return { child, describe };
}
