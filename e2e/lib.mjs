// Shared by the browser tests: the server run.sh started, a fresh Chromium per test file,
// screenshots into e2e/artifacts/, and the page errors every test must not have.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const artifacts = path.join(here, 'artifacts');
export const fixtures = path.join(here, 'fixtures');

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with e2e/run.sh`);
  return value;
}

export const env = {
  get port() { return need('E2E_PORT'); },
  get apiKey() { return need('E2E_API_KEY'); },
  get acmePassword() { return need('E2E_ACME_PASSWORD'); },
  get globexPassword() { return need('E2E_GLOBEX_PASSWORD'); },
  /** FreeSWITCH's basic-auth password for /fs/cdr (user `freeswitch`). */
  get fsPassword() { return need('E2E_FS_PASSWORD'); },
};

export const acmeEmail = 'admin@acme.example';
export const globexEmail = 'admin@globex.example';
export const orgUrl = (slug, p = '/') => `http://pbx.${slug}.localhost:${env.port}${p}`;
export const plainUrl = (p = '/') => `http://127.0.0.1:${env.port}${p}`;

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };

/** A fresh browser profile; `errors` collects uncaught page errors and failed app requests. */
export async function browser(t, { viewport = DESKTOP, timezoneId } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lpbx-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    viewport,
    timezoneId,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(10_000);
  const errors = [];
  context.on('weberror', (e) => errors.push(`page error: ${e.error().message}`));
  context.on('console', (m) => {
    if (m.type() === 'error' && !/status of (401|404|409|415|422|429)/.test(m.text())) {
      errors.push(`console: ${m.text()}`);
    }
  });
  t.after(async () => {
    await context.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, errors };
}

/** A screenshot of the whole page (or of the viewport only: `{ fullPage: false }`). */
export async function shot(page, name, { fullPage = true } = {}) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage });
}

export async function login(page, slug, email, password) {
  await page.goto(orgUrl(slug, '/login'));
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Extensions' }).waitFor();
}

/**
 * A GET to the server for `host` (node's fetch may not set Host, and `*.localhost` names need
 * not resolve outside the browser).
 */
export function getFor(host, p, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: env.port, path: p, method: 'GET',
      headers: { host: `${host}:${env.port}`, ...headers },
    }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The provider API, as a script would call it. */
export async function providerApi(method, p, body) {
  const response = await fetch(plainUrl(`/api/v1${p}`), {
    method,
    headers: { authorization: `Bearer ${env.apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}
