/**
 * A content sync in a process of its own, for the crash test in control-plane-sync.integration.test.ts
 * (which SIGKILLs it part-way). argv: <store dir> <control plane url> <manifest digest>; the token comes
 * from BOOTPT_AGENT_CONTROL_PLANE_TOKEN. Prints "synced" when done (it should not get there).
 */
import { ContentStore } from '../../apps/agent/src/content/store.js';
import { syncManifest } from '../../apps/agent/src/content/sync.js';
import { createUpstream } from '../../apps/agent/src/content/upstream.js';
import { upstreamSchema } from '../../apps/agent/src/content/config.js';

const [dir, url, digest] = process.argv.slice(2);
const store = new ContentStore(dir!);
await store.open();
const upstream = await createUpstream(
  upstreamSchema.parse({
    kind: 'control-plane',
    url,
    token: process.env.BOOTPT_AGENT_CONTROL_PLANE_TOKEN,
    allowPlaintext: true,
  }),
  { concurrency: 4 },
);
await syncManifest({ store, upstream, digest: digest!, concurrency: 4 });
process.stdout.write('synced\n');
await upstream.close();
