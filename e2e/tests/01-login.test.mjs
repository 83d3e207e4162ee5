// Login, a wrong login, logout, and the pages of hosts that are no org's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acmeEmail, browser, env, login, orgUrl, plainUrl, providerApi, shot, PHONE } from '../lib.mjs';

test('a wrong password is refused plainly', async (t) => {
  const { page, errors } = await browser(t);
  await page.goto(orgUrl('acme'));
  // Not logged in: the PBX page sends us to the login page, with the company's name.
  await page.waitForURL(/\/login$/);
  await page.getByText('Acme Inc.').first().waitFor();
  await page.getByLabel('E-mail address').fill(acmeEmail);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong e-mail address or password.' }).waitFor();
  await shot(page, 'login-wrong-password');
  assert.match(page.url(), /\/login$/);
  assert.deepEqual(errors, []);
});

test('log in, see the PBX page, reload stays logged in, log out', async (t) => {
  const { page, errors } = await browser(t);
  const modules = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) modules.push(new URL(r.url()).pathname); });
  await login(page, 'acme', acmeEmail, env.acmePassword);
  assert.equal(new URL(page.url()).pathname, '/');
  await page.locator('li.ext', { hasText: 'Alice Adams' }).waitFor();
  assert.equal(await page.title(), 'Acme Inc. · Phone system');
  // Org admins load the small bundle, without the provider's demo page.
  assert.ok(modules.length > 0 && modules.every((m) => m.startsWith('/pkg/org_bg.')), modules.join());
  await shot(page, 'pbx-desktop');
  // Already logged in: the login page sends us straight back.
  await page.goto(orgUrl('acme', '/login'));
  await page.getByRole('heading', { name: 'Extensions' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(/\/login$/);
  await page.reload();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  assert.deepEqual(errors, []);
});

test('the login page on a phone', async (t) => {
  const { page } = await browser(t, { viewport: PHONE });
  await page.goto(orgUrl('acme', '/login'));
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  await shot(page, 'login-phone');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is wider than the phone by ${overflow}px`);
});

test('an unknown org host says there is no such PBX', async (t) => {
  const { page } = await browser(t);
  const response = await page.goto(orgUrl('nosuchorg', '/'));
  assert.equal(response.status(), 404);
  await page.getByRole('heading', { name: 'No such PBX' }).waitFor();
  await shot(page, 'no-such-pbx');
  // The plain host is no org's either: the app itself says so.
  await page.goto(plainUrl('/'));
  await page.getByRole('heading', { name: 'No such PBX' }).waitFor();
});

test('an invitation link lets a new admin choose a password and logs them in', async (t) => {
  const created = await providerApi('POST', '/orgs/globex/admins', { email: 'newbie@globex.example' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const invite = new URL(created.body.invite_url);
  const { page, errors } = await browser(t);
  await page.goto(orgUrl('globex', invite.pathname));
  await page.getByRole('heading', { name: 'Welcome' }).waitFor();
  await page.getByText('Globex Corporation').first().waitFor();
  await page.getByLabel('New password (at least 10 characters)').fill('short');
  await page.getByLabel('The same password again').fill('short');
  await page.getByRole('button', { name: 'Set password and log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'at least 10 characters' }).waitFor();
  await page.getByLabel('New password (at least 10 characters)').fill('newbie-pass-1234');
  await page.getByLabel('The same password again').fill('newbie-pass-1234');
  await shot(page, 'invite');
  await page.getByRole('button', { name: 'Set password and log in' }).click();
  await page.getByRole('heading', { name: 'Extensions' }).waitFor();
  await page.locator('.who', { hasText: 'newbie@globex.example' }).waitFor();
  // The link works once.
  const again = await browser(t);
  await again.page.goto(orgUrl('globex', invite.pathname));
  await again.page.getByLabel('New password (at least 10 characters)').fill('another-pass-1234');
  await again.page.getByLabel('The same password again').fill('another-pass-1234');
  await again.page.getByRole('button', { name: 'Set password and log in' }).click();
  await again.page.getByRole('alert').filter({ hasText: 'not valid any more' }).waitFor();
  assert.deepEqual(errors, []);
});
