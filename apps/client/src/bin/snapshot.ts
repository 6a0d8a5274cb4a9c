import { startupSnapshot } from 'node:v8';
import { loadClientConfig } from '../config.js';
import { start } from './main.js';

/**
 * The entry of the client executable (`dist/bootpt-client`, a Node single executable application built
 * by `scripts/build-node-entry.mjs --sea`): bundled as CommonJS and run once at build time by Node's
 * snapshot builder, which loads the whole client (pino, zod, the protocol codecs, the built-ins it
 * imports at top level) and serializes the heap into the executable. Every start deserializes that heap
 * and calls the function registered here; nothing of the run (argv, env, clock, pid) is read before it.
 */

/** When the builder loaded the client (frozen into the snapshot; the probe reports it). */
const builtAt = Date.now();

// One config parse with made-up flags (nothing of it is kept): zod builds its parsers on first use, and
// the snapshot then holds them and the parse's compiled functions (7 -> 2 ms of every start's parse).
loadClientConfig(
  ['--mac=02:00:00:00:00:01', `--trusted-key=${'A'.repeat(43)}`, `--pin=${'0'.repeat(64)}`],
  {},
);

startupSnapshot.setDeserializeMainFunction(() => start({ kind: 'snapshot', builtAt }));
