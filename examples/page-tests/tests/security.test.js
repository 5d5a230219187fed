// Safe by default: CSRF tokens on every POST, HTML escaping everywhere, accept links
// from the configured base URL only, no resources from anywhere but the binary.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';

import {
  launchBrowser, mailFor, navigating, newUser, pickUser, place, seats, send, world,
} from './harness.js';

const TEAM = { business: 'Acme Corp', app: 'Billing', subscription: 'Team', role: 'Viewer' };

describe('Safe by default', () => {
  let browser;
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  async function withWorld(fn, args) {
    const w = await world(browser, args);
    try { await fn(w.page, w); } finally { await w.close(); }
  }

  it('rejects every POST without the session CSRF token (CSRF_REJECTED), changing nothing', () => withWorld(async (page, w) => {
    await page.goto('/');
    await pickUser(page, 'carol@example.com');
    await place(page, TEAM);
    const csrf = await page.inputValue('#invite-form input[name="csrf"]');
    const form = await page.locator('#invite-form').evaluate((f) => Object.fromEntries(new FormData(f)));

    // The browser's own cookie, but no token, or a wrong one.
    for (const token of [undefined, '', 'x'.repeat(43)]) {
      const data = { ...form, action: 'clear' };
      if (token === undefined) delete data.csrf; else data.csrf = token;
      const response = await page.request.post('/form', { form: data, maxRedirects: 0 });
      assert.equal(response.status(), 403);
      assert.match(await response.text(), /data-code="CSRF_REJECTED"/);
    }
    // Without any cookie at all, even with the right token.
    const stranger = await fetch(`${w.url}/form`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form, action: 'send' }),
      redirect: 'manual',
    });
    assert.equal(stranger.status, 403);

    // Nothing was cleared or sent.
    await page.goto('/');
    assert.equal(await page.locator('[data-testid="selected-user"]').count(), 1);
    assert.equal(await page.inputValue('select[name="subscription_id"]') !== '', true);
    assert.equal((await seats(page)).reserved, 0);

    // The same POST with the token works.
    const ok = await page.request.post('/form', { form: { ...form, csrf, action: 'send' }, maxRedirects: 0 });
    assert.equal(ok.status(), 303);
    await page.goto('/');
    assert.equal(await page.getAttribute('[data-testid="success"]', 'data-code'), 'INVITATION_SENT');

    // Accept, decline, resend and revoke check it too.
    const [link] = await mailFor(page, 'carol@example.com');
    const token = new URL(link).searchParams.get('token');
    for (const path of ['/invitations/accept', '/invitations/decline']) {
      const r = await page.request.post(path, { form: { token }, maxRedirects: 0 });
      assert.equal(r.status(), 403, path);
    }
    // The admin's refusal links back to the console; the invitee's does not.
    const admin = await page.request.post('/form', { form: { ...form, csrf: 'nope' }, maxRedirects: 0 });
    assert.match(await admin.text(), /data-testid="back-to-console"/);
    await page.goto(link);
    await page.locator('form[action="/invitations/accept"] input[name="csrf"]').evaluate((el) => { el.value = 'stale'; });
    await navigating(page, () => page.click('[data-testid="accept"]'));
    assert.equal(await page.getAttribute('[data-testid="error"]', 'data-code'), 'CSRF_REJECTED');
    assert.equal(await page.locator('[data-testid="back-to-console"]').count(), 0);
    await page.goto(link);
    assert.equal(await page.getAttribute('[data-testid="invitation"]', 'data-status'), 'pending');
    await page.goto('/invitations');
    const row = page.locator('tr[data-email="carol@example.com"]');
    const ids = {
      business_id: await row.locator('input[name="business_id"]').first().inputValue(),
      invitation_id: await row.locator('input[name="invitation_id"]').first().inputValue(),
    };
    for (const path of ['/invitations/resend', '/invitations/revoke']) {
      const r = await page.request.post(path, { form: { ...ids, csrf: 'nope' }, maxRedirects: 0 });
      assert.equal(r.status(), 403, path);
    }
    await page.goto('/invitations');
    assert.equal(await row.getAttribute('data-status'), 'pending');
    assert.equal(await row.locator('[data-event="resent"]').count(), 0);
  }));

  it('escapes what people type, everywhere it is shown', () => withWorld(async (page) => {
    const evil = '<img src=x onerror="window.__pwned=1">';
    const evilLast = '</script><b id="injected">x</b>';
    await page.goto('/');
    await newUser(page, evil, evilLast, 'mallory+"><b>@example.com');
    await place(page, TEAM);
    // The invalid email is echoed back in its input, as text.
    assert.equal(await page.inputValue('input[name="email"]'), 'mallory+"><b>@example.com');
    await page.fill('input[name="email"]', 'mal@example.com');
    await send(page);
    assert.equal(await page.getAttribute('[data-testid="success"]', 'data-code'), 'INVITATION_SENT');

    const [link] = await mailFor(page, 'mal@example.com');
    for (const url of ['/', '/invitations', '/mailbox', link]) {
      await page.goto(url);
      assert.equal(await page.locator('#injected').count(), 0, url);
      assert.equal(await page.locator('img').count(), 0, url);
      assert.equal(await page.evaluate(() => window.__pwned), undefined, url);
    }
    await page.goto(link);
    assert.equal(await page.textContent('[data-testid="invitee"]'), `${evil} ${evilLast}`);
    await page.goto('/invitations');
    assert.match(await page.textContent('tr[data-email="mal@example.com"]'), /<img src=x/);
  }));

  it('builds accept links from the configured base URL only', () => withWorld(async (page) => {
    // Behind the HTTPS base URL the session cookie is Secure; Chromium keeps it from
    // http://127.0.0.1 too, so the whole flow below runs on it.
    const response = await page.goto('/');
    assert.match(await response.headerValue('set-cookie'), /; Secure/);
    await pickUser(page, 'carol@example.com');
    await place(page, TEAM);
    await send(page);
    const copy = await page.getAttribute('[data-testid="copy-link"]', 'href');
    assert.ok(copy.startsWith('https://invites.example.test/portal/invitations/accept?token='), copy);
    const [link] = await mailFor(page, 'carol@example.com');
    assert.ok(link.startsWith('https://invites.example.test/portal/invitations/accept?token='), link);
  }, ['--base-url', 'https://invites.example.test/portal']));

  it('serves only its own resources, with strict security headers', () => withWorld(async (page, w) => {
    const foreign = [];
    page.on('request', (r) => { if (!r.url().startsWith(w.url)) foreign.push(r.url()); });
    const response = await page.goto('/');
    const headers = await response.allHeaders();
    assert.match(headers['content-security-policy'], /default-src 'self'/);
    assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['referrer-policy'], 'no-referrer');
    const cookie = await response.headerValue('set-cookie');
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.doesNotMatch(cookie, /Secure/, 'served over plain HTTP');
    await pickUser(page, 'carol@example.com');
    await page.goto('/mailbox');
    assert.deepEqual(foreign, []);

    // A made-up token is refused like any other bad token.
    await page.goto(`/invitations/accept?token=${'A'.repeat(43)}`);
    assert.equal(await page.getAttribute('[data-testid="error"]', 'data-code'), 'INVALID_TOKEN');
    await page.goto('/invitations/accept?token=%3Cscript%3E');
    assert.equal(await page.getAttribute('[data-testid="error"]', 'data-code'), 'INVALID_TOKEN');
  }));

  it('answers only under its own address (DNS rebinding) and reads small bodies only', () => withWorld(async (page, w) => {
    const { port } = new URL(w.url);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'invites.example.test']) {
      assert.equal((await raw(w.url, { path: '/healthz', host })).status, 200, host);
    }
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1:${Number(port) + 1}`]) {
      for (const path of ['/', '/mailbox', '/healthz']) {
        const answer = await raw(w.url, { path, host });
        assert.equal(answer.status, 421, `${host} ${path}`);
        assert.match(answer.body, /data-code="HOST_NOT_ALLOWED"/);
        assert.doesNotMatch(answer.body, /token=/);
      }
    }
    const hostless = await raw(w.url, { path: '/', host: null });
    assert.equal(hostless.status, 400);
    assert.match(hostless.body, /data-code="HOST_REQUIRED"/);
    const huge = await raw(w.url, {
      path: '/form',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `email=${'a'.repeat(20 * 1024)}`,
    });
    assert.equal(huge.status, 413);
    assert.match(huge.body, /data-code="BODY_TOO_LARGE"/);
    const wrongType = await raw(w.url, { path: '/form', method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    assert.equal(wrongType.status, 415);
    assert.match(wrongType.body, /data-code="CONTENT_TYPE_UNSUPPORTED"/);
    const repeated = await raw(w.url, {
      path: '/form',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'csrf=a&csrf=b',
    });
    assert.equal(repeated.status, 400);
    assert.match(repeated.body, /data-code="BAD_REQUEST"/);
    // The form's address, opened as a page, leads to the form.
    const opened = await raw(w.url, { path: '/form' });
    assert.equal(opened.status, 303);
    assert.equal(opened.location, '/');
  }, ['--base-url', 'https://invites.example.test/portal']));
});

/** One HTTP request with a chosen `Host` header (fetch would not let us set it). */
function raw(base, { path, host, method = 'GET', headers = {}, body }) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    // `host: null` sends no Host header at all.
    const request = http.request({ hostname, port, path, method, setHost: host !== null, headers: { ...headers, ...(host ? { host } : {}) } }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk) => { text += chunk; }).on('end', () => resolve({ status: response.statusCode, location: response.headers.location, body: text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}
