import { z } from 'zod';
import { Architecture, HostState, PowerDriver } from '../../generated/prisma/enums';
import { isHostname, isUsableHost, normalizeMac, parseCidr, parseIpv4, type Cidr } from '../lib/net';

/** Rules a host must satisfy, shared by the single-host forms/API and the CSV import. Pure. */
export const ARCHITECTURES = Object.values(Architecture) as [Architecture, ...Architecture[]];
export const POWER_DRIVERS = Object.values(PowerDriver) as [PowerDriver, ...PowerDriver[]];
export const HOST_STATES = Object.values(HostState) as [HostState, ...HostState[]];

export const TAG_PATTERN = /^[a-z0-9][a-z0-9._:-]{0,63}$/;

export const powerParamsSchema = z.record(
  z.string().max(64),
  z.union([z.string().max(500), z.number(), z.boolean()]),
);

export interface FieldProblem {
  field: string;
  message: string;
}

/** The parts of a subnet that decide whether an address may be reserved in it. */
export interface SubnetPlan {
  id: string;
  siteId: string;
  name: string;
  cidrText: string;
  cidr: Cidr;
  gateway: number | null;
  broadcast: number | null;
  poolStart: number | null;
  poolEnd: number | null;
}

export function subnetPlan(s: {
  id: string;
  siteId: string;
  name: string;
  cidr: string;
  gateway: string | null;
  broadcastAddress: string | null;
  poolStart: string | null;
  poolEnd: string | null;
}): SubnetPlan {
  const parsed = parseCidr(s.cidr);
  if (!parsed.ok) throw new Error(`stored subnet ${s.id} has an invalid CIDR ${s.cidr}`);
  const ip = (v: string | null) => (v ? parseIpv4(v) : null);
  return {
    id: s.id,
    siteId: s.siteId,
    name: s.name,
    cidrText: s.cidr,
    cidr: parsed.cidr,
    gateway: ip(s.gateway),
    broadcast: ip(s.broadcastAddress),
    poolStart: ip(s.poolStart),
    poolEnd: ip(s.poolEnd),
  };
}

export function checkMac(text: string): { mac: string } | FieldProblem {
  const mac = normalizeMac(text);
  return mac
    ? { mac }
    : { field: 'mac', message: `${text || '(empty)'} is not a MAC address (aa:bb:cc:dd:ee:ff)` };
}

export function checkHostname(text: string): FieldProblem | null {
  return isHostname(text)
    ? null
    : {
        field: 'hostname',
        message: `${text || '(empty)'} is not a valid host name (letters, digits, hyphens)`,
      };
}

/** An address may be reserved when it is a usable host address of the subnet, not its gateway or broadcast
 * address, and outside the dynamic pool (which the agent hands out to unknown clients). */
export function checkReservation(plan: SubnetPlan, text: string): { ipv4: string; n: number } | FieldProblem {
  const n = parseIpv4(text);
  if (n === null) return { field: 'ipv4', message: `${text} is not an IPv4 address` };
  if (!isUsableHost(plan.cidr, n)) {
    return { field: 'ipv4', message: `${text} is not inside subnet ${plan.name} (${plan.cidrText})` };
  }
  if (n === plan.gateway) return { field: 'ipv4', message: `${text} is the gateway of ${plan.name}` };
  if (n === plan.broadcast)
    return { field: 'ipv4', message: `${text} is the broadcast address of ${plan.name}` };
  if (plan.poolStart !== null && plan.poolEnd !== null && n >= plan.poolStart && n <= plan.poolEnd) {
    return { field: 'ipv4', message: `${text} is inside the dynamic pool of ${plan.name}` };
  }
  return { ipv4: text.trim(), n };
}

export function checkTags(tags: readonly string[]): { tags: string[] } | FieldProblem {
  const out: string[] = [];
  for (const raw of tags) {
    const tag = raw.trim().toLowerCase();
    if (!tag) continue;
    if (!TAG_PATTERN.test(tag)) {
      return { field: 'tags', message: `tag "${raw}" may only hold letters, digits and . _ : - (up to 64)` };
    }
    if (!out.includes(tag)) out.push(tag);
  }
  if (out.length > 32) return { field: 'tags', message: 'at most 32 tags' };
  return { tags: out };
}

/** Drivers that talk to a management controller need to know where it is. */
export function checkPower(driver: PowerDriver, params: Record<string, unknown>): FieldProblem | null {
  if ((driver === 'REDFISH' || driver === 'IPMI' || driver === 'SSH') && typeof params.address !== 'string') {
    return { field: 'powerParams.address', message: `the ${driver} driver needs the controller's address` };
  }
  return null;
}

export function isProblem(x: object): x is FieldProblem {
  return 'field' in x && 'message' in x;
}
