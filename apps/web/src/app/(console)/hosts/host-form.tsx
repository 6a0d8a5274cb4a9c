'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { Field, FormError } from '@/components/ui';
import { useSubmit } from '@/components/use-submit';
import { api } from '@/lib/trpc-client';

export interface HostValues {
  id?: string;
  mac: string;
  hostname: string;
  subnetId: string;
  ipv4: string;
  architecture: string;
  tags: string;
  bootProfileId: string;
  failureDomain: string;
  powerDriver: string;
  powerAddress: string;
  powerUser: string;
}

export const EMPTY_HOST: HostValues = {
  mac: '',
  hostname: '',
  subnetId: '',
  ipv4: '',
  architecture: '',
  tags: '',
  bootProfileId: '',
  failureDomain: '',
  powerDriver: 'NONE',
  powerAddress: '',
  powerUser: '',
};

const FIELDS = [
  'mac',
  'hostname',
  'subnetId',
  'ipv4',
  'architecture',
  'tags',
  'bootProfileId',
  'failureDomain',
  'powerDriver',
  'powerParams',
];
const ARCHES = ['X86_BIOS', 'X86_UEFI', 'X86_64_UEFI', 'ARM32_UEFI', 'ARM64_UEFI', 'RISCV64_UEFI'] as const;
const DRIVERS = ['NONE', 'SIMULATED', 'REDFISH', 'IPMI', 'WOL', 'SSH'] as const;

export function HostForm({
  initial,
  subnets,
  profiles,
}: {
  initial?: HostValues;
  subnets: { id: string; name: string; siteName: string; cidr: string }[];
  profiles: { id: string; name: string }[];
}) {
  const router = useRouter();
  const [v, setV] = useState<HostValues>(initial ?? { ...EMPTY_HOST, subnetId: subnets[0]?.id ?? '' });
  const payload = () => {
    const powerParams: Record<string, string> = {};
    if (v.powerAddress.trim()) powerParams.address = v.powerAddress.trim();
    if (v.powerUser.trim()) powerParams.username = v.powerUser.trim();
    return {
      mac: v.mac,
      hostname: v.hostname,
      subnetId: v.subnetId,
      ipv4: v.ipv4.trim() || null,
      architecture: (v.architecture || null) as (typeof ARCHES)[number] | null,
      tags: v.tags.split(/[\s,;]+/).filter(Boolean),
      bootProfileId: v.bootProfileId || null,
      failureDomain: v.failureDomain.trim() || null,
      powerDriver: v.powerDriver as (typeof DRIVERS)[number],
      powerParams,
    };
  };
  const form = useSubmit(
    () => (v.id ? api.host.update.mutate({ id: v.id, ...payload() }) : api.host.create.mutate(payload())),
    { fields: FIELDS, onDone: (host) => router.push(`/hosts/${host.id}`) },
  );
  const set = (k: keyof HostValues) => (e: { target: { value: string } }) =>
    setV({ ...v, [k]: e.target.value });
  const selected = subnets.find((s) => s.id === v.subnetId);
  const needsAddress = ['REDFISH', 'IPMI', 'SSH'].includes(v.powerDriver);
  return (
    <form
      className="panel form"
      aria-label={v.id ? 'Edit host' : 'New host'}
      onSubmit={(e) => {
        e.preventDefault();
        void form.submit();
      }}
    >
      <FormError message={form.formError} />
      <div className="form-grid">
        <Field label="Hostname" htmlFor="host-hostname" error={form.fieldError('hostname')}>
          <input id="host-hostname" name="hostname" value={v.hostname} onChange={set('hostname')} required />
        </Field>
        <Field label="MAC address" htmlFor="host-mac" error={form.fieldError('mac')} hint="aa:bb:cc:dd:ee:ff">
          <input id="host-mac" name="mac" className="mono" value={v.mac} onChange={set('mac')} required />
        </Field>
        <Field label="Subnet" htmlFor="host-subnet" error={form.fieldError('subnetId')}>
          <select id="host-subnet" name="subnetId" value={v.subnetId} onChange={set('subnetId')} required>
            <option value="">Choose a subnet…</option>
            {subnets.map((s) => (
              <option key={s.id} value={s.id}>
                {s.siteName} / {s.name} ({s.cidr})
              </option>
            ))}
          </select>
        </Field>
        <Field
          label="Reserved IPv4 address"
          htmlFor="host-ipv4"
          error={form.fieldError('ipv4')}
          hint={
            selected ? `Inside ${selected.cidr}; empty for the dynamic pool` : 'Empty for the dynamic pool'
          }
        >
          <input id="host-ipv4" name="ipv4" className="mono" value={v.ipv4} onChange={set('ipv4')} />
        </Field>
        <Field label="Architecture" htmlFor="host-arch" error={form.fieldError('architecture')}>
          <select id="host-arch" name="architecture" value={v.architecture} onChange={set('architecture')}>
            <option value="">Reported by the host</option>
            {ARCHES.map((a) => (
              <option key={a} value={a}>
                {a.toLowerCase().replace(/_/g, '-')}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Boot profile" htmlFor="host-profile" error={form.fieldError('bootProfileId')}>
          <select
            id="host-profile"
            name="bootProfileId"
            value={v.bootProfileId}
            onChange={set('bootProfileId')}
          >
            <option value="">None</option>
            {profiles.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </Field>
        <Field
          label="Tags"
          htmlFor="host-tags"
          error={form.fieldError('tags')}
          hint="Separated by spaces or commas"
        >
          <input id="host-tags" name="tags" value={v.tags} onChange={set('tags')} />
        </Field>
        <Field
          label="Failure domain"
          htmlFor="host-fd"
          error={form.fieldError('failureDomain')}
          hint="Rack, PDU or switch: rollouts cap reboots per domain"
        >
          <input id="host-fd" name="failureDomain" value={v.failureDomain} onChange={set('failureDomain')} />
        </Field>
        <Field label="Power driver" htmlFor="host-power" error={form.fieldError('powerDriver')}>
          <select id="host-power" name="powerDriver" value={v.powerDriver} onChange={set('powerDriver')}>
            {DRIVERS.map((d) => (
              <option key={d} value={d}>
                {d === 'WOL' ? 'Wake-on-LAN' : d.toLowerCase()}
              </option>
            ))}
          </select>
        </Field>
        {needsAddress ? (
          <>
            <Field
              label="Controller address"
              htmlFor="host-power-address"
              error={form.fieldError('powerParams')}
            >
              <input
                id="host-power-address"
                name="powerAddress"
                value={v.powerAddress}
                onChange={set('powerAddress')}
              />
            </Field>
            <Field label="Controller user" htmlFor="host-power-user">
              <input id="host-power-user" name="powerUser" value={v.powerUser} onChange={set('powerUser')} />
            </Field>
          </>
        ) : null}
      </div>
      <div className="form-actions">
        <button className="btn btn-primary" type="submit" disabled={form.pending}>
          {form.pending ? 'Saving…' : v.id ? 'Save host' : 'Create host'}
        </button>
      </div>
    </form>
  );
}
