// The PBX page end to end: add an extension, edit its call flow, reload, Apply (with Stop while
// waiting), Discard, validation issues next to their fields, a conflict, Reset, music on hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { acmeEmail, browser, env, fixtures, login, orgUrl, shot, PHONE } from '../lib.mjs';

const banner = (page) => page.locator('.banner');
const status = (page, id) => page.locator(`#${id}-status .fstatus`);
const card = (page, n) => page.locator(`#ext-${n}`);

async function openCard(page, n) {
  const details = card(page, n).locator('details');
  if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click();
}

async function saved(page, id) {
  await status(page, id).filter({ hasText: 'Saved' }).waitFor();
}

async function applyNow(page, { wait }) {
  await page.getByRole('button', { name: 'Apply…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Apply the changes' });
  await dialog.waitFor();
  const box = dialog.getByLabel('Wait until calls in progress have ended');
  if ((await box.isChecked()) !== wait) await box.click();
  await dialog.getByRole('button', { name: 'Apply now' }).click();
}

test('the PBX page: edit, apply, discard, issues, conflicts, reset, music on hold', async (t) => {
  const { context, page, errors } = await browser(t);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: orgUrl('acme', '').replace(/\/$/, '') });
  await login(page, 'acme', acmeEmail, env.acmePassword);
  await banner(page).filter({ hasText: 'All changes are applied' }).waitFor();

  await t.test('add an extension: its SIP password is shown once, with a copy button', async () => {
    await page.getByLabel('Number', { exact: true }).fill('104');
    await page.getByLabel('Name', { exact: true }).fill('Dave Davis');
    await page.getByRole('button', { name: 'Add extension' }).click();
    const secret = page.locator('.secret').filter({ hasText: 'Extension 104 (Dave Davis) is ready' });
    await secret.waitFor();
    const password = (await secret.locator('.secret-line', { hasText: 'SIP password' }).locator('code').textContent()).trim();
    assert.ok(password.length >= 12, `a real password: ${password}`);
    await secret.getByRole('button', { name: 'Copy SIP password' }).click();
    await secret.getByRole('button', { name: 'Copy SIP password' }).filter({ hasText: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), password);
    await banner(page).filter({ hasText: '1 change not applied yet' }).waitFor();
    await shot(page, 'extension-added');
    await secret.getByRole('button', { name: 'Done, hide it' }).click();
    await secret.waitFor({ state: 'detached' });
  });

  await t.test('edit its call flow; every field saves itself', async () => {
    await openCard(page, '104');
    const ring = page.locator('#ext-104-ring');
    await ring.fill('30');
    await ring.press('Tab');
    await saved(page, 'ext-104-ring');
    await page.locator('#ext-104-action').selectOption('forward_external');
    await status(page, 'ext-104-action').filter({ hasText: 'Enter the outside number' }).waitFor();
    const target = page.locator('#ext-104-target');
    await target.fill('+4930123456');
    await target.press('Tab');
    await saved(page, 'ext-104-target');
    await page.locator('#ext-104-dnd').check();
    await saved(page, 'ext-104-dnd');
    await page.locator('#ext-104-target').scrollIntoViewIfNeeded();
    await shot(page, 'extension-call-flow', { fullPage: false });
  });

  await t.test('reload: the call flow was saved, still 1 change not applied', async () => {
    await page.reload();
    await openCard(page, '104');
    assert.equal(await page.locator('#ext-104-ring').inputValue(), '30');
    assert.equal(await page.locator('#ext-104-action').inputValue(), 'forward_external');
    assert.equal(await page.locator('#ext-104-target').inputValue(), '+4930123456');
    assert.equal(await page.locator('#ext-104-dnd').isChecked(), true);
    await banner(page).filter({ hasText: '1 change not applied yet' }).waitFor();
  });

  await t.test('Apply waiting for calls can be stopped; nothing changes', async () => {
    await applyNow(page, { wait: true });
    const job = page.locator('.job-state');
    await job.filter({ hasText: 'Waiting for' }).waitFor();
    await shot(page, 'apply-waiting', { fullPage: false });
    await page.getByRole('button', { name: 'Stop: do not apply' }).click();
    await job.filter({ hasText: 'Stopped. Nothing was changed.' }).waitFor();
    await banner(page).filter({ hasText: '1 change not applied yet' }).waitFor();
  });

  await t.test('Apply without waiting: done', async () => {
    await applyNow(page, { wait: false });
    await page.locator('.job-state[data-state="done"]').waitFor({ timeout: 20_000 });
    await banner(page).filter({ hasText: 'All changes are applied' }).waitFor();
    await shot(page, 'apply-done', { fullPage: false });
  });

  await t.test('Discard after a confirmation puts the applied settings back', async () => {
    await openCard(page, '104');
    const name = page.locator('#ext-104-name');
    await name.fill('Dave D. (temp)');
    await name.press('Enter');
    await saved(page, 'ext-104-name');
    await banner(page).filter({ hasText: '1 change not applied yet' }).waitFor();
    await page.getByRole('button', { name: 'Discard changes…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Discard the changes?' });
    await dialog.waitFor();
    await shot(page, 'discard-confirm', { fullPage: false });
    await dialog.getByRole('button', { name: 'Discard changes' }).click();
    await banner(page).filter({ hasText: 'All changes are applied' }).waitFor();
    await openCard(page, '104');
    assert.equal(await page.locator('#ext-104-name').inputValue(), 'Dave Davis');
  });

  await t.test('a DID rings the extension chosen', async () => {
    await page.locator('#did-15550100100').selectOption('104');
    await saved(page, 'did-15550100100');
  });

  await t.test('deleting a forward target: the issue shows next to the field, Apply is refused', async () => {
    await openCard(page, '102');
    await page.locator('#ext-102-action').selectOption('forward_extension');
    await saved(page, 'ext-102-action');
    await page.locator('#ext-102-target').selectOption('104');
    await saved(page, 'ext-102-target');
    await openCard(page, '104');
    await card(page, '104').getByRole('button', { name: 'Delete extension…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete extension 104?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Delete extension' }).click();
    await card(page, '104').waitFor({ state: 'detached' });
    const issue = page.locator('#ext-102-target-issues li');
    await issue.first().waitFor();
    assert.match(await issue.first().textContent(), /104/);
    await page.locator('#did-15550100100-issues li').first().waitFor();
    await banner(page).filter({ hasText: 'must be fixed before Apply' }).waitFor();
    await applyNow(page, { wait: false });
    await page.getByRole('alert').filter({ hasText: 'Not applied' }).waitFor();
    await shot(page, 'apply-refused-issues');
    // Undo it all.
    await page.getByRole('button', { name: 'Discard changes…' }).click();
    await page.getByRole('dialog', { name: 'Discard the changes?' }).getByRole('button', { name: 'Discard changes' }).click();
    await banner(page).filter({ hasText: 'All changes are applied' }).waitFor();
    await card(page, '104').waitFor();
  });

  await t.test('an edit made elsewhere meanwhile is a plain conflict, with a reload', async () => {
    const other = await context.newPage();
    await other.goto(orgUrl('acme'));
    await openCard(other, '103');
    await openCard(page, '103');
    const mine = page.locator('#ext-103-name');
    const theirs = other.locator('#ext-103-name');
    await theirs.fill('Carol (changed elsewhere)');
    await theirs.press('Enter');
    await saved(other, 'ext-103-name');
    await other.close();
    await mine.fill('Carol (mine)');
    await mine.press('Enter');
    const conflict = status(page, 'ext-103-name').filter({ hasText: 'someone changed this elsewhere' });
    await conflict.waitFor();
    // What the admin typed stays until they choose to reload.
    assert.equal(await mine.inputValue(), 'Carol (mine)');
    await mine.scrollIntoViewIfNeeded();
    await shot(page, 'conflict', { fullPage: false });
    await conflict.getByRole('button', { name: 'Reload to see the current settings' }).click();
    await page.waitForFunction(() => document.querySelector('#ext-103-name')?.value === 'Carol (changed elsewhere)');
    await conflict.waitFor({ state: 'detached' });
  });

  await t.test('a value the server refuses is shown next to its field', async () => {
    await openCard(page, '101');
    const email = page.locator('#ext-101-email');
    await email.fill('not an e-mail address');
    await email.press('Tab');
    await status(page, 'ext-101-email').filter({ hasText: 'Not saved' }).waitFor();
    assert.equal(await email.getAttribute('aria-invalid'), 'true');
    await shot(page, 'field-error', { fullPage: false });
    await email.fill('alice@acme.example');
    await email.press('Tab');
    await saved(page, 'ext-101-email');
  });

  await t.test('a new SIP password is shown once', async () => {
    await card(page, '101').getByRole('button', { name: 'New SIP password…' }).click();
    const dialog = page.getByRole('dialog', { name: 'New SIP password for 101?' });
    await dialog.getByRole('button', { name: 'Make a new password' }).click();
    const secret = card(page, '101').locator('.secret').filter({ hasText: 'New SIP password of extension 101' });
    await secret.waitFor();
    const password = (await secret.locator('.secret-line', { hasText: 'SIP password' }).locator('code').textContent()).trim();
    assert.ok(password.length >= 12, password);
    await secret.getByRole('button', { name: 'Done, hide it' }).click();
    await secret.waitFor({ state: 'detached' });
  });

  await t.test('Reset: says what it does, then shows the new reception credentials once', async () => {
    await page.getByRole('button', { name: 'Reset to defaults…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reset to the default settings?' });
    await dialog.getByText('All extensions are removed').waitFor();
    await shot(page, 'reset-confirm', { fullPage: false });
    await dialog.getByRole('button', { name: 'Reset to defaults' }).click();
    const secret = page.locator('.secret').filter({ hasText: 'Reset done' });
    await secret.waitFor();
    assert.match(await secret.textContent(), /100/);
    await card(page, '101').waitFor({ state: 'detached' });
    assert.deepEqual(await page.locator('li.ext .ext-number').allTextContents(), ['100']);
    await banner(page).filter({ hasText: 'not applied yet' }).waitFor();
    await shot(page, 'reset-done');
  });

  await t.test('music on hold: an MP3 upload, and a clear message for a file that is not audio', async () => {
    const notAudio = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lpbx-')), 'song.mp3');
    fs.writeFileSync(notAudio, 'this is not audio at all\n');
    await page.locator('#moh-file').setInputFiles(notAudio);
    await status(page, 'moh-file').filter({ hasText: 'Not saved' }).waitFor();
    await page.locator('#moh-file').setInputFiles(path.join(fixtures, 'hold-music.mp3'));
    await status(page, 'moh-file').filter({ hasText: 'Saved' }).waitFor({ timeout: 20_000 });
    await page.getByText('Your own music is used.').waitFor();
    await page.locator('#moh-enabled').uncheck();
    await saved(page, 'moh-enabled');
    await shot(page, 'moh-uploaded');
  });

  assert.deepEqual(errors, []);
});

test('the PBX page on a phone', async (t) => {
  const { page, errors } = await browser(t, { viewport: PHONE });
  await login(page, 'acme', acmeEmail, env.acmePassword);
  await shot(page, 'pbx-phone-top', { fullPage: false });
  await openCard(page, '100');
  await shot(page, 'pbx-phone');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is wider than the phone by ${overflow}px`);
  // Keyboard: the first Tab offers to skip to the content.
  await page.reload();
  await page.getByRole('heading', { name: 'Extensions' }).waitFor();
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
  assert.match(focused, /Skip to the content/);
  assert.deepEqual(errors, []);
});
