// The Desk phones page end to end: a MAC that is no MAC is refused next to its field; a Yealink
// added on extension 101 shows where it stands and its setup values; the phone's file, fetched
// with HTTP Digest as a phone does, carries the extension's account, and no account once the
// phone is taken off the extension; a MAC added twice is refused; another org's admin sees none
// of it; a removed phone leaves the list and its next file has no account.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { acmeEmail, browser, env, getFor, globexEmail, login, shot } from '../lib.mjs';

const MAC = '00:15:65:12:34:56';
const row = (page) => page.locator(`li.dp[data-mac="${MAC}"]`);
const md5 = (text) => crypto.createHash('md5').update(text).digest('hex');

async function openDeskPhones(page) {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Desk phones' }).click();
  await page.getByRole('heading', { name: 'Desk phones', level: 1 }).waitFor();
  await page.locator('#dp-new-model option').first().waitFor({ state: 'attached' });
}

/** The setup value `label` of the phone's row (shown by "Show setup"). */
async function setupValue(page, label) {
  const line = row(page).locator('.field-line').filter({ has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) });
  return (await line.locator('code').textContent()).trim();
}

/** GET `url` as a phone does: unauthenticated first, then HTTP Digest (MD5, qop=auth). */
async function phoneFetch(url, user, password) {
  const { hostname, pathname } = new URL(url);
  const first = await getFor(hostname, pathname);
  if (first.status !== 401) return first;
  const all = [first.headers['www-authenticate']].flat().join(', ');
  assert.ok(all.includes('Digest '), `no Digest challenge: ${all}`);
  const challenge = all.slice(all.indexOf('Digest '));
  const field = (name) => challenge.match(new RegExp(`${name}="([^"]*)"`))?.[1];
  const [realm, nonce, opaque] = [field('realm'), field('nonce'), field('opaque')];
  const cnonce = crypto.randomBytes(8).toString('hex');
  const nc = '00000001';
  const ha1 = md5(`${user}:${realm}:${password}`);
  const ha2 = md5(`GET:${pathname}`);
  const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  let header = `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${pathname}", `
    + `response="${response}", qop=auth, nc=${nc}, cnonce="${cnonce}", algorithm=MD5`;
  if (opaque !== undefined) header += `, opaque="${opaque}"`;
  return getFor(hostname, pathname, { authorization: header });
}

/** A Yealink file as `key -> value`. */
function yealink(body) {
  assert.match(body, /^#!version:1\.0\.0\.1/);
  return Object.fromEntries(body.split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const at = l.indexOf('=');
      return [l.slice(0, at).trim(), l.slice(at + 1).trim()];
    }));
}

test('the Desk phones page: add, set up, fetch, move off the extension, remove; other orgs see nothing', async (t) => {
  const { page, errors } = await browser(t);
  await login(page, 'acme', acmeEmail, env.acmePassword);
  await openDeskPhones(page);
  assert.equal(new URL(page.url()).pathname, '/desk-phones');
  await page.getByLabel('Extension', { exact: true }).locator('option[value="101"]').waitFor({ state: 'attached' });
  await page.getByText('Plug in a desk phone and it sets itself up').waitFor();
  let url;
  let user;
  let password;

  await t.test('a MAC address that is no MAC address: the error is next to the field', async () => {
    await page.getByLabel('MAC address').fill('00:15:65:12:34');
    await page.getByLabel('Model').selectOption({ label: 'Yealink T4x / T5x' });
    await page.getByText('Covers T41, T42').waitFor();
    await page.getByRole('button', { name: 'Add phone' }).click();
    const error = page.locator('#dp-new-mac-error');
    await error.filter({ hasText: /\S/ }).waitFor();
    assert.equal(await page.getByLabel('MAC address').getAttribute('aria-invalid'), 'true');
    assert.equal(await row(page).count(), 0);
    await shot(page, 'desk-phones-bad-mac', { fullPage: false });
  });

  await t.test('a Yealink on extension 101: listed with where it stands', async () => {
    await page.getByLabel('MAC address').fill(MAC);
    await page.getByLabel('Extension', { exact: true }).selectOption('101');
    await page.getByRole('button', { name: 'Add phone' }).click();
    await row(page).waitFor();
    assert.equal(await page.locator('#dp-new-mac-error').textContent(), '');
    assert.equal(await page.getByLabel('MAC address').inputValue(), '');
    assert.match(await row(page).locator('.dp-model').textContent(), /Yealink T4x \/ T5x/);
    assert.equal(await row(page).getByLabel('Extension').inputValue(), '101');
    // The seeded demo applies 101 with a kept SIP password: the phone is ready.
    const state = row(page).locator('.dp-state');
    assert.equal(await state.getAttribute('data-state'), 'ready');
    assert.equal(await state.getAttribute('data-kind'), 'ok');
    assert.match(await state.textContent(), /The phone gets extension 101 at its next check\./);
    assert.equal((await row(page).locator('.dp-fetch').textContent()).trim(), 'Has not fetched its settings yet.');
    await shot(page, 'desk-phones-added');
  });

  await t.test('Show setup: the address, the file name, its own user name and password', async () => {
    const toggle = row(page).getByRole('button', { name: 'Show setup' });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    await toggle.click();
    await row(page).locator('.dp-setup').waitFor();
    assert.equal(await row(page).getByRole('button', { name: 'Hide setup' }).getAttribute('aria-expanded'), 'true');
    url = await setupValue(page, 'Provisioning address');
    user = await setupValue(page, 'User name');
    password = await setupValue(page, 'Password');
    assert.match(url, /^http:\/\/pbx\.acme\.localhost:\d+\/provision\/device\/$/);
    assert.equal(await setupValue(page, 'File name'), '001565123456.cfg');
    assert.ok(user.length > 0 && !user.includes('001565'), user);
    assert.ok(password.length >= 16, password);
    // The same address on top of the page.
    assert.equal((await page.locator('.dp-address code').textContent()).trim(), url);
    await shot(page, 'desk-phones-setup');
  });

  await t.test("the phone's file, fetched with Digest, carries extension 101", async () => {
    const file = await phoneFetch(`${url}001565123456.cfg`, user, password);
    assert.equal(file.status, 200, file.body);
    const cfg = yealink(file.body);
    assert.equal(cfg['account.1.enable'], '1');
    assert.equal(cfg['account.1.user_name'], '101');
    assert.equal(cfg['static.auto_provision.server.username'], user);
    // A wrong password gets no file.
    const wrong = await phoneFetch(`${url}001565123456.cfg`, user, 'not-its-password');
    assert.equal(wrong.status, 401);
    assert.doesNotMatch(wrong.body, /account/);
    // The page says it fetched, and from where.
    await page.getByRole('button', { name: 'Check again' }).click();
    await row(page).locator('.dp-fetch').filter({ hasText: /^Fetched its settings (just now|1 min ago) from 127\.0\.0\.1\.$/ }).waitFor();
  });

  await t.test('"No extension" is saved at once; the next file has no account', async () => {
    await row(page).getByLabel('Extension').selectOption('');
    await row(page).locator('.fstatus').filter({ hasText: 'Saved' }).waitFor();
    const state = row(page).locator('.dp-state[data-state="no_extension"]');
    await state.waitFor();
    assert.match(await state.textContent(), /Not on an extension/);
    const cfg = yealink((await phoneFetch(`${url}001565123456.cfg`, user, password)).body);
    assert.equal(cfg['account.1.enable'], '0');
    assert.notEqual(cfg['account.1.user_name'], '101');
    // Still so after a reload.
    await page.reload();
    await row(page).locator('.dp-state[data-state="no_extension"]').waitFor();
    assert.equal(await row(page).getByLabel('Extension').inputValue(), '');
    await shot(page, 'desk-phones-no-extension', { fullPage: false });
  });

  await t.test('the same MAC again: refused with a message', async () => {
    await page.getByLabel('MAC address').fill('001565123456');
    await page.getByRole('button', { name: 'Add phone' }).click();
    await page.locator('#dp-add .form-error').filter({ hasText: 'registered already' }).waitFor();
    assert.equal(await page.locator('li.dp').count(), 1);
  });

  await t.test("another org's admin sees no acme phone, and acme's phone gets nothing there", async (t2) => {
    const globex = await browser(t2);
    await login(globex.page, 'globex', globexEmail, env.globexPassword);
    await openDeskPhones(globex.page);
    await globex.page.getByText('No desk phones yet').waitFor();
    assert.doesNotMatch(await globex.page.locator('.desk-phones').textContent(), /00:15:65:12:34:56|acme/i);
    const answer = await globex.page.evaluate(async () => (await fetch('/api/org/desk-phones')).json());
    assert.deepEqual(answer.phones, []);
    const cross = await phoneFetch(`http://pbx.globex.localhost:${env.port}/provision/device/001565123456.cfg`, user, password);
    assert.equal(cross.status, 401);
    await shot(globex.page, 'desk-phones-globex', { fullPage: false });
    assert.deepEqual(globex.errors, []);
  });

  await t.test('Remove after a confirmation: gone from the list; its next file has no account', async () => {
    await page.getByLabel('MAC address').fill('');
    // Back on 101 first: the removal is what takes the account away.
    await row(page).getByLabel('Extension').selectOption('101');
    await row(page).locator('.dp-state[data-state="ready"]').waitFor();
    await row(page).getByRole('button', { name: 'Remove…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove this phone?' });
    await dialog.getByText(`${MAC} (Yealink T4x / T5x, extension 101). The phone forgets its account at its next check.`).waitFor();
    await shot(page, 'desk-phones-remove-confirm', { fullPage: false });
    await dialog.getByRole('button', { name: 'Remove phone' }).click();
    await row(page).waitFor({ state: 'detached' });
    await page.getByText('No desk phones yet').waitFor();
    const cfg = yealink((await phoneFetch(`${url}001565123456.cfg`, user, password)).body);
    assert.equal(cfg['account.1.enable'], '0');
    assert.notEqual(cfg['account.1.user_name'], '101');
  });

  assert.deepEqual(errors, []);
});
