import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { getDb, disconnectDb } from '../../apps/web/src/server/db/client';
import { hashPassword } from '../../apps/web/src/server/password';
import { hasChromium, launchBrowser, screenshotPath, startApp, type RunningApp } from './harness';

describe('the running system', () => {
  let app: RunningApp;
  let browser: Browser;
  const email = `skeleton-${randomUUID()}@example.test`;
  const password = 'skeleton-password-1';

  beforeAll(async () => {
    if (!hasChromium())
      throw new Error('Debian chromium is missing: npm test installs it (apt-get install chromium)');
    await getDb().user.create({
      data: { email, name: 'Skeleton test', passwordHash: await hashPassword(password), role: 'VIEWER' },
    });
    app = await startApp();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await getDb().user.deleteMany({ where: { email } });
    await disconnectDb();
  });

  it('reports healthy PostgreSQL and Redis on /api/health', async () => {
    const res = await fetch(`${app.baseUrl}/api/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; database: { ok: boolean }; redis: { ok: boolean } };
    expect(body).toMatchObject({ status: 'ok', database: { ok: true }, redis: { ok: true } });
  });

  it('sends a visitor without a session to the login page, which signs a user in', async () => {
    const page = await browser.newPage();
    await page.goto(app.baseUrl);
    await page.waitForURL(/\/login/);
    await page.fill('#email', email);
    await page.fill('#password', 'wrong-password');
    await page.click('button[type=submit]');
    await expect.poll(() => page.locator('.alert-error').textContent()).toContain('Sign-in failed');
    await page.fill('#password', password);
    await page.click('button[type=submit]');
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
    await page.screenshot({ path: screenshotPath('skeleton-signed-in'), fullPage: true });
    const session = JSON.parse(
      await page.evaluate(async () => (await fetch('/api/auth/session')).text()),
    ) as { user?: { email?: string; role?: string } };
    expect(session.user).toMatchObject({ email, role: 'VIEWER' });
    await page.close();
  });
});
