// LittlePBXAdmin, the provider's demo page, end to end through /api/v1: paste a key, create an
// org, set a trunk, add numbers and desk phones, upload a logo, create an admin, see the status;
// then that admin logs in to the new org's page and sees its logo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { browser, env, fixtures, login, plainUrl, shot, PHONE } from '../lib.mjs';

test('the admin demo page drives the provider API', async (t) => {
  const { page, errors } = await browser(t);
  const modules = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) modules.push(new URL(r.url()).pathname); });
  await page.goto(plainUrl('/admin-demo'));
  await page.getByLabel('Paste a provider API key').fill(env.apiKey);
  await page.getByRole('button', { name: 'Use this key' }).click();
  const table = page.locator('table.orgs');
  await table.locator('tr[data-slug="acme"]').waitFor();
  await table.locator('tr[data-slug="globex"]').waitFor();
  await shot(page, 'admin-demo-list');
  assert.ok(modules.length > 0 && modules.every((m) => m.startsWith('/pkg/full_bg.')), modules.join());

  // The key survives a reload of this tab (sessionStorage), not a new browser.
  await page.reload();
  await table.locator('tr[data-slug="acme"]').waitFor();

  await page.getByLabel('Slug').fill('initech');
  await page.getByLabel('Company name').fill('Initech LLC');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.locator('.secret').filter({ hasText: 'Initech LLC: the reception extension' }).waitFor();
  await table.locator('tr[data-slug="initech"]').waitFor();
  const manage = page.locator('section.manage');
  await manage.getByRole('heading', { name: 'Manage initech' }).waitFor();

  // Inbound trunk.
  await manage.locator('#trunk-inbound-host').fill('sip.carrier.example');
  await manage.locator('#trunk-inbound-user').fill('initech-trunk');
  await manage.locator('#trunk-inbound-password').fill('trunk-secret-1');
  await manage.locator('#trunk-inbound-register').check();
  await manage.locator('#trunk-inbound-cidrs').fill('203.0.113.10/32');
  await manage.getByRole('button', { name: 'Save inbound trunk' }).click();
  await manage.locator('form.trunk').first().locator('.note[data-kind="ok"]').filter({ hasText: 'gateway initech.in' }).waitFor();
  // Outbound: the same as inbound.
  await manage.locator('#trunk-outbound-same').check();
  await manage.getByRole('button', { name: 'Save outbound trunk' }).click();
  await manage.locator('form.trunk').nth(1).locator('.note[data-kind="ok"]').waitFor();

  // Numbers: add two, remove one; a number of another org is refused plainly.
  for (const n of ['+15550100777', '+15550100778']) {
    await manage.getByLabel('Add a number (E.164)').fill(n);
    await manage.getByRole('button', { name: 'Add number' }).click();
    await manage.locator('#org-dids li', { hasText: n }).waitFor();
  }
  await manage.getByRole('button', { name: 'Remove +15550100778' }).click();
  await manage.locator('#org-dids li', { hasText: '+15550100778' }).waitFor({ state: 'detached' });
  await manage.getByLabel('Add a number (E.164)').fill('+15550100100');
  await manage.getByRole('button', { name: 'Add number' }).click();
  await manage.locator('.note[data-kind="error"]').filter({ hasText: 'another organization' }).waitFor();

  // Desk phones: a shipment with a MAC that is no MAC is refused whole, naming its line; then
  // two phones (one on the reception extension 100), and one of them removed.
  const deskPhones = manage.locator('#org-desk-phones li');
  const macs = manage.getByLabel('MAC addresses, one per line');
  await manage.locator('#dp-model option[value="yealink-t4x-t5x"]').waitFor({ state: 'attached' });
  await manage.locator('#dp-model').selectOption('yealink-t4x-t5x');
  await macs.fill('00:15:65:77:00:01 100\n00:15:65:77:00');
  await manage.getByRole('button', { name: 'Add phones' }).click();
  await manage.locator('#dp-line-errors li').filter({ hasText: /^Line 2: / }).waitFor();
  assert.equal(await manage.locator('#dp-line-errors li').count(), 1);
  await manage.locator('.note[data-kind="error"]').filter({ hasText: 'Nothing was added' }).waitFor();
  assert.equal(await deskPhones.count(), 0);
  await macs.fill('00:15:65:77:00:01 100\n00-15-65-77-00-02');
  await manage.getByRole('button', { name: 'Add phones' }).click();
  await manage.locator('.note[data-kind="ok"]').filter({ hasText: 'Added 2 phones' }).waitFor();
  await manage.locator('#org-desk-phones li[data-mac="00:15:65:77:00:01"]', { hasText: 'extension 100' }).waitFor();
  await manage.locator('#org-desk-phones li[data-mac="00:15:65:77:00:02"]', { hasText: 'extension none' }).waitFor();
  assert.equal(await deskPhones.count(), 2);
  assert.equal(await manage.locator('#dp-line-errors li').count(), 0);
  assert.equal(await macs.inputValue(), '');
  await shot(page, 'admin-demo-desk-phones');
  await manage.getByRole('button', { name: 'Remove 00:15:65:77:00:02' }).click();
  await manage.locator('#org-desk-phones li[data-mac="00:15:65:77:00:02"]').waitFor({ state: 'detached' });
  assert.equal(await deskPhones.count(), 1);

  // Logo.
  await manage.locator('#org-logo').setInputFiles(path.join(fixtures, 'logo.png'));
  await manage.locator('.note[data-kind="ok"]').filter({ hasText: 'Logo uploaded' }).waitFor();

  // An org admin with a password.
  await manage.getByLabel('E-mail').fill('boss@initech.example');
  await manage.getByLabel('Password (empty: invitation link)').fill('initech-pass-1234');
  await manage.getByRole('button', { name: 'Create admin' }).click();
  await manage.locator('#org-admins li', { hasText: 'boss@initech.example' }).waitFor();

  // Status and details.
  await manage.getByRole('button', { name: 'Refresh status' }).click();
  const statusList = manage.locator('#org-status');
  await statusList.getByText('Applied version').waitFor();
  await statusList.getByText('Gateway initech.in').waitFor();
  // No FreeSWITCH in this test: nothing can tell how many phones are registered.
  assert.equal(
    await statusList.locator('dt:has-text("Phones registered") + dd').textContent(),
    'unknown',
  );
  await manage.getByLabel('New company name').fill('Initech Inc.');
  await manage.getByRole('button', { name: 'Save details' }).click();
  await manage.locator('.note[data-kind="ok"]').filter({ hasText: 'Saved: Initech Inc. is active' }).waitFor();
  await table.locator('tr[data-slug="initech"]', { hasText: 'Initech Inc.' }).waitFor();
  await shot(page, 'admin-demo-manage');
  assert.deepEqual(errors, []);

  // The new admin logs in to the new org's page: its name and logo are there.
  const admin = await browser(t);
  await login(admin.page, 'initech', 'boss@initech.example', 'initech-pass-1234');
  await admin.page.getByText('Initech Inc.').first().waitFor();
  const logo = admin.page.locator('header img.logo');
  await logo.waitFor();
  assert.ok(await logo.evaluate((img) => img.complete && img.naturalWidth > 0), 'the logo loads');
  assert.deepEqual(await admin.page.locator('li.did .did-number').allTextContents(), ['+15550100777']);
  await shot(admin.page, 'initech-pbx-with-logo');
  assert.deepEqual(admin.errors, []);
});

test('the admin demo page on a phone', async (t) => {
  const { page } = await browser(t, { viewport: PHONE });
  await page.goto(plainUrl('/admin-demo'));
  await page.getByLabel('Paste a provider API key').fill(env.apiKey);
  await page.getByRole('button', { name: 'Use this key' }).click();
  await page.locator('table.orgs tr[data-slug="acme"]').waitFor();
  await page.locator('table.orgs tr[data-slug="acme"]').getByRole('button', { name: 'Manage' }).click();
  await page.getByRole('heading', { name: 'Manage acme' }).waitFor();
  await shot(page, 'admin-demo-phone');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is wider than the phone by ${overflow}px`);
});
