/**
 * A minimal BOOTP Turbo client for integration tests, built only from `@bootpt/protocol` (the client side
 * of the codec): broadcasts one DHCPDISCOVER carrying a Turbo discover and prints each OFFER (server id,
 * address, Turbo payload) as one JSON line on stdout, until COLLECT_MS after the first (default 0: exit on
 * the first). Run inside a namespace:
 *   node --conditions=source --import tsx turbo-probe.ts MAC [DIGEST_HEX TOKEN_HEX]
 */
import { createSocket } from 'node:dgram';
import {
  BOOTREQUEST,
  chaddrFromMac,
  decodeBootp,
  encodeBootp,
  type BootpOption,
} from '@bootpt/protocol/dhcp/index';
import {
  cacheToken,
  getTurboFromOptions,
  turboOptions,
  type TurboDiscover,
} from '@bootpt/protocol/turbo/index';
import { fromHex, toHex } from '@bootpt/protocol/wire';

const [mac, digestHex, tokenHex] = process.argv.slice(2).filter((a) => a !== '-');
const collectMs = Number(process.env.COLLECT_MS ?? '0');
const started = Date.now();
let closing = false;
if (!mac) throw new Error('usage: turbo-probe MAC [DIGEST_HEX TOKEN_HEX]');
const xid = (Math.random() * 0xffffffff) >>> 0;
const discover: TurboDiscover = {
  kind: 'discover',
  accept: [1, 2],
  attempt: { round: 0, burstIndex: 0 },
  windowMs: 1000,
  ...(digestHex && tokenHex ? { cacheToken: cacheToken(fromHex(digestHex)!, fromHex(tokenHex)!) } : {}),
};
const options: BootpOption[] = [{ code: 53, data: Uint8Array.of(1) }, ...turboOptions(discover)];
const packet = encodeBootp(
  {
    op: BOOTREQUEST,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid,
    secs: 0,
    flags: 0x8000,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: chaddrFromMac(mac),
    sname: '',
    file: '',
    magicCookie: true,
    options,
  },
  { minLength: 300 },
);

const socket = createSocket({ type: 'udp4', reuseAddr: true });
const timer = setTimeout(() => {
  process.stderr.write('no offer\n');
  process.exit(2);
}, 5000);
socket.on('message', (data) => {
  const reply = decodeBootp(data);
  if (!reply.ok || reply.value.xid !== xid) return;
  const turbo = getTurboFromOptions(reply.value.options);
  const offer = turbo.ok && turbo.value?.kind === 'offer' ? turbo.value : null;
  const serverId = reply.value.options.find((o) => o.code === 54)?.data;
  process.stdout.write(
    `${JSON.stringify({
      atMs: Date.now() - started,
      serverId: serverId ? [...serverId].join('.') : null,
      size: data.length,
      yiaddr: reply.value.yiaddr,
      file: reply.value.file,
      turbo: offer && {
        manifestDigest: toHex(offer.manifestDigest),
        verdict: offer.verdict,
        load: offer.load,
        pacingMs: offer.pacingMs,
        endpoints: offer.endpoints,
        validationToken: offer.validationToken ? toHex(offer.validationToken) : null,
      },
    })}\n`,
  );
  if (closing) return;
  closing = true;
  clearTimeout(timer);
  if (collectMs === 0) socket.close();
  else setTimeout(() => socket.close(), collectMs);
});
socket.bind(68, () => {
  socket.setBroadcast(true);
  socket.send(packet, 67, '255.255.255.255');
});
