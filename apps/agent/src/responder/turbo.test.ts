import { decodeBootp } from '@bootpt/protocol/dhcp/index';
import {
  decodeTurbo,
  encodeTurbo,
  rendezvousRank,
  type TurboDiscover,
  type TurboOffer,
} from '@bootpt/protocol/turbo/index';
import { fromHex } from '@bootpt/protocol/wire';
import { describe, expect, it } from 'vitest';
import { SiteView } from '../backend/site.js';
import { responderConfigSchema, turboConfigSchema, type TurboConfig } from '../config/schema.js';
import { encodeReply } from './codec.js';
import { DhcpHandler, type Decision } from './handler.js';
import { LeaseTable } from './lease-table.js';
import type { Link } from './listener.js';
import { Opt, type RequestView } from './packet.js';
import { PoolAllocator } from './pool.js';
import { TurboResponder, type LocalTftp, type TurboMetrics } from './turbo.js';

/** prom-client stays out of unit tests (its optional OpenTelemetry import does not resolve under vitest). */
const counters: Record<string, number> = {};
const counter = (name: string) => ({
  inc: (labels: Record<string, string>) => {
    const key = `${name}:${Object.values(labels).join(',')}`;
    counters[key] = (counters[key] ?? 0) + 1;
  },
});
const metrics = {
  turboOffers: counter('offers'),
  turboPacing: counter('pacing'),
  load: { set: () => undefined },
} as unknown as TurboMetrics;

const DIGEST = 'a1'.repeat(32);
const OLD_DIGEST = 'b2'.repeat(32);
const KEY = { id: 7, secret: '00112233445566778899aabbccddeeff' };

function site(agents: string[] = []) {
  return SiteView.parse({
    subnets: [
      {
        id: 'lab',
        cidr: '10.0.0.0/24',
        pool: { start: '10.0.0.100', end: '10.0.0.199' },
        profile: 'p',
        agents,
      },
    ],
    profiles: [{ id: 'p', bootFiles: { default: 'pxelinux.0' }, manifest: DIGEST }],
    hosts: [{ mac: '02:00:00:00:00:01', ip: '10.0.0.11', manifest: DIGEST }],
    manifests: [{ digest: DIGEST }, { digest: OLD_DIGEST }],
    endpoints: [
      { kind: 'http2', address: '10.0.0.1', port: 8443, id: 1 },
      { kind: 'tftp', address: '10.0.0.1', port: 69, id: 2 },
      { kind: 'multicast', address: '239.1.1.1', port: 1758, id: 3 },
    ],
  });
}
const link: Link = { name: 'eth0', address: '10.0.0.1', addressInt: 0x0a000001, netmaskInt: 0xffffff00 };

let nextXid = 1;
function request(last: number, discover?: TurboDiscover, over: Partial<RequestView> = {}): RequestView {
  const chaddr = new Uint8Array(16);
  chaddr.set([2, 0, 0, 0, 0, last]);
  const options = new Map<number, Uint8Array>([[Opt.MESSAGE_TYPE, Uint8Array.of(1)]]);
  if (discover) options.set(224, encodeTurbo(discover));
  return {
    op: 1,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: nextXid++,
    secs: 0,
    flags: 0,
    ciaddr: 0,
    yiaddr: 0,
    siaddr: 0,
    giaddr: 0,
    chaddr,
    sname: '',
    file: '',
    magicCookie: true,
    options,
    ...over,
  };
}

function setup(turbo: Partial<TurboConfig> = {}, view = site(), agentId = 'agent-a', tftp?: LocalTftp) {
  const config = turboConfigSchema.parse({ keys: [KEY], ...turbo });
  const handler = new DhcpHandler(
    responderConfigSchema.parse({ interfaces: ['eth0'] }),
    new LeaseTable(),
    new PoolAllocator(),
  );
  const responder = new TurboResponder(config, agentId, metrics, tftp);
  const run = (req: RequestView, now = 1_000_000) => {
    const decision = handler.handle(req, {
      site: view,
      link,
      links: [link],
      loopback: false,
      from: { address: '0.0.0.0', port: 68 },
      now,
    });
    return responder.apply(decision, view, now);
  };
  return { run };
}

function offerOf(decision: Decision): TurboOffer | undefined {
  if (decision.action !== 'reply') return undefined;
  const raw = decision.reply.options.find(([code]) => code === 224)?.[1];
  if (!raw) return undefined;
  const d = decodeTurbo(raw);
  return d.ok && d.value.kind === 'offer' ? d.value : undefined;
}

describe('TurboResponder', () => {
  it('leaves a legacy request untouched', () => {
    const { run } = setup();
    const out = run(request(1));
    expect(out.delayMs).toBe(0);
    expect(out.decision).toMatchObject({ client: 'dhcp', outcome: 'offer' });
    expect(offerOf(out.decision)).toBeUndefined();
  });

  it('treats an unreadable Turbo option as legacy (SPEC §8)', () => {
    const { run } = setup();
    const req = request(1);
    (req.options as Map<number, Uint8Array>).set(224, Uint8Array.of(0x42, 0x54, 9, 1));
    expect(offerOf(run(req).decision)).toBeUndefined();
  });

  it('offers the digest, an unknown verdict for a cold cache, a token, and only accepted endpoints', () => {
    const { run } = setup();
    const out = run(request(1, { kind: 'discover', accept: [1, 2] }));
    expect(out.decision).toMatchObject({ client: 'turbo', outcome: 'offer' });
    const offer = offerOf(out.decision)!;
    expect(offer.manifestDigest).toEqual(fromHex(DIGEST));
    expect(offer.verdict).toBe('unknown');
    expect(offer.validationToken?.length).toBe(16);
    expect(offer.endpoints.map((e) => e.type)).toEqual([1, 2]);
    expect(offer.load).toBe(Math.round(255 / 100));
    expect(offer.pacingMs).toBe(0);
    expect(out.verdict).toBe('unknown');
    expect(out.manifest).toBe(DIGEST);
    if (out.decision.action !== 'reply') return;
    const bytes = encodeReply(out.decision.reply);
    expect(bytes.omitted).toEqual([]);
    expect(bytes.bytes.length).toBeLessThanOrEqual(548);
    expect(decodeBootp(bytes.bytes).ok).toBe(true);
  });

  it('says valid for the token it issued, stale once the assignment moves, unknown for a forged token', () => {
    const { run } = setup();
    const first = offerOf(run(request(1, { kind: 'discover', accept: [1] })).decision)!;
    const held = { manifestDigest: first.manifestDigest, validationToken: first.validationToken! };
    expect(
      offerOf(run(request(1, { kind: 'discover', accept: [1], cacheToken: held })).decision)?.verdict,
    ).toBe('valid');

    const moved = site();
    const movedData = { ...moved.data, hosts: [{ ...moved.data.hosts[0]!, manifest: OLD_DIGEST }] };
    const { run: runMoved } = setup({}, SiteView.from(movedData));
    expect(
      offerOf(runMoved(request(1, { kind: 'discover', accept: [1], cacheToken: held })).decision)?.verdict,
    ).toBe('stale');

    const forged = { ...held, validationToken: new Uint8Array(16).fill(7) };
    expect(
      offerOf(run(request(1, { kind: 'discover', accept: [1], cacheToken: forged })).decision)?.verdict,
    ).toBe('unknown');
    expect(
      offerOf(run(request(2, { kind: 'discover', accept: [1], cacheToken: held })).decision)?.verdict,
    ).toBe('unknown');
  });

  it('paces offers by the subnet bucket: hold within the window, the rest as PACING, then shed', () => {
    const { run } = setup({ offersPerSecond: 10, burst: 2, maxPacingDelayMs: 500, maxBacklogMs: 2000 });
    const turbo = (n: number) => run(request(n, { kind: 'discover', accept: [1], windowMs: 400 }));
    const outs = Array.from({ length: 25 }, (_, i) => turbo(10 + i));
    expect(outs.slice(0, 2).map((o) => o.delayMs)).toEqual([0, 0]);
    expect(outs[2]!.delayMs).toBe(100);
    const late = outs[8]!;
    expect(late.delayMs).toBe(300);
    expect(offerOf(late.decision)?.pacingMs).toBe(400);
    expect(offerOf(late.decision)?.load).toBe(255);
    const shed = outs.filter((o) => o.decision.action === 'drop');
    expect(shed.length).toBe(25 - 2 - 20);
    expect(shed[0]!.decision).toMatchObject({ reason: 'paced_out' });
    expect(counters['pacing:shed']).toBe(3);
  });

  it('repeats the booked PACING in the ACK', () => {
    const { run } = setup({ offersPerSecond: 1, burst: 1, maxPacingDelayMs: 0 });
    run(request(10, { kind: 'discover', accept: [1] }));
    const offered = offerOf(run(request(11, { kind: 'discover', accept: [1] })).decision)!;
    expect(offered.pacingMs).toBe(1000);
    const ackReq = request(11, { kind: 'discover', accept: [1] });
    (ackReq.options as Map<number, Uint8Array>).set(Opt.MESSAGE_TYPE, Uint8Array.of(3));
    (ackReq.options as Map<number, Uint8Array>).set(Opt.REQUESTED_IP, Uint8Array.of(10, 0, 0, 101));
    (ackReq.options as Map<number, Uint8Array>).set(Opt.SERVER_ID, Uint8Array.of(10, 0, 0, 1));
    const ack = run(ackReq, 1_000_400);
    expect(ack.decision).toMatchObject({ outcome: 'ack' });
    expect(ack.delayMs).toBe(0);
    expect(offerOf(ack.decision)?.pacingMs).toBe(600);
  });

  it('shares a subnet between agents by rendezvous rank, for plain clients too', () => {
    const agents = ['agent-a', 'agent-b', 'agent-c'];
    const delays = new Map<string, number[]>();
    for (const id of agents) {
      const { run } = setup({}, site(agents), id);
      delays.set(
        id,
        [1, 2, 3, 4, 5, 6].map((n) => run(request(n)).delayMs),
      );
    }
    for (let i = 0; i < 6; i++) {
      const chaddr = Uint8Array.of(2, 0, 0, 0, 0, i + 1);
      const byAgent = agents.map((id) => delays.get(id)![i]!);
      expect(byAgent.sort((a, b) => a - b)).toEqual([0, 200, 400]);
      for (const id of agents) expect(delays.get(id)![i]).toBe(rendezvousRank(chaddr, id, agents) * 200);
    }
    const { run } = setup({}, site(agents), 'agent-a');
    const retry = run(request(1, undefined, { secs: 8 })).delayMs;
    expect(retry).toBe(Math.floor(delays.get('agent-a')![0]! / 2));
  });

  it('answers one discover per (chaddr, xid, round) of a burst', () => {
    const { run } = setup();
    const burst = (index: number, round = 0) =>
      request(1, { kind: 'discover', accept: [1], attempt: { round, burstIndex: index } }, { xid: 777 });
    expect(run(burst(0)).decision).toMatchObject({ action: 'reply', client: 'turbo' });
    expect(run(burst(1)).decision).toMatchObject({ action: 'ignore', reason: 'duplicate_burst' });
    expect(run(burst(2)).decision).toMatchObject({ action: 'ignore', reason: 'duplicate_burst' });
    expect(run(burst(0, 1)).decision).toMatchObject({ action: 'reply' });
    expect(run(request(1, undefined, { xid: 777 })).decision).toMatchObject({
      action: 'reply',
      client: 'dhcp',
    });
  });

  it('spends no pacing slot on a valid cache', () => {
    const { run } = setup({ offersPerSecond: 1, burst: 1, maxPacingDelayMs: 0, maxBacklogMs: 0 });
    const first = offerOf(run(request(1, { kind: 'discover', accept: [1] })).decision)!;
    const held = { manifestDigest: first.manifestDigest, validationToken: first.validationToken! };
    for (let i = 0; i < 5; i++) {
      const out = run(request(1, { kind: 'discover', accept: [1], cacheToken: held }));
      expect(offerOf(out.decision)).toMatchObject({ verdict: 'valid', pacingMs: 0 });
    }
    expect(run(request(2, { kind: 'discover', accept: [1] })).decision).toMatchObject({
      reason: 'paced_out',
    });
  });

  it('keeps a Turbo reply within 548 octets whatever option 57 says, dropping the least preferred endpoints', () => {
    const base = site();
    const eight = [
      '10.0.0.1',
      '10.0.0.2',
      '10.0.0.3',
      '10.0.0.4',
      '10.0.0.5',
      '10.0.0.6',
      '10.0.0.7',
      '10.0.0.8',
    ];
    const crowded = SiteView.from({
      ...base.data,
      subnets: [{ ...base.data.subnets[0]!, routers: eight, dnsServers: eight, domainName: 'd'.repeat(20) }],
      hosts: [{ ...base.data.hosts[0]!, hostname: 'h'.repeat(63) }],
      endpoints: Array.from({ length: 8 }, (_, id) => ({
        kind: 'tftp' as const,
        address: '10.0.0.1',
        port: 69,
        id,
      })),
    });
    const { run } = setup({}, crowded);
    const req = request(1, { kind: 'discover', accept: [2] });
    (req.options as Map<number, Uint8Array>).set(Opt.MAX_MESSAGE_SIZE, Uint8Array.of(0x05, 0xc0));
    const out = run(req);
    if (out.decision.action !== 'reply') throw new Error('expected a reply');
    const bytes = encodeReply(out.decision.reply);
    expect(bytes.bytes.length).toBeLessThanOrEqual(548);
    expect(bytes.omitted).toEqual([]);
    const kept = offerOf(out.decision)!.endpoints.map((e) => e.id);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(8);
    expect(kept).toEqual([...kept.keys()]);
    expect(bytes.bytes.length + 11).toBeGreaterThan(548);
  });

  it('never answers INFORM with a Turbo offer', () => {
    const { run } = setup();
    const req = request(1, { kind: 'discover', accept: [1] }, { ciaddr: 0x0a00000b });
    (req.options as Map<number, Uint8Array>).set(Opt.MESSAGE_TYPE, Uint8Array.of(8));
    const out = run(req);
    expect(out.decision).toMatchObject({ outcome: 'ack', client: 'dhcp' });
    expect(offerOf(out.decision)).toBeUndefined();
  });

  it("adds the agent's own TFTP endpoints (multicast, broadcast, unicast) after the site's, when accepted", () => {
    const tftp: LocalTftp = { port: 6969, multicast: true, sbroadcast: true };
    const all = { kind: 'discover', accept: [1, 2, 3, 4] } as const;
    const endpoints = (decision: Decision) =>
      offerOf(decision)!.endpoints.map((e) => `${e.type}@${e.address}:${e.port}`);
    const { run } = setup({}, site(), 'agent-a', tftp);
    expect(endpoints(run(request(1, all)).decision)).toEqual([
      '1@10.0.0.1:8443',
      '2@10.0.0.1:69',
      '4@239.1.1.1:1758',
      '4@10.0.0.1:6969',
      '3@10.0.0.1:6969',
      '2@10.0.0.1:6969',
    ]);
    // Only what the client accepts; a site endpoint already naming the agent's TFTP is not repeated.
    expect(endpoints(run(request(2, { kind: 'discover', accept: [1, 3] })).decision)).toEqual([
      '1@10.0.0.1:8443',
      '3@10.0.0.1:6969',
    ]);
    const same = setup({}, site(), 'agent-a', { ...tftp, port: 69, sbroadcast: false });
    expect(endpoints(same.run(request(3, all)).decision)).toEqual([
      '1@10.0.0.1:8443',
      '2@10.0.0.1:69',
      '4@239.1.1.1:1758',
      '4@10.0.0.1:69',
    ]);
    // Off by configuration: the site's endpoints only.
    const off = setup({ advertiseTftp: false }, site(), 'agent-a', tftp);
    expect(endpoints(off.run(request(4, all)).decision)).toEqual([
      '1@10.0.0.1:8443',
      '2@10.0.0.1:69',
      '4@239.1.1.1:1758',
    ]);
  });

  it('offers a relayed client unicast TFTP only (group delivery stays on the link)', () => {
    const { run } = setup({}, site(), 'agent-a', { port: 6969, multicast: true, sbroadcast: true });
    const out = run(request(1, { kind: 'discover', accept: [2, 3, 4] }, { giaddr: 0x0a000001 }));
    const offer = offerOf(out.decision)!;
    expect(offer.endpoints.map((e) => `${e.type}:${e.port}`)).toEqual(['2:69', '4:1758', '2:6969']);
  });
});
