// Login, a wrong login, logout, and the pages of hosts that are no org's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acmeEmail, browser, env, login, orgUrl, plainUrl, shot, PHONE } from '../lib.mjs';

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
  await login(page, 'acme', acmeEmail, env.acmePassword);
  assert.equal(new URL(page.url()).pathname, '/');
  await page.locator('li.ext', { hasText: 'Alice Adams' }).waitFor();
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
