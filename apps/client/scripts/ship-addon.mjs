// Puts the TFTP group receive add-on (`tftp_receive.node`, built by @bootpt/tftp-native when a C compiler
// is there) next to the single-file client and the executable in dist/, where the client looks for it
// first (`nativeReceive` in src/tftp-read.ts): copy the two together into an image and group streams are
// received in C. Without a built add-on this says so and the client receives with node:dgram.
import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ADDON = 'tftp_receive.node';
const out = join('dist', ADDON);
// The workspace's build, found the way node resolves the package: a node_modules above this directory.
let from = null;
for (let dir = process.cwd(); ; dir = dirname(dir)) {
  const candidate = join(dir, 'node_modules/@bootpt/tftp-native/build/Release', ADDON);
  if (existsSync(candidate)) {
    from = candidate;
    break;
  }
  if (dirname(dir) === dir) break;
}
if (from) {
  const tmp = `${out}.${process.pid}.tmp`;
  copyFileSync(from, tmp);
  renameSync(tmp, out);
  console.log(`client: ${out} (group receive add-on) shipped beside the client`);
} else {
  rmSync(out, { force: true });
  console.warn(`client: no ${ADDON} built (see packages/tftp-native); group streams use node:dgram`);
}
