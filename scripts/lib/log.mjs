// Small console helpers for the project's own scripts (up, test, bench). Human-facing, not JSON:
// these scripts talk to the person at the terminal; the services they start log JSON via pino.
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code, s) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);

export const step = (msg) => console.log(`${paint('36', '==>')} ${msg}`);
export const info = (msg) => console.log(`    ${msg}`);
export const warn = (msg) => console.warn(`${paint('33', 'warning:')} ${msg}`);

/** A failure the user can fix: one clear line, no stack trace. */
export class UserError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UserError';
  }
}

/** Runs `main`, printing a UserError as one line and exiting 1. Other errors keep their stack. */
export async function runMain(main) {
  try {
    await main();
  } catch (err) {
    if (err instanceof UserError) {
      console.error(`${paint('31', 'error:')} ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}
