import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeCredentials, RATE_LIMITED } from './auth';
import { disconnectDb, getDb } from './db/client';
import { hashPassword } from './password';
import { MAX_FAILURES, redisSignInLimiter } from './rate-limit';
import { getRedis } from './redis';
import { runId } from './testing/fixtures';

/** Local sign-in against the real database and Redis: password check, disabled users, rate limit. */
const email = `signin-${runId()}@test.bootpt`;
const password = 'correct horse battery staple';

beforeAll(async () => {
  await getDb().user.create({
    data: { email, name: 'Sign-in test', role: 'VIEWER', passwordHash: await hashPassword(password) },
  });
});

afterAll(async () => {
  getRedis().disconnect();
  await disconnectDb();
});

describe('authorizeCredentials', () => {
  it('accepts the right password and refuses a wrong one or a disabled account', async () => {
    expect(await authorizeCredentials(email, password, '198.51.100.1')).toMatchObject({
      email,
      role: 'VIEWER',
    });
    expect(await authorizeCredentials(email, 'wrong', '198.51.100.1')).toBeNull();
    expect(await authorizeCredentials(`nobody-${runId()}@test.bootpt`, password, '198.51.100.1')).toBeNull();
    await getDb().user.update({ where: { email }, data: { disabled: true } });
    expect(await authorizeCredentials(email, password, '198.51.100.2')).toBeNull();
    await getDb().user.update({ where: { email }, data: { disabled: false } });
    await redisSignInLimiter.reset(email, '198.51.100.2');
  });

  it(`blocks an email and address after ${MAX_FAILURES} failures, even with the right password`, async () => {
    const ip = '198.51.100.3';
    for (let i = 0; i < MAX_FAILURES; i++) expect(await authorizeCredentials(email, 'wrong', ip)).toBeNull();
    await expect(authorizeCredentials(email, password, ip)).rejects.toThrow(RATE_LIMITED);
    // Another address is not affected, and a success there does not unblock the first one.
    expect(await authorizeCredentials(email, password, '198.51.100.4')).not.toBeNull();
    await expect(authorizeCredentials(email, password, ip)).rejects.toThrow(RATE_LIMITED);
    const ttl = await getRedis().ttl((await getRedis().keys('bootpt:signin-failures:*'))[0] ?? 'none');
    expect(ttl).toBeGreaterThan(0);
    await redisSignInLimiter.reset(email, ip);
    expect(await authorizeCredentials(email, password, ip)).not.toBeNull();
  });
});
