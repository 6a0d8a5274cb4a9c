import type { PrismaClient } from '../../generated/prisma/client';
import { generatePassword, hashPassword } from '../password';

export const DEMO_ADMIN_EMAIL = 'admin@bootpt.local';

export interface SeedOutcome {
  created: boolean;
  adminEmail: string;
  /** Present only when the admin account was created by this call: it is shown once and never stored. */
  adminPassword?: string;
}

/**
 * Seeds a demo on an empty database: an admin account, a site, a subnet served by the demo agent and a
 * handful of hosts. Does nothing when any user exists, so running it again keeps the data as it is.
 */
export async function seedDemo(
  db: PrismaClient,
  opts: { adminPassword?: string } = {},
): Promise<SeedOutcome> {
  if ((await db.user.count()) > 0) return { created: false, adminEmail: DEMO_ADMIN_EMAIL };
  const adminPassword = opts.adminPassword ?? generatePassword();
  const passwordHash = await hashPassword(adminPassword);
  await db.$transaction(async (tx) => {
    await tx.user.create({
      data: { email: DEMO_ADMIN_EMAIL, name: 'Demo admin', passwordHash, role: 'ADMIN' },
    });
    const site = await tx.site.create({
      data: { name: 'Demo lab', description: 'Seeded by npm run up', timezone: 'UTC' },
    });
    const agent = await tx.agent.create({ data: { name: 'demo-agent', siteId: site.id } });
    const subnet = await tx.subnet.create({
      data: {
        name: 'lab-net',
        siteId: site.id,
        agentId: agent.id,
        cidr: '10.250.0.0/24',
        gateway: '10.250.0.1',
        dnsServers: ['10.250.0.1'],
        broadcastAddress: '10.250.0.255',
        multicastRangeStart: '239.255.250.1',
        multicastRangeEnd: '239.255.250.254',
      },
    });
    const profile = await tx.bootProfile.create({
      data: { name: 'default', description: 'Seeded default profile' },
    });
    for (let i = 1; i <= 6; i++) {
      const arch = i <= 4 ? 'X86_64_UEFI' : 'X86_BIOS';
      await tx.host.create({
        data: {
          mac: `52:54:00:00:00:${i.toString(16).padStart(2, '0')}`,
          hostname: `node-${String(i).padStart(2, '0')}`,
          ipv4: `10.250.0.${100 + i}`,
          subnetId: subnet.id,
          siteId: site.id,
          architecture: arch,
          tags: i % 2 === 0 ? ['rack-a', 'kiosk'] : ['rack-b'],
          bootProfileId: profile.id,
          powerDriver: 'SIMULATED',
        },
      });
    }
  });
  return { created: true, adminEmail: DEMO_ADMIN_EMAIL, adminPassword };
}
