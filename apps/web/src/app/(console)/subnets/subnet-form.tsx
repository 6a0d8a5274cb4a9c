'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { Field, FormError } from '@/components/ui';
import { useSubmit } from '@/components/use-submit';
import { api } from '@/lib/trpc-client';

export interface SubnetValues {
  id?: string;
  siteId: string;
  name: string;
  cidr: string;
  gateway: string;
  dnsServers: string;
  broadcastAddress: string;
  multicastRangeStart: string;
  multicastRangeEnd: string;
  agentId: string;
}

const EMPTY: SubnetValues = {
  siteId: '',
  name: '',
  cidr: '',
  gateway: '',
  dnsServers: '',
  broadcastAddress: '',
  multicastRangeStart: '',
  multicastRangeEnd: '',
  agentId: '',
};

const FIELDS = [
  'siteId',
  'name',
  'cidr',
  'gateway',
  'dnsServers',
  'broadcastAddress',
  'multicastRangeStart',
  'multicastRangeEnd',
  'agentId',
];

const orNull = (s: string) => (s.trim() ? s.trim() : null);

export function SubnetForm({
  initial,
  sites,
  agents,
}: {
  initial?: SubnetValues;
  sites: { id: string; name: string }[];
  agents: { id: string; name: string; siteId: string }[];
}) {
  const router = useRouter();
  const [v, setV] = useState<SubnetValues>(initial ?? { ...EMPTY, siteId: sites[0]?.id ?? '' });
  const payload = () => ({
    siteId: v.siteId,
    name: v.name,
    cidr: v.cidr,
    gateway: orNull(v.gateway),
    dnsServers: v.dnsServers.split(/[\s,]+/).filter(Boolean),
    broadcastAddress: orNull(v.broadcastAddress),
    multicastRangeStart: orNull(v.multicastRangeStart),
    multicastRangeEnd: orNull(v.multicastRangeEnd),
    agentId: orNull(v.agentId),
  });
  const form = useSubmit(
    () => (v.id ? api.subnet.update.mutate({ id: v.id, ...payload() }) : api.subnet.create.mutate(payload())),
    {
      fields: FIELDS,
      onDone: () => {
        if (v.id) router.push('/subnets');
        else setV({ ...EMPTY, siteId: v.siteId });
      },
    },
  );
  const set = (k: keyof SubnetValues) => (e: { target: { value: string } }) =>
    setV({ ...v, [k]: e.target.value });
  const siteAgents = agents.filter((a) => a.siteId === v.siteId);
  return (
    <form
      className="panel form"
      aria-label={v.id ? 'Edit subnet' : 'New subnet'}
      onSubmit={(e) => {
        e.preventDefault();
        void form.submit();
      }}
    >
      <h2 className="form-title">{v.id ? 'Edit subnet' : 'New subnet'}</h2>
      <FormError message={form.formError} />
      <div className="form-grid">
        <Field label="Site" htmlFor="subnet-site" error={form.fieldError('siteId')}>
          <select id="subnet-site" name="siteId" value={v.siteId} onChange={set('siteId')} required>
            <option value="">Choose a site…</option>
            {sites.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Name" htmlFor="subnet-name" error={form.fieldError('name')}>
          <input id="subnet-name" name="name" value={v.name} onChange={set('name')} required />
        </Field>
        <Field
          label="Network (CIDR)"
          htmlFor="subnet-cidr"
          error={form.fieldError('cidr')}
          hint="e.g. 10.20.0.0/24"
        >
          <input
            id="subnet-cidr"
            name="cidr"
            className="mono"
            value={v.cidr}
            onChange={set('cidr')}
            required
          />
        </Field>
        <Field label="Gateway" htmlFor="subnet-gateway" error={form.fieldError('gateway')}>
          <input
            id="subnet-gateway"
            name="gateway"
            className="mono"
            value={v.gateway}
            onChange={set('gateway')}
          />
        </Field>
        <Field
          label="DNS servers"
          htmlFor="subnet-dns"
          error={form.fieldError('dnsServers')}
          hint="Separated by spaces or commas"
        >
          <input
            id="subnet-dns"
            name="dnsServers"
            className="mono"
            value={v.dnsServers}
            onChange={set('dnsServers')}
          />
        </Field>
        <Field
          label="Broadcast address"
          htmlFor="subnet-broadcast"
          error={form.fieldError('broadcastAddress')}
          hint="Empty: derived from the network"
        >
          <input
            id="subnet-broadcast"
            name="broadcastAddress"
            className="mono"
            value={v.broadcastAddress}
            onChange={set('broadcastAddress')}
          />
        </Field>
        <Field
          label="Multicast range start"
          htmlFor="subnet-mstart"
          error={form.fieldError('multicastRangeStart')}
        >
          <input
            id="subnet-mstart"
            name="multicastRangeStart"
            className="mono"
            value={v.multicastRangeStart}
            onChange={set('multicastRangeStart')}
            placeholder="239.255.0.1"
          />
        </Field>
        <Field label="Multicast range end" htmlFor="subnet-mend" error={form.fieldError('multicastRangeEnd')}>
          <input
            id="subnet-mend"
            name="multicastRangeEnd"
            className="mono"
            value={v.multicastRangeEnd}
            onChange={set('multicastRangeEnd')}
            placeholder="239.255.0.254"
          />
        </Field>
        <Field label="Serving agent" htmlFor="subnet-agent" error={form.fieldError('agentId')}>
          <select id="subnet-agent" name="agentId" value={v.agentId} onChange={set('agentId')}>
            <option value="">None yet</option>
            {siteAgents.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <div className="form-actions">
        <button className="btn btn-primary" type="submit" disabled={form.pending}>
          {form.pending ? 'Saving…' : v.id ? 'Save subnet' : 'Create subnet'}
        </button>
      </div>
    </form>
  );
}
