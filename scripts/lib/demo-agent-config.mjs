// Configuration of the demo agent that `npm run up` starts: loopback only, unprivileged ports, the same
// subnet and hosts as the seeded demo. It never answers on a real interface.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEMO_DHCP_PORT = Number(process.env.BOOTPT_DEMO_DHCP_PORT ?? 10067);
export const DEMO_METRICS_PORT = Number(process.env.BOOTPT_DEMO_METRICS_PORT ?? 9467);

const hosts = Array.from({ length: 6 }, (_, k) => {
  const i = k + 1;
  return {
    mac: `52:54:00:00:00:${i.toString(16).padStart(2, '0')}`,
    ip: `10.250.0.${100 + i}`,
    hostname: `node-${String(i).padStart(2, '0')}`,
  };
});

export function demoAgentConfig(dir) {
  const sitePath = join(dir, 'site.json');
  writeFileSync(
    sitePath,
    JSON.stringify(
      {
        subnets: [
          {
            id: 'lab-net',
            cidr: '10.250.0.0/24',
            routers: ['10.250.0.1'],
            dnsServers: ['10.250.0.1'],
            leaseSeconds: 3600,
            profile: 'default',
          },
        ],
        profiles: [
          {
            id: 'default',
            bootFiles: { bios: 'undionly.kpxe', uefiX64: 'ipxe.efi', default: 'pxelinux.0' },
            ipxeScriptUrl: 'http://127.0.0.1:3000/boot.ipxe',
          },
        ],
        hosts,
      },
      null,
      2,
    ),
  );
  return {
    describe: `loopback only: DHCP on 127.0.0.1:${DEMO_DHCP_PORT}, metrics on http://127.0.0.1:${DEMO_METRICS_PORT}/metrics`,
    agentId: 'demo-agent',
    dataDir: join(dir, 'data'),
    log: { level: 'info' },
    metrics: { host: '127.0.0.1', port: DEMO_METRICS_PORT },
    responder: { loopback: true, port: DEMO_DHCP_PORT, pxeServer: true },
    backend: { kind: 'file', path: sitePath },
  };
}
