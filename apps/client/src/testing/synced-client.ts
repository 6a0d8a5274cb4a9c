import { existsSync } from 'node:fs';
import '../client.js';
import '../config.js';

/**
 * `bootpt-client` for tests that start several clients together (group delivery): loads the client's
 * modules, says `ready` on stderr, waits (at most 60 s) until the file named by `BOOTPT_TEST_GO` exists,
 * then runs the real entry point with the same arguments. Module loading takes seconds on a loaded
 * machine; this way the boots themselves begin within milliseconds of each other, as a rack powering on.
 */
const go = process.env.BOOTPT_TEST_GO;
if (!go) throw new Error('BOOTPT_TEST_GO is not set');
process.stderr.write('ready\n');
for (let i = 0; i < 6000 && !existsSync(go); i++) await new Promise((r) => setTimeout(r, 10));
await import('../bin/bootpt-client.js');
