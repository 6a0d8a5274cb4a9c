// PostgreSQL connection-URL helpers shared by the database scripts (no dependencies).

function parse(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('DATABASE_URL is not a valid URL (expected postgresql://user@host:port/database)');
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
    throw new Error(`DATABASE_URL must start with postgresql:// (got ${parsed.protocol}//)`);
  }
  return parsed;
}

/** The database name in the URL's path. */
export function databaseNameOf(url) {
  const name = decodeURIComponent(parse(url).pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database (add /<database> after host:port)');
  return name;
}

/** The same server and credentials, another database. */
export function withDatabase(url, database) {
  const parsed = parse(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** The URL without its password, for messages. */
export function redactUrl(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ECONNRESET',
]);

/** True for errors that mean "could not reach or log in to the server" rather than a failing statement. */
export function isConnectError(error) {
  if (CONNECT_ERRORS.has(error?.code)) return true;
  if (error?.code === '28P01' || error?.code === '28000') return true; // authentication failed, no pg_hba entry
  if (error?.code === '57P03') return true; // the database system is starting up / shutting down
  return /timeout expired|Connection terminated/i.test(error?.message ?? '');
}
