// The History page end to end: two Applies show as sentences, restoring the earlier version
// (preview, the passwords kept, a conflict when the draft changed meanwhile), the restored
// draft on the PBX page and its Apply; another org's admin sees none of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acmeEmail, browser, env, globexEmail, login, orgUrl, shot } from '../lib.mjs';

const banner = (page) => page.locator('.banner');
const entry = (page, version) => page.locator(`article.entry[data-version="${version}"]`);
const card = (page, n) => page.locator(`#ext-${n}`);

async function openCard(page, n) {
  const details = card(page, n).locator('details');
  if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click();
}

async function saved(page, id) {
  await page.locator(`#${id}-status .fstatus`).filter({ hasText: 'Saved' }).waitFor();
}

/** The applied version the PBX page's banner names once everything is applied. */
async function appliedVersion(page) {
  const done = banner(page).filter({ hasText: 'All changes are applied' });
  await done.waitFor({ timeout: 20_000 });
  return Number((await done.textContent()).match(/version (\d+)/)[1]);
}

/** Apply without waiting for calls; the new applied version. */
async function applyNow(page) {
  await page.getByRole('button', { name: 'Apply…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Apply the changes' });
  const wait = dialog.getByLabel('Wait until calls in progress have ended');
  if (await wait.isChecked()) await wait.click();
  await dialog.getByRole('button', { name: 'Apply now' }).click();
  return appliedVersion(page);
}

/** Discards changes other tests left in the draft. */
async function discardPending(page) {
  await banner(page).filter({ hasText: /applied/ }).waitFor();
  if (!/not applied yet/.test(await banner(page).textContent())) return;
  await page.getByRole('button', { name: 'Discard changes…' }).click();
  await page.getByRole('dialog', { name: 'Discard the changes?' }).getByRole('button', { name: 'Discard changes' }).click();
}

async function hideSecret(page) {
  await page.locator('.secret').getByRole('button', { name: 'Done, hide it' }).click();
  await page.locator('.secret').waitFor({ state: 'detached' });
}

async function openHistory(page) {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'History' }).click();
  await page.getByRole('heading', { name: 'History', level: 1 }).waitFor();
  await page.locator('article.entry').first().waitFor();
}

test('the History page: Applies in sentences, restore into the draft, other orgs see nothing', async (t) => {
  const { context, page, errors } = await browser(t);
  await login(page, 'acme', acmeEmail, env.acmePassword);
  await discardPending(page);
  const first = await appliedVersion(page);
  let added;
  let changed;
  let ring;

  await t.test('two Applies: an extension added, then its ring time and SIP password changed', async () => {
    await page.getByLabel('Number', { exact: true }).fill('150');
    await page.getByLabel('Name', { exact: true }).fill('Hilda History');
    await page.getByRole('button', { name: 'Add extension' }).click();
    await hideSecret(page);
    added = await applyNow(page);
    assert.ok(added > first, `${added} after ${first}`);
    await openCard(page, '150');
    ring = await page.locator('#ext-150-ring').inputValue();
    await page.locator('#ext-150-ring').fill('35');
    await page.locator('#ext-150-ring').press('Tab');
    await saved(page, 'ext-150-ring');
    await card(page, '150').getByRole('button', { name: 'New SIP password…' }).click();
    await page.getByRole('dialog', { name: 'New SIP password for 150?' })
      .getByRole('button', { name: 'Make a new password' }).click();
    await hideSecret(page);
    changed = await applyNow(page);
    assert.ok(changed > added);
  });

  await t.test('History lists them newest first, in sentences, with who and when', async () => {
    await openHistory(page);
    const versions = await page.locator('article.entry').evaluateAll((els) => els.map((e) => Number(e.dataset.version)));
    assert.deepEqual(versions.slice(0, 2), [changed, added]);
    const newest = entry(page, changed);
    assert.match(await newest.locator('h2').textContent(), new RegExp(`Version ${changed}`));
    assert.match(await newest.locator('.meta').textContent(), /^(Today|Yesterday) \d\d:\d\d · by admin@acme\.example$/);
    await newest.locator('li').filter({
      hasText: `Extension 150 'Hilda History': rings 35 s instead of ${ring} s, then voicemail; new SIP password.`,
    }).waitFor();
    await entry(page, added).locator('li').filter({ hasText: "Extension 150 'Hilda History' added" }).waitFor();
    await newest.getByRole('button', { name: 'Restore this version…' }).waitFor();
    await shot(page, 'history-list');
  });

  await t.test('restore: the preview says what the draft becomes; passwords are kept unless unchecked', async () => {
    const older = entry(page, added);
    await older.getByRole('button', { name: 'Restore this version…' }).click();
    const panel = older.locator('.restore-panel');
    await panel.getByRole('heading', { name: `Restore version ${added} into the draft?` }).waitFor();
    await panel.locator('li').filter({
      hasText: `Extension 150 'Hilda History': rings ${ring} s instead of 35 s, then voicemail.`,
    }).waitFor();
    const keep = panel.getByLabel('Keep the current passwords');
    assert.equal(await keep.isChecked(), true);
    await panel.getByText(`Extension 150 has a different SIP password or voicemail PIN in version ${added}.`).waitFor();
    await keep.uncheck();
    const warning = panel.getByRole('alert').filter({ hasText: 'would stop registering' });
    await warning.waitFor();
    await shot(page, 'history-restore-panel');
    await keep.check();
    await warning.waitFor({ state: 'hidden' });
  });

  await t.test('the draft changed meanwhile: a plain conflict, and the preview is loaded again', async () => {
    const other = await context.newPage();
    await other.goto(orgUrl('acme'));
    await openCard(other, '150');
    await other.locator('#ext-150-name').fill('Hilda H.');
    await other.locator('#ext-150-name').press('Enter');
    await saved(other, 'ext-150-name');
    await other.close();
    const panel = entry(page, added).locator('.restore-panel');
    await panel.getByRole('button', { name: 'Restore into draft' }).click();
    await panel.getByRole('alert').filter({ hasText: 'Someone changed the draft meanwhile' }).waitFor();
    await panel.locator('li').filter({ hasText: "was 'Hilda H.'" }).waitFor();
  });

  await t.test('restore into the draft: nothing changes for the phones until Apply', async () => {
    const older = entry(page, added);
    await older.locator('.restore-panel').getByRole('button', { name: 'Restore into draft' }).click();
    const done = older.locator('.restored');
    await done.filter({ hasText: `The draft now holds version ${added}.` }).waitFor();
    assert.match(await done.textContent(), /Nothing changes for the phones until you press Apply/);
    await done.locator('li').filter({ hasText: `rings ${ring} s instead of 35 s` }).waitFor();
    await older.locator('.restore-panel').waitFor({ state: 'detached' });
    await shot(page, 'history-restored', { fullPage: false });
    await done.getByRole('link', { name: 'Go to the PBX page' }).click();
    await banner(page).filter({ hasText: `1 change not applied yet. The phones still use version ${changed}.` }).waitFor();
    await openCard(page, '150');
    assert.equal(await page.locator('#ext-150-ring').inputValue(), ring);
    assert.equal(await page.locator('#ext-150-name').inputValue(), 'Hilda History');
  });

  await t.test('Apply the restored version: a new entry in the history', async () => {
    const restored = await applyNow(page);
    assert.ok(restored > changed);
    await openHistory(page);
    await entry(page, restored).locator('li').filter({
      hasText: `Extension 150 'Hilda History': rings ${ring} s instead of 35 s, then voicemail.`,
    }).waitFor();
    // The SIP password was kept: the new version does not name it.
    assert.doesNotMatch(await entry(page, restored).textContent(), /SIP password/);
  });

  await t.test("another org's admin sees only its own history", async (t2) => {
    const globex = await browser(t2);
    await login(globex.page, 'globex', globexEmail, env.globexPassword);
    await openHistory(globex.page);
    const text = await globex.page.locator('.history').textContent();
    assert.doesNotMatch(text, /Hilda|acme/i);
    const answer = await globex.page.evaluate(async (v) => {
      const r = await fetch(`/api/org/history/${v}`);
      return r.status;
    }, changed);
    assert.equal(answer, 404);
    await shot(globex.page, 'history-globex', { fullPage: false });
    assert.deepEqual(globex.errors, []);
  });

  assert.deepEqual(errors, []);
});
