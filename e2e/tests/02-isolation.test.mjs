// A second org's admin sees only their own org, and their session opens nothing of the first
// org's, whatever host it is sent to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { browser, env, globexEmail, login, orgUrl, shot } from '../lib.mjs';

/** A request to the server for `host`, with `cookie` (node's fetch may not set Host). */
function requestFor(host, path, cookie) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: env.port, path, method: 'GET',
      headers: { host: `${host}:${env.port}`, cookie },
    }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test("a second org's admin cannot see the first org's data", async (t) => {
  const { context, page, errors } = await browser(t);
  await login(page, 'globex', globexEmail, env.globexPassword);
  await page.getByText('Globex Corporation').first().waitFor();
  const numbers = await page.locator('li.ext .ext-number').allTextContents();
  assert.deepEqual(numbers, ['100']);
  assert.equal(await page.getByText('Alice Adams').count(), 0);
  assert.equal(await page.getByText('+15550100100').count(), 0);
  await shot(page, 'globex-pbx');

  const [session] = (await context.cookies(orgUrl('globex'))).filter((c) => c.name === 'lpbx_session');
  assert.ok(session, 'a session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  const cookie = `lpbx_session=${session.value}`;

  // The same session sent to acme's host opens nothing there.
  const own = await requestFor('pbx.globex.localhost', '/api/org/pbx', cookie);
  assert.equal(own.status, 200);
  const foreign = await requestFor('pbx.acme.localhost', '/api/org/pbx', cookie);
  assert.equal(foreign.status, 401, foreign.body);
  assert.ok(!foreign.body.includes('Alice'));

  // In the browser too: the cookie planted on acme's host is no session there.
  await context.addCookies([{ name: 'lpbx_session', value: session.value, domain: 'pbx.acme.localhost', path: '/' }]);
  await page.goto(orgUrl('acme'));
  await page.waitForURL(/\/login$/);
  await page.getByText('Acme Inc.').first().waitFor();
  assert.equal(await page.getByText('Alice Adams').count(), 0);
  assert.deepEqual(errors, []);
});
