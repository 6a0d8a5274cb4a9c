import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disconnectDb, getDb } from '../../apps/web/src/server/db/client';
import { hashPassword } from '../../apps/web/src/server/password';
import { hasChromium, launchBrowser, screenshotPath, startApp, type RunningApp } from './harness';

/**
 * The inventory end to end in Debian's chromium: an admin signs in and builds a site, a subnet and a
 * host through the forms, imports a CSV file with one bad row, then a viewer finds no edit controls and
 * the API refusing their writes.
 */
const tag = randomUUID().slice(0, 8);
const password = `e2e-password-${tag}`;
const adminEmail = `e2e-admin-${tag}@example.test`;
const viewerEmail = `e2e-viewer-${tag}@example.test`;
const siteName = `E2E site ${tag}`;
const octet = 16 + (Number.parseInt(tag.slice(0, 2), 16) % 200);
const prefix = `172.${(octet % 16) + 16}.${octet}`;
const mac = (n: number) =>
  `02:e2:${tag.slice(0, 2)}:${tag.slice(2, 4)}:${tag.slice(4, 6)}:${n.toString(16).padStart(2, '0')}`;

let app: RunningApp;
let browser: Browser;

const nav = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });

async function signIn(context: BrowserContext, email: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${app.baseUrl}/login`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  return page;
}

beforeAll(async () => {
  if (!hasChromium())
    throw new Error('Debian chromium is missing: npm test installs it (apt-get install chromium)');
  const passwordHash = await hashPassword(password);
  await getDb().user.createMany({
    data: [
      { email: adminEmail, name: 'E2E admin', role: 'ADMIN', passwordHash },
      { email: viewerEmail, name: 'E2E viewer', role: 'VIEWER', passwordHash },
    ],
  });
  app = await startApp();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await disconnectDb();
});

describe('inventory in the browser', () => {
  let hostPath = '';

  it('an admin creates a site, a subnet (after an inline CIDR error) and a host', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await signIn(context, adminEmail);
    await page.screenshot({ path: screenshotPath('inventory-01-dashboard'), fullPage: true });

    await nav(page, 'Sites').click();
    await page.waitForURL(/\/sites$/);
    await page.getByLabel('Name').fill(siteName);
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByRole('button', { name: 'Create site' }).click();
    await page.getByTestId('sites-table').getByRole('link', { name: siteName, exact: true }).waitFor();

    await nav(page, 'Subnets').click();
    await page.waitForURL(/\/subnets$/);
    const form = page.getByRole('form', { name: 'New subnet' });
    await form.getByLabel('Site').selectOption({ label: siteName });
    await form.getByLabel('Name').fill(`lab-${tag}`);
    await form.getByLabel('Network (CIDR)').fill(`${prefix}.5/24`);
    await form.getByRole('button', { name: 'Create subnet' }).click();
    const cidrError = form.locator('#subnet-cidr-error');
    await cidrError.waitFor();
    expect(await cidrError.textContent()).toContain(`did you mean ${prefix}.0/24`);
    await page.screenshot({ path: screenshotPath('inventory-02-subnet-inline-error'), fullPage: true });
    await form.getByLabel('Network (CIDR)').fill(`${prefix}.0/24`);
    await form.getByLabel('Gateway').fill(`${prefix}.1`);
    await form.getByLabel('Multicast range start').fill('239.255.10.1');
    await form.getByLabel('Multicast range end').fill('239.255.10.50');
    await form.getByRole('button', { name: 'Create subnet' }).click();
    await page
      .getByTestId('subnets-table')
      .getByRole('link', { name: `lab-${tag}`, exact: true })
      .waitFor();

    await nav(page, 'Hosts').click();
    await page.getByRole('link', { name: 'New host' }).click();
    await page.waitForURL(/\/hosts\/new$/);
    await page.getByLabel('Hostname').fill(`node-${tag}`);
    await page.getByLabel('MAC address').fill(mac(1));
    await page.getByLabel('Subnet').selectOption({ label: `${siteName} / lab-${tag} (${prefix}.0/24)` });
    await page.getByLabel('Reserved IPv4 address').fill(`${prefix}.10`);
    await page.getByLabel('Tags').fill('rack-a kiosk');
    await page.getByRole('button', { name: 'Create host' }).click();
    await page.waitForURL(/\/hosts\/[0-9a-f-]{36}$/);
    hostPath = new URL(page.url()).pathname;
    await page.getByRole('heading', { name: `node-${tag}` }).waitFor();
    await page.screenshot({ path: screenshotPath('inventory-03-host-detail'), fullPage: true });
    await context.close();
  });

  it('an admin imports a CSV file with one bad row and sees that row’s error', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await signIn(context, adminEmail);
    await page.goto(`${app.baseUrl}/hosts/import`);
    const csv = [
      'hostname,mac,ipv4,site,subnet,tags',
      `csv-${tag}-1,${mac(0x11)},${prefix}.21,${siteName},lab-${tag},csv`,
      `csv-${tag}-2,${mac(0x12)},10.99.99.99,${siteName},lab-${tag},csv`,
      `csv-${tag}-3,${mac(0x13)},,${siteName},lab-${tag},csv`,
    ].join('\n');
    await page.getByLabel('Or paste the rows').fill(csv);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const report = page.getByTestId('import-report');
    await report.waitFor();
    const rows = page.getByTestId('import-errors').locator('tbody tr');
    expect(await rows.count()).toBe(1);
    const cells = await rows.first().locator('td').allTextContents();
    expect(cells[0]).toBe('3');
    expect(cells[1]).toBe('ipv4');
    expect(cells[2]).toContain('not inside subnet');
    expect(await report.textContent()).toContain('2 created');
    await page.screenshot({ path: screenshotPath('inventory-04-import-report'), fullPage: true });

    await page.goto(`${app.baseUrl}/hosts?tag=csv&q=csv-${tag}`);
    const table = page.getByTestId('hosts-table');
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(2);
    await page.goto(`${app.baseUrl}/hosts?q=${tag}`);
    await page.screenshot({ path: screenshotPath('inventory-05-host-list'), fullPage: true });
    await context.close();
  });

  it('an admin creates an API token in the UI, shown once, which works as a Bearer token until revoked', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await signIn(context, adminEmail);
    await nav(page, 'API tokens').click();
    await page.waitForURL(/\/tokens$/);
    await page.getByLabel('Name').fill(`e2e-token-${tag}`);
    await page.getByLabel('Role').selectOption('OPERATOR');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = (await page.getByTestId('new-token').locator('code').textContent())?.trim() ?? '';
    expect(token).toMatch(/^bpt_/);
    await page.screenshot({ path: screenshotPath('inventory-06-token-created'), fullPage: true });
    const headers = { authorization: `Bearer ${token}` };
    const list = await fetch(`${app.baseUrl}/api/v1/hosts?q=${tag}`, { headers });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { total: number }).total).toBe(3);
    await page.reload();
    expect(await page.getByTestId('new-token').count()).toBe(0);
    expect(await page.content()).not.toContain(token);

    const row = page.getByTestId('tokens-table').locator('tr', { hasText: `e2e-token-${tag}` });
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await row.getByText('revoked').waitFor();
    expect((await fetch(`${app.baseUrl}/api/v1/hosts?q=${tag}`, { headers })).status).toBe(401);

    await nav(page, 'Audit log').click();
    await page.getByTestId('audit-table').getByText('token.revoke').first().waitFor();
    await page.screenshot({ path: screenshotPath('inventory-07-audit-log'), fullPage: true });
    await context.close();
  });

  it('a viewer finds no edit controls and the API refuses their writes', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await signIn(context, viewerEmail);
    await page.goto(`${app.baseUrl}/hosts?q=${tag}`);
    await page.getByTestId('hosts-table').waitFor();
    expect(await page.getByRole('link', { name: 'New host' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Import CSV' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Export CSV' }).count()).toBe(1);
    await page.screenshot({ path: screenshotPath('inventory-08-viewer-hosts'), fullPage: true });

    await page.goto(`${app.baseUrl}${hostPath}`);
    await page.getByRole('heading', { name: `node-${tag}` }).waitFor();
    expect(await page.getByRole('button', { name: 'Delete host' }).count()).toBe(0);
    expect(await page.getByRole('form', { name: 'Edit host' }).count()).toBe(0);
    await page.goto(`${app.baseUrl}/sites`);
    await page.getByTestId('sites-table').waitFor();
    expect(await page.getByRole('form', { name: 'New site' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    expect(await nav(page, 'Audit log').count()).toBe(0);
    expect(await nav(page, 'Hosts').count()).toBe(1);
    await page.screenshot({ path: screenshotPath('inventory-09-viewer-sites'), fullPage: true });

    const hostId = hostPath.split('/').pop()!;
    const refused = await page.evaluate(async (id) => {
      const rest = await fetch(`/api/v1/hosts/${id}`, { method: 'DELETE' });
      const trpc = await fetch('/api/trpc/host.update', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id, hostname: 'hijacked' }),
      });
      const read = await fetch(`/api/v1/hosts/${id}`);
      return {
        rest: { status: rest.status, body: (await rest.json()) as unknown },
        trpc: trpc.status,
        read: read.status,
      };
    }, hostId);
    expect(refused.rest).toEqual({
      status: 403,
      body: { code: 'FORBIDDEN', message: 'The viewer role may not host.delete', field: null },
    });
    expect(refused.trpc).toBe(403);
    expect(refused.read).toBe(200);
    expect(await getDb().host.count({ where: { id: hostId, hostname: `node-${tag}` } })).toBe(1);

    const anonymous = await fetch(`${app.baseUrl}/api/v1/hosts/${hostId}`);
    expect(anonymous.status).toBe(401);

    // A role change ends the viewer's session at the next request.
    await getDb().user.update({
      where: { email: viewerEmail },
      data: { role: 'OPERATOR', sessionVersion: { increment: 1 } },
    });
    await page.goto(`${app.baseUrl}/hosts`);
    await page.waitForURL(/\/login/);
    await context.close();
  });

  it('signs out', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, adminEmail);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await page.goto(`${app.baseUrl}/hosts`);
    await page.waitForURL(/\/login/);
    await context.close();
  });

  it('serves the OpenAPI document', async () => {
    const res = await fetch(`${app.baseUrl}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/hosts', '/hosts/{id}', '/hosts/import']),
    );
  });
});
