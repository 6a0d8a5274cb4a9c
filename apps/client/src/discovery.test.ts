import { createSocket, type Socket } from 'node:dgram';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { TurboOffer } from '@bootpt/protocol';
import { getTurboFromOptions, seededRandom, turboOptions } from '@bootpt/protocol';
import { BOOTREPLY, decodeBootp, encodeBootp } from '@bootpt/protocol/dhcp/index';
import { TurboDiscovery } from './discovery.js';
import { ClientError } from './errors.js';

/**
 * Discovery against fake responders on loopback: each answers every DISCOVER with a DHCPOFFER-shaped
 * BOOTREPLY carrying its Turbo offer (or none), and REQUEST with an ACK.
 */

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

const digest = new Uint8Array(32).fill(7);

function offer(load: number, verdict: TurboOffer['verdict'] = 'unknown'): TurboOffer {
  return {
    kind: 'offer',
    manifestDigest: digest,
    verdict,
    load,
    pacingMs: 0,
    endpoints: [{ type: 1, address: '127.0.0.1', port: 8443, id: load }],
    validationToken: new Uint8Array(16),
  };
}

/** A responder that replies to every request through `relay` (one shared port, distinct server ids). */
async function responder(answers: { serverId: number; delayMs: number; turbo: TurboOffer | null }[]) {
  const s = createSocket('udp4');
  sockets.push(s);
  const seen: number[] = [];
  s.on('message', (msg, from) => {
    const req = decodeBootp(msg);
    if (!req.ok) return;
    const type = req.value.options.find((o) => o.code === 53)!.data[0]!;
    seen.push(type);
    const turbo = getTurboFromOptions(req.value.options);
    expect(turbo.ok && turbo.value?.kind).toBe('discover');
    const chosen = req.value.options.find((o) => o.code === 54)?.data[3];
    for (const a of answers) {
      if (type === 3 && a.serverId !== chosen) continue; // only the selected server ACKs
      const reply = encodeBootp(
        {
          ...req.value,
          op: BOOTREPLY,
          yiaddr: '10.0.0.9',
          options: [
            { code: 53, data: Uint8Array.of(type === 1 ? 2 : 5) },
            { code: 54, data: Uint8Array.of(10, 0, 0, a.serverId) },
            ...(a.turbo ? turboOptions(a.turbo) : []),
          ],
        },
        { minLength: 300 },
      );
      setTimeout(() => {
        if (sockets.includes(s)) s.send(reply, from.port, from.address);
      }, a.delayMs);
    }
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, seen };
}

function discovery(port: number, extra: Partial<ConstructorParameters<typeof TurboDiscovery>[0]> = {}) {
  return new TurboDiscovery({
    mac: '52:54:00:00:00:02',
    server: '127.0.0.1',
    serverPort: port,
    clientPort: 0,
    optionCode: 224,
    windowMs: 150,
    maxRounds: 2,
    backoffInitialMs: 50,
    random: seededRandom(1),
    log: pino({ level: 'silent' }),
    ...extra,
  });
}

describe('TurboDiscovery', () => {
  it('collects offers for the window, picks the least loaded, and takes the ACK as authoritative', async () => {
    const r = await responder([
      { serverId: 1, delayMs: 0, turbo: offer(200) },
      { serverId: 2, delayMs: 40, turbo: offer(10) },
      { serverId: 3, delayMs: 0, turbo: null },
    ]);
    const result = await discovery(r.port).run();
    expect(result.acked).toBe(true);
    expect(result.rounds).toBe(1);
    expect(r.seen.filter((t) => t === 1)).toHaveLength(3); // one burst of three discovers
    expect(r.seen).toContain(3); // then a DHCPREQUEST
    expect(result.offer.load).toBeLessThanOrEqual(10);
  });

  it('closes the window early on a valid offer for the manifest it holds', async () => {
    const r = await responder([{ serverId: 1, delayMs: 0, turbo: offer(255, 'valid') }]);
    const started = performance.now();
    const result = await discovery(r.port, {
      windowMs: 5000,
      held: { manifestDigest: digest, validationToken: new Uint8Array(16) },
    }).run();
    expect(result.offer.verdict).toBe('valid');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('gives up with CLIENT_ERR_NO_OFFER when only plain offers arrive', async () => {
    const r = await responder([{ serverId: 1, delayMs: 0, turbo: null }]);
    const err = await discovery(r.port)
      .run()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe('CLIENT_ERR_NO_OFFER');
    expect(r.seen.filter((t) => t === 1)).toHaveLength(6); // two rounds of three
  });
});
