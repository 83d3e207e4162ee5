// The Statistics page against call records posted as FreeSWITCH posts them: totals, the
// busiest-hours chart, per extension and per number, the recent calls a page at a time, the
// live view's note when FreeSWITCH cannot be asked; and another org's admin sees none of it.
// The browser runs in Asia/Kolkata (UTC+05:30, no summer time), so days and hours are the
// page's time zone, not the server's.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { acmeEmail, browser, env, globexEmail, login, shot, PHONE } from '../lib.mjs';
import { MINUTE, answered, billsec, call, missed, post } from '../cdr.mjs';

const TZ = 'Asia/Kolkata';
const OFFSET = 330 * MINUTE;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const localDay = (ms) => Math.floor((ms + OFFSET) / DAY);
const localHour = (ms) => Math.floor((((ms + OFFSET) % DAY) + DAY) % DAY / HOUR);

const now = Date.now();
const midnight = localDay(now) * DAY - OFFSET;
// Today's calls lie between local midnight and now, at most five minutes apart.
const step = Math.min(5 * MINUTE, Math.floor((now - midnight) / 10));
const today = (i) => now - (i + 1) * step;
const DID = '+15550100100';

const acme = [
  call('acme', 'e2e-acme-01', 'internal', today(0), { ext: '101', other: '102', talk: 125 }),
  call('acme', 'e2e-acme-02', 'inbound', today(1), { ext: '102', other: '+4930555123', did: DID, voicemail: 22 }),
  call('acme', 'e2e-acme-03', 'outbound', today(2), { ext: '101', other: '+4989123456', did: DID, talk: 95 }),
  call('acme', 'e2e-acme-04', 'inbound', today(3), { ext: '101', other: '+4930555999', did: DID, talk: 61 }),
  call('acme', 'e2e-acme-05', 'internal', today(4), { ext: '102', other: '*97', talk: 30 }),
  call('acme', 'e2e-acme-06', 'outbound', today(5), { ext: '103', other: '+4989000000' }),
  call('acme', 'e2e-acme-07', 'internal', today(6), { ext: '103', other: '101' }),
  call('acme', 'e2e-acme-08', 'inbound', today(7), { ext: '103', other: '+4930555000', did: DID }),
  call('acme', 'e2e-acme-09', 'inbound', now - 2 * DAY, { ext: '101', other: '+4930555777', did: DID, talk: 300 }),
  call('acme', 'e2e-acme-10', 'outbound', now - 5 * DAY, { ext: '102', other: '+4940111222', did: DID, talk: 185 }),
  call('acme', 'e2e-acme-11', 'inbound', now - 20 * DAY, { ext: '102', other: '+4930555888', did: DID }),
  call('acme', 'e2e-acme-12', 'internal', now - 20 * DAY - HOUR, { ext: '101', other: '103', talk: 40 }),
];
const globex = [
  call('globex', 'e2e-globex-01', 'inbound', today(2) + 30_000, { ext: '100', other: '+4930000001', did: '+15550200200', talk: 600 }),
];

const PERIODS = [
  { label: 'Today', days: 1 },
  { label: 'Last 7 days', days: 7 },
  { label: 'Last 30 days', days: 30 },
];
const inPeriod = (calls, days) => calls.filter((c) => localDay(c.startMs) > localDay(now) - days);
const minutes = (s) => Math.floor((s + 30) / 60);

function expectedTotals(calls) {
  const secondsIn = calls.filter((c) => c.kind === 'inbound').reduce((s, c) => s + billsec(c), 0);
  const secondsOut = calls.filter((c) => c.kind === 'outbound').reduce((s, c) => s + billsec(c), 0);
  return {
    calls: calls.length,
    answered: calls.filter(answered).length,
    missed: calls.filter(missed).length,
    minutes_in: minutes(secondsIn),
    minutes_out: minutes(secondsOut),
  };
}

/** Per extension: [calls, in, out, internal, missed, minutes], as the table shows them. */
function expectedExtensions(calls) {
  const rows = new Map();
  const add = (ext, column, c, isMissed) => {
    const row = rows.get(ext) ?? { calls: 0, in: 0, out: 0, internal: 0, missed: 0, seconds: 0 };
    row.calls += 1;
    row[column] += 1;
    row.missed += isMissed ? 1 : 0;
    row.seconds += billsec(c);
    rows.set(ext, row);
  };
  for (const c of calls) {
    if (c.kind === 'inbound') add(c.ext, 'in', c, missed(c));
    else if (c.kind === 'outbound') add(c.ext, 'out', c, false);
    else {
      add(c.ext, 'internal', c, false);
      if (!c.other.startsWith('*')) add(c.other, 'internal', c, missed(c));
    }
  }
  return Object.fromEntries([...rows].map(([ext, r]) =>
    [ext, [r.calls, r.in, r.out, r.internal, r.missed, minutes(r.seconds)].map(String)]));
}

function expectedHours(calls) {
  const hours = {};
  for (const c of calls) hours[localHour(c.startMs)] = (hours[localHour(c.startMs)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(hours).map(([h, n]) => [h, String(n)]));
}

before(async () => {
  for (const c of [...acme, ...globex]) {
    const { status, body } = await post(c);
    assert.equal(status, 200, `${c.uuid}: ${body}`);
    assert.equal(body, 'stored\n', c.uuid);
  }
});

const tile = (page, key) => page.locator(`.tile[data-key="${key}"] dd`);
// Every card done loading (several may load at once: a strict locator would refuse two).
const idle = (page) => page.waitForFunction(() => !document.querySelector('.stats section[aria-busy="true"]'));

async function openStats(page, slug, email, password) {
  await login(page, slug, email, password);
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Statistics' }).click();
  await page.getByRole('heading', { name: 'Statistics', level: 1 }).waitFor();
  await tile(page, 'calls').waitFor();
}

test('the Statistics page shows exactly the posted calls', async (t) => {
  const { page, errors } = await browser(t, { timezoneId: TZ });
  await openStats(page, 'acme', acmeEmail, env.acmePassword);
  assert.equal(new URL(page.url()).pathname, '/statistics');

  for (const { label, days } of PERIODS) {
    await t.test(`${label}: totals, busiest hours, per extension, per number`, async () => {
      const calls = inPeriod(acme, days);
      await page.getByRole('group', { name: 'Period' }).getByRole('button', { name: label }).click();
      await page.getByRole('button', { name: label, pressed: true }).waitFor();
      const totals = expectedTotals(calls);
      await tile(page, 'calls').filter({ hasText: new RegExp(`^${totals.calls}$`) }).waitFor();
      await idle(page);
      for (const [key, value] of Object.entries(totals)) {
        assert.equal(await tile(page, key).textContent(), String(value), `${label} ${key}`);
      }

      // The chart: one bar per hour with calls, as tall as its count; described for screen readers.
      const chart = page.getByRole('img', { name: /Busiest hours/ });
      await chart.waitFor();
      const bars = await page.locator('svg.hours-chart rect.bar').evaluateAll((rs) =>
        Object.fromEntries(rs.map((r) => [r.dataset.hour, r.dataset.calls])));
      assert.deepEqual(bars, expectedHours(calls), label);
      const described = await page.locator('svg.hours-chart desc').textContent();
      assert.match(described, new RegExp(`${calls.length} calls in all`));
      const tableRows = await page.locator('details.chart-table tbody tr').count();
      assert.equal(tableRows, 24);

      const rows = await page.locator('table.ext-stats tbody tr').evaluateAll((trs) =>
        Object.fromEntries(trs.map((tr) => [tr.dataset.extension, [...tr.querySelectorAll('td')].map((td) => td.textContent)])));
      assert.deepEqual(rows, expectedExtensions(calls), label);
      await page.locator('table.ext-stats tr[data-extension="101"]').getByText('Alice Adams').waitFor();

      const did = await page.locator(`table.did-stats tr[data-did="${DID}"] td`).allTextContents();
      const inbound = calls.filter((c) => c.kind === 'inbound');
      const outbound = calls.filter((c) => c.kind === 'outbound' && c.did === DID);
      assert.deepEqual(did, [
        inbound.length, inbound.filter(answered).length, inbound.filter(missed).length,
        minutes(inbound.reduce((s, c) => s + billsec(c), 0)),
        outbound.length, minutes(outbound.reduce((s, c) => s + billsec(c), 0)),
      ].map(String), label);
      if (days === 7) await shot(page, 'stats-desktop');
    });
  }

  await t.test('recent calls, newest first, ten a page', async () => {
    const table = page.locator('table.calls tbody tr');
    await table.first().waitFor();
    assert.equal(await table.count(), 10);
    const newest = table.first();
    assert.equal(await newest.getAttribute('data-direction'), 'internal');
    assert.match(await newest.textContent(), /101 Alice Adams/);
    assert.match(await newest.locator('td.result').textContent(), /^Answered · 2:05$/);
    const voicemail = table.filter({ hasText: '+4930555123' });
    assert.match(await voicemail.locator('td.result').textContent(), /^Missed · voicemail 0:22$/);
    await table.filter({ hasText: '*97 (voicemail)' }).waitFor();
    await page.getByRole('button', { name: 'Older ›' }).click();
    await page.getByText('Page 2').waitFor();
    await table.filter({ hasText: '+4930555888' }).waitFor();
    assert.equal(await table.count(), 2);
    assert.equal(await page.getByRole('button', { name: 'Older ›' }).isDisabled(), true);
    await page.getByRole('button', { name: '‹ Newer' }).click();
    await page.getByText('Page 1').waitFor();
    await table.filter({ hasText: '+4930555999' }).waitFor();
    assert.equal(await table.count(), 10);
  });

  await t.test('live now: a plain note when the phone system cannot be asked', async () => {
    const live = page.locator('section.live');
    await live.locator('.live-note').filter({ hasText: 'The phone system cannot be reached right now' }).waitFor();
    await live.getByText(/^Checked at \d\d:\d\d:\d\d\.$/).waitFor();
    // Nothing is made up: no figures, no phones while the phone system cannot be asked.
    assert.equal(await live.locator('.tile').count(), 0);
    assert.equal(await live.locator('li.live-ext').count(), 0);
    await live.getByRole('button', { name: 'Check again' }).click();
    await live.locator('.live-note').waitFor();
  });
  assert.deepEqual(errors, []);
});

test('the Statistics page on a phone', async (t) => {
  const { page, errors } = await browser(t, { viewport: PHONE, timezoneId: TZ });
  await openStats(page, 'acme', acmeEmail, env.acmePassword);
  await tile(page, 'calls').filter({ hasText: String(inPeriod(acme, 1).length) }).waitFor();
  await page.locator('svg.hours-chart rect.bar').first().waitFor();
  await page.locator('table.calls tbody tr').first().waitFor();
  await idle(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  await shot(page, 'stats-phone-top', { fullPage: false });
  await shot(page, 'stats-phone');
  assert.deepEqual(errors, []);
});

test("another org's admin sees only their own calls", async (t) => {
  const { page, errors } = await browser(t, { timezoneId: TZ });
  await openStats(page, 'globex', globexEmail, env.globexPassword);
  await tile(page, 'calls').filter({ hasText: /^1$/ }).waitFor();
  await idle(page);
  assert.equal(await tile(page, 'minutes_in').textContent(), '10');
  const rows = page.locator('table.calls tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().textContent(), /\+4930000001/);
  const text = await page.locator('.stats').textContent();
  for (const foreign of ['+4930555123', '+4989123456', DID, 'Alice Adams']) {
    assert.ok(!text.includes(foreign), `globex sees ${foreign}`);
  }
  assert.deepEqual(await page.locator('table.ext-stats tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.extension)), ['100']);
  await shot(page, 'stats-globex');
  assert.deepEqual(errors, []);
});
