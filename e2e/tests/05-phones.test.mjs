// The Phones page: a device and an extension give a guide written for the org (its SIP
// domain, the extension, where the password goes, never a password); Linphone gets a QR code
// whose link works once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acmeEmail, browser, env, getFor, login, shot, PHONE } from '../lib.mjs';

const guide = (page) => page.locator('article.guide');
/** Waits for the guide of `id` for extension `ext` (the previous one stays while it loads). */
const guideFor = (page, id, ext) => page.locator(`article.guide[data-guide="${id}"][data-extension="${ext}"]`).waitFor();

/** The value of the field `label` in the guide (the first one so named, or the `n`th from 0). */
async function fieldValue(page, label, n = 0) {
  const line = guide(page).locator('.field-line').filter({ has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) }).nth(n);
  return (await line.locator('dd').textContent()).replace(/Copy$/, '').trim();
}

async function openPhones(page) {
  await login(page, 'acme', acmeEmail, env.acmePassword);
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Phones', exact: true }).click();
  await page.getByRole('heading', { name: 'Set up a phone' }).waitFor();
  await page.getByLabel('Extension').locator('option[value="101"]').waitFor({ state: 'attached' });
}

test('the Phones page: a guide for the org and extension 101, and a single-use QR code', async (t) => {
  const { page, errors } = await browser(t);
  await openPhones(page);
  assert.equal(new URL(page.url()).pathname, '/phones');
  // The org's values at a glance, before any device is chosen.
  await page.locator('.glance').getByText('pbx.acme.localhost').waitFor();

  await t.test('a desk phone: every value written for acme and extension 101', async () => {
    // The device list is grouped by kind of device.
    const groups = await page.getByLabel('Phone or app').locator('optgroup').evaluateAll((gs) => gs.map((g) => g.label));
    assert.deepEqual(groups, ['Desk phones', 'Cordless (DECT) phones', 'Mobile apps', 'Desktop apps']);
    await page.getByLabel('Phone or app').selectOption({ label: 'Yealink T4x / T5x' });
    await page.getByLabel('Extension').selectOption('101');
    await guideFor(page, 'yealink-t4x-t5x', '101');
    await guide(page).getByRole('heading', { name: 'Yealink T4x / T5x' }).waitFor();
    assert.equal(await fieldValue(page, 'Server Host'), 'pbx.acme.localhost');
    assert.equal(await fieldValue(page, 'Register Name'), '101');
    // The first step points the phone at automatic provisioning, with the Desk phones page's
    // credentials; the account's own fields follow.
    assert.equal(await fieldValue(page, 'User Name'), "the phone's user name from the Desk phones page");
    assert.equal(await fieldValue(page, 'User Name', 1), '101');
    assert.equal(await fieldValue(page, 'Display Name'), 'Alice Adams');
    assert.equal(await fieldValue(page, 'Voice Mail'), '*97');
    // Where the password goes, and how to get one: never the password itself.
    assert.equal(await fieldValue(page, 'Password', 1), 'the SIP password of extension 101');
    await guide(page).locator('.pw-note').filter({ hasText: 'New SIP password' }).first().waitFor();
    // Copy buttons on the values; check it works; the usual problems.
    await guide(page).getByRole('button', { name: 'Copy Server Host' }).waitFor();
    await guide(page).getByRole('heading', { name: 'Check that it works' }).waitFor();
    await guide(page).getByText('Dial *43').waitFor();
    const problem = guide(page).locator('.problems details').first();
    await problem.locator('summary').click();
    await problem.getByText('pbx.acme.localhost').first().waitFor();
    const text = await guide(page).textContent();
    assert.ok(!text.includes('{'), 'no placeholder left');
    await shot(page, 'phones-desktop');
  });

  await t.test('Linphone: a QR code whose link works once', async () => {
    await page.getByLabel('Phone or app').selectOption({ label: 'Linphone (Android and iOS)' });
    await guideFor(page, 'linphone-mobile', '101');
    await guide(page).getByRole('heading', { name: 'Linphone (Android and iOS)' }).waitFor();
    assert.match(await guide(page).textContent(), /101@pbx\.acme\.localhost/);
    await page.getByRole('button', { name: 'Show a QR code for extension 101' }).click();
    const img = page.getByRole('img', { name: 'QR code that sets up Linphone for extension 101' });
    await img.waitFor();
    const src = await img.getAttribute('src');
    assert.match(src, /^data:image\/svg\+xml,/);
    assert.match(decodeURIComponent(src.slice(src.indexOf(',') + 1)), /<svg[\s\S]*<\/svg>$/);
    // The page's CSP lets the image load (a blocked one has no width).
    await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
    await page.locator('.qr').getByText(/Works once, until \d\d:\d\d:\d\d/).waitFor();
    const url = new URL((await page.locator('.qr-url code').textContent()).trim());
    assert.equal(url.hostname, 'pbx.acme.localhost');
    assert.match(url.pathname, /^\/provision\/t\/[A-Za-z0-9_-]{40,}$/);
    await img.scrollIntoViewIfNeeded();
    await shot(page, 'phones-qr', { fullPage: false });

    const first = await getFor(url.hostname, url.pathname);
    assert.equal(first.status, 200, first.body);
    assert.match(first.body, /<config xmlns="http:\/\/www\.linphone\.org\/xsds\/lpconfig\.xsd"/);
    assert.match(first.body, /pbx\.acme\.localhost/);
    assert.equal(first.headers['cache-control'], 'no-store');
    const second = await getFor(url.hostname, url.pathname);
    assert.equal(second.status, 410, second.body);
  });

  await t.test('another extension: the guide follows', async () => {
    await page.getByLabel('Extension').selectOption('102');
    await guideFor(page, 'linphone-mobile', '102');
    await guide(page).getByText('102@pbx.acme.localhost').first().waitFor();
    // A new guide: no QR code from the previous extension is left.
    assert.equal(await page.locator('.qr-code').count(), 0);
    await page.getByRole('button', { name: 'Show a QR code for extension 102' }).waitFor();
  });
  assert.deepEqual(errors, []);
});

test('the Phones page on a phone', async (t) => {
  const { page, errors } = await browser(t, { viewport: PHONE });
  await openPhones(page);
  await page.getByLabel('Phone or app').selectOption({ label: 'Gigaset N-series DECT' });
  await guide(page).getByRole('heading', { name: 'Gigaset N-series DECT' }).waitFor();
  assert.match(await guide(page).textContent(), /pbx\.acme\.localhost/);
  // Nothing is wider than the screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  await shot(page, 'phones-phone-top', { fullPage: false });
  await shot(page, 'phones-phone');
  assert.deepEqual(errors, []);
});
