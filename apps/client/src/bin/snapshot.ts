import { startupSnapshot } from 'node:v8';
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

startupSnapshot.setDeserializeMainFunction(() => start({ kind: 'snapshot', builtAt }));
