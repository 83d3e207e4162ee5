// The server cannot reach its configuration database: it then answers every org API request 503
// with a problem+json body (tested on the server's side in Rust). Here the browser's requests get
// that answer from page.route: a banner says so on every page, an edited field says it is not
// saved and keeps what was typed, nothing spins forever, and all comes back by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acmeEmail, browser, env, login, orgUrl, shot, PHONE } from '../lib.mjs';

const DETAIL = 'The configuration database is unavailable; calls and registrations continue.';
const ORG_API = '**/api/org/**';

/** Every org API request answers 503 as the server does without its database; returns the undo. */
async function databaseDown(page) {
  const unavailable = (route) => route.fulfill({
    status: 503,
    contentType: 'application/problem+json',
    headers: { 'cache-control': 'no-store' },
    body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: DETAIL }),
  });
  await page.route(ORG_API, unavailable);
  return () => page.unroute(ORG_API, unavailable);
}

const banner = (page) => page.getByRole('alert').filter({ hasText: 'cannot reach its configuration database' });

// The page retries every 5 s: the banner goes within that after the database is back.
const BACK = { timeout: 15_000 };

/** The banner's words, for the admin and from the server. */
async function checkBanner(page) {
  await banner(page).waitFor();
  const text = await banner(page).textContent();
  assert.match(text, /LittlePBX cannot reach its configuration database right now\./);
  assert.match(text, /Phones and calls keep working; changes cannot be saved until it is back\./);
  assert.match(text, /This page retries by itself\./);
  assert.ok(text.includes(DETAIL), `the server's detail in the banner: ${text}`);
}

/** Nothing says it is still loading, and no spinner turns. */
async function nothingSpins(page) {
  assert.equal(await page.locator('[aria-busy="true"], .spinner').count(), 0);
}

// The browser reports each 503 answer as a console error; those are expected here.
const unexpected = (errors) => errors.filter((e) => !/status of 503/.test(e));

test('the login page says the configuration database is unavailable and opens by itself when it is back', async (t) => {
  const { page, errors } = await browser(t);
  const back = await databaseDown(page);
  await page.goto(orgUrl('acme', '/login'));
  await checkBanner(page);
  await page.getByText('This page opens by itself as soon as the configuration database is back.').waitFor();
  await nothingSpins(page);
  await shot(page, 'unavailable-login');
  await back();
  await banner(page).waitFor({ state: 'detached', ...BACK });
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  await page.getByText('Acme Inc.').first().waitFor();
  assert.deepEqual(unexpected(errors), []);
});

test('the banner on a phone', async (t) => {
  const { page } = await browser(t, { viewport: PHONE });
  await databaseDown(page);
  await page.goto(orgUrl('acme', '/login'));
  await checkBanner(page);
  await shot(page, 'unavailable-phone');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is wider than the phone by ${overflow}px`);
});

test('the PBX page: a field edited while the database is unavailable is not saved, then saved by itself', async (t) => {
  const { page, errors } = await browser(t);
  await login(page, 'acme', acmeEmail, env.acmePassword);
  const card = page.locator('li.ext').first();
  const number = (await card.locator('.ext-number').textContent()).trim();
  await card.locator('summary').click();
  const name = page.locator(`#ext-${number}-name`);
  const status = page.locator(`#ext-${number}-name-status .fstatus`);
  const before = await name.inputValue();
  const typed = 'Front desk (new)';

  const back = await databaseDown(page);
  await t.test('the edit is not saved and says so; the banner is on top', async () => {
    await name.fill(typed);
    await name.press('Enter');
    await status.filter({ hasText: 'Not saved' }).waitFor();
    assert.equal(await status.getAttribute('data-state'), 'unsaved');
    assert.notEqual(await status.getAttribute('data-state'), 'saved');
    assert.equal(await name.inputValue(), typed, 'what was typed stays');
    await checkBanner(page);
    // The banner stays in view above the field scrolled to.
    await status.evaluate((s) => s.scrollIntoView({ block: 'center' }));
    assert.ok(await banner(page).isVisible());
    const top = await banner(page).evaluate((b) => b.getBoundingClientRect().top);
    assert.equal(top, 0);
    await nothingSpins(page);
    await shot(page, 'unavailable-pbx', { fullPage: false });
  });

  await t.test('a retry while it is unavailable changes nothing on the page', async () => {
    await page.waitForTimeout(6_000);
    await checkBanner(page);
    assert.equal(await name.inputValue(), typed);
    assert.equal(await status.getAttribute('data-state'), 'unsaved');
  });

  await t.test('the database is back: the banner goes by itself and the edit is saved', async () => {
    await back();
    await banner(page).waitFor({ state: 'detached', ...BACK });
    await status.filter({ hasText: 'Saved' }).waitFor(BACK);
    await page.reload();
    await card.locator('summary').click();
    assert.equal(await name.inputValue(), typed);
  });

  await t.test('the page opened while it is unavailable loads by itself when it is back', async () => {
    const back = await databaseDown(page);
    await page.reload();
    await checkBanner(page);
    await page.getByText('This page opens by itself as soon as the configuration database is back.').waitFor();
    await nothingSpins(page);
    await shot(page, 'unavailable-pbx-reloaded');
    await back();
    await banner(page).waitFor({ state: 'detached', ...BACK });
    await page.getByRole('heading', { name: 'Extensions' }).waitFor();
    await card.waitFor();
    // Put the name back.
    await card.locator('summary').click();
    await name.fill(before);
    await name.press('Enter');
    await status.filter({ hasText: 'Saved' }).waitFor();
  });

  assert.deepEqual(unexpected(errors), []);
});
