import { z } from 'zod';
import type { PrismaClient } from '../../generated/prisma/client';
import { HOST_STATES } from './host-rules';

export const dashboardOutput = z
  .object({
    totals: z.object({ sites: z.number(), subnets: z.number(), hosts: z.number(), bootProfiles: z.number() }),
    states: z.array(z.enum(HOST_STATES)),
    sites: z.array(
      z.object({
        siteId: z.string(),
        siteName: z.string(),
        total: z.number(),
        byState: z.record(z.string(), z.number()),
      }),
    ),
  })
  .meta({ id: 'Dashboard' });
export type Dashboard = z.infer<typeof dashboardOutput>;

/** Fleet counts per site and state: one grouped scan of the hosts (index on state). */
export async function dashboard(db: PrismaClient): Promise<Dashboard> {
  const [sites, subnets, profiles, groups] = await Promise.all([
    db.site.findMany({ select: { id: true, name: true }, orderBy: { name: 'asc' } }),
    db.subnet.count(),
    db.bootProfile.count(),
    db.host.groupBy({ by: ['siteId', 'state'], _count: { _all: true } }),
  ]);
  type SiteCounts = Dashboard['sites'][number];
  const bySite = new Map<string, SiteCounts>(
    sites.map((s) => [s.id, { siteId: s.id, siteName: s.name, total: 0, byState: {} }]),
  );
  let hosts = 0;
  for (const g of groups) {
    const entry = bySite.get(g.siteId);
    if (!entry) continue;
    entry.byState[g.state] = g._count._all;
    entry.total += g._count._all;
    hosts += g._count._all;
  }
  return {
    totals: { sites: sites.length, subnets, hosts, bootProfiles: profiles },
    states: HOST_STATES,
    sites: [...bySite.values()],
  };
}
