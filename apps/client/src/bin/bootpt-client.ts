#!/usr/bin/env node
import { start } from './main.js';

// Run as a script (tsx, `dist/bin/bootpt-client.js`) or from the single-file bundle
// (`dist/bootpt-client.mjs`, which runs this as CommonJS: bin/launcher.ts).
start({ kind: 'script' });
