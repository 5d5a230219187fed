// Test harness: starts the invite-page binary on an ephemeral port with a fresh SQLite
// file, launches Debian's headless Chromium through playwright-core, and offers small
// helpers that drive the page the way a person does. Tests assert on stable data
// attributes (data-code, data-hint, data-status, data-seat…), never on message text.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');

/** The binary under test (scripts/test-page builds it and sets INVITE_PAGE_BIN). */
export const BIN =
  process.env.INVITE_PAGE_BIN ||
  path.join(process.env.CARGO_TARGET_DIR || path.join(repo, 'target'), 'debug', 'invite-page');

/** Where screenshots go (git-ignored). */
export const ARTIFACTS = process.env.PAGE_ARTIFACTS || path.join(repo, 'artifacts', 'page');

const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Starts the page. Returns { url, stop, output }.
 * @param {string[]} extraArgs more flags (e.g. ['--base-url', '…'])
 */
export async function startServer(extraArgs = []) {
  const dir = mkdtempSync(path.join(tmpdir(), 'invite-page-'));
  const args = [
    '--port', '0',
    '--store', `sqlite:${path.join(dir, 'page.sqlite')}`,
    '--resend-cooldown-secs', '0',
    ...extraArgs,
  ];
  const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, INVITE_OUTBOX_KEY: '' } });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`invite-page did not start:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      const m = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (c) => { output += c; });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`invite-page exited with ${code}:\n${output}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { url, stop, output: () => output };
}

/** Launches headless Chromium. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
}

/**
 * One test's world: a fresh server and a fresh browser context.
 * Usage: const w = await world(browser); … await w.close();
 */
export async function world(browser, extraArgs = []) {
  const server = await startServer(extraArgs);
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1100, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const close = async () => {
    await context.close();
    await server.stop();
  };
  return { server, context, page, url: server.url, close };
}

/** Saves a full-page screenshot as artifacts/page/<name>.png. */
export async function shot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Runs `act` and waits for the page it causes to load. */
export async function navigating(page, act) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), act()]);
}

/** Chooses an option of a cascade select by its visible text (starting with `label`). */
export async function choose(page, name, label) {
  const option = page.locator(`select[name="${name}"] option`).filter({ hasText: label }).first();
  const value = await option.getAttribute('value');
  if (value === null) throw new Error(`no option ${label} in ${name}`);
  await navigating(page, () => page.selectOption(`select[name="${name}"]`, value));
}

/** Searches the user directory. */
export async function search(page, text) {
  await page.fill('input[name="user_query"]', text);
  await navigating(page, () => page.click('button[name="action"][value="search"]'));
}

/** Picks an existing user from the list by (part of) its text. */
export async function pickUser(page, text) {
  await choose(page, 'user_id', text);
}

/** Switches to "add new user" and fills the three fields (without submitting). */
export async function newUser(page, first, last, email) {
  if ((await page.getAttribute('#invite-form', 'data-mode')) !== 'new') {
    await navigating(page, () => page.check('input[name="mode"][value="new"]'));
  }
  await page.fill('input[name="first_name"]', first);
  await page.fill('input[name="last_name"]', last);
  await page.fill('input[name="email"]', email);
}

/** Business → app → subscription → role, each by its visible text. */
export async function place(page, { business, app, subscription, role }) {
  if (business) await choose(page, 'business_id', business);
  if (app) await choose(page, 'app_id', app);
  if (subscription) await choose(page, 'subscription_id', subscription);
  if (role) await choose(page, 'role_id', role);
}

/** Clicks Send Invitation. */
export async function send(page) {
  await navigating(page, () => page.click('[data-testid="send"]'));
}

/** The seat information as numbers (or 'unlimited'). */
export async function seats(page) {
  const el = page.locator('[data-testid="seats"]');
  const read = async (k) => {
    const v = await el.getAttribute(`data-${k}`);
    return v === 'unlimited' ? v : Number(v);
  };
  return {
    total: await read('total'),
    used: await read('used'),
    reserved: await read('reserved'),
    available: await read('available'),
    unlimited: (await el.getAttribute('data-unlimited')) === 'true',
  };
}

/** The codes of the field errors shown next to `field`. */
export async function errorCodes(page, field) {
  return page.locator(`p.error[data-field="${field}"]`).evaluateAll((els) => els.map((e) => e.dataset.code));
}

/** The hint codes shown next to `field`. */
export async function hintCodes(page, field) {
  return page.locator(`p.hint[data-field="${field}"]`).evaluateAll((els) => els.map((e) => e.dataset.hint));
}

/** Waits until the mailbox holds `count` emails to `to`; returns their accept links, newest first. */
export async function mailFor(page, to, count = 1) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    await page.goto('/mailbox');
    const links = await page
      .locator(`article[data-testid="email"][data-to="${to}"] a[data-testid="accept-link"]`)
      .evaluateAll((els) => els.map((a) => a.href));
    if (links.length >= count) return links;
    if (Date.now() > deadline) throw new Error(`no email to ${to} after 15 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The invitations-list row of `email` (the newest one). */
export function invitationRow(page, email) {
  return page.locator(`tr[data-email="${email}"]`).first();
}
