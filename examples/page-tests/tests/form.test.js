// The guide's common tasks on the Invite User form: choosing a user (search, or a new
// user), business → app → subscription → role with hints and seat information, Send
// Invitation, Clear, and the cascade that clears choices below a changed one.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  choose, errorCodes, hintCodes, launchBrowser, mailFor, navigating, newUser, pickUser, place,
  search, seats, send, shot, world,
} from './harness.js';

const TEAM = { business: 'Acme Corp', app: 'Billing', subscription: 'Team', role: 'Viewer' };

describe('Invite User form', () => {
  let browser;
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  async function withWorld(fn, args) {
    const w = await world(browser, args);
    try { await fn(w.page, w); } finally { await w.close(); }
  }

  it('starts empty, with the guide hints and nothing sendable', () => withWorld(async (page) => {
    await page.goto('/');
    await shot(page, '01-empty-form');
    assert.equal(await page.getAttribute('#invite-form', 'data-can-send'), 'false');
    assert.equal(await page.getAttribute('#invite-form', 'data-mode'), 'existing');
    assert.ok((await page.locator('select[name="business_id"] option').count()) > 1);
    assert.deepEqual(await page.locator('[data-testid="success"]').count(), 0);
  }));

  it('app list is empty until a business is chosen (hint SELECT_BUSINESS_FIRST)', () => withWorld(async (page) => {
    await page.goto('/');
    const apps = page.locator('select[name="app_id"]');
    assert.equal(await apps.isDisabled(), true);
    assert.equal(await apps.locator('option:not([value=""])').count(), 0);
    assert.deepEqual(await hintCodes(page, 'app_id'), ['SELECT_BUSINESS_FIRST']);

    await choose(page, 'business_id', 'Acme Corp');
    assert.equal(await apps.isDisabled(), false);
    assert.deepEqual(
      await apps.locator('option:not([value=""])').allTextContents(),
      ['Analytics', 'Billing', 'CRM'],
    );
    assert.deepEqual(await hintCodes(page, 'app_id'), []);
  }));

  it('subscription list is empty until business and app are chosen (hint SELECT_BUSINESS_AND_APP)', () => withWorld(async (page) => {
    await page.goto('/');
    const subs = page.locator('select[name="subscription_id"]');
    assert.equal(await subs.locator('option:not([value=""])').count(), 0);
    assert.deepEqual(await hintCodes(page, 'subscription_id'), ['SELECT_BUSINESS_AND_APP']);

    await choose(page, 'business_id', 'Acme Corp');
    assert.equal(await subs.locator('option:not([value=""])').count(), 0);
    assert.deepEqual(await hintCodes(page, 'subscription_id'), ['SELECT_BUSINESS_AND_APP']);
    assert.deepEqual(await hintCodes(page, 'role_id'), ['SELECT_APP_FIRST']);
    await shot(page, '02-hints-business-chosen');

    await choose(page, 'app_id', 'Billing');
    assert.equal(await subs.locator('option:not([value=""])').count(), 2);
    assert.deepEqual(await hintCodes(page, 'subscription_id'), []);
    assert.ok((await page.locator('select[name="role_id"] option:not([value=""])').count()) >= 3);
  }));

  it('a business without apps says so (hint NO_APPS_ENABLED)', () => withWorld(async (page) => {
    await page.goto('/');
    await choose(page, 'business_id', 'Umbrella Labs');
    assert.deepEqual(await hintCodes(page, 'app_id'), ['NO_APPS_ENABLED']);
    assert.equal(await page.locator('select[name="app_id"] option:not([value=""])').count(), 0);
  }));

  it('shows seat information once a subscription is chosen: limited and unlimited', () => withWorld(async (page) => {
    await page.goto('/');
    await place(page, { business: 'Acme Corp', app: 'Billing' });
    assert.equal(await page.locator('[data-testid="seats"]').count(), 0);
    await choose(page, 'subscription_id', 'Team');
    assert.deepEqual(await seats(page), { total: 10, used: 3, reserved: 0, available: 7, unlimited: false });
    await shot(page, '03-seat-information');

    await choose(page, 'app_id', 'CRM');
    await choose(page, 'subscription_id', 'Enterprise');
    const s = await seats(page);
    assert.equal(s.unlimited, true);
    assert.equal(s.total, 'unlimited');
    assert.equal(s.available, 'unlimited');
    assert.equal(s.used, 2);
    assert.equal(await page.locator('[data-testid="seats-unlimited"]').count(), 1);
  }));

  it('invites an existing user found by search', () => withWorld(async (page) => {
    await page.goto('/');
    await search(page, 'car');
    const options = await page.locator('select[name="user_id"] option').allTextContents();
    assert.equal(options.length, 1);
    assert.match(options[0], /carol@example\.com/);
    await pickUser(page, 'carol@example.com');
    assert.equal(await page.locator('[data-testid="selected-user"]').count(), 1);
    await place(page, TEAM);
    assert.equal(await page.getAttribute('#invite-form', 'data-can-send'), 'true');
    await shot(page, '04-ready-to-send');

    await send(page);
    const success = page.locator('[data-testid="success"]');
    assert.equal(await success.getAttribute('data-code'), 'INVITATION_SENT');
    assert.match(await page.getAttribute('[data-testid="copy-link"]', 'href'), /\/invitations\/accept\?token=/);
    // The seat is reserved at send.
    assert.deepEqual(await seats(page), { total: 10, used: 3, reserved: 1, available: 6, unlimited: false });
    await shot(page, '05-sent');

    const links = await mailFor(page, 'carol@example.com');
    assert.equal(links.length, 1);
  }));

  it('a search that matches nobody suggests adding a new user (hint NO_MATCHING_USERS)', () => withWorld(async (page) => {
    await page.goto('/');
    await search(page, 'nobody-by-this-name');
    assert.equal(await page.locator('select[name="user_id"] option').count(), 0);
    assert.deepEqual(await hintCodes(page, 'user_id'), ['NO_MATCHING_USERS']);
  }));

  it('invites a new user: the fields appear, and switching back drops them', () => withWorld(async (page) => {
    await page.goto('/');
    assert.equal(await page.locator('[data-testid="new-user-fields"]').count(), 0);
    await newUser(page, 'Nina', 'Novak', 'nina.novak@example.org');
    assert.equal(await page.locator('[data-testid="new-user-fields"]').count(), 1);
    // A cascade change keeps what was typed.
    await place(page, TEAM);
    assert.equal(await page.inputValue('input[name="first_name"]'), 'Nina');
    await shot(page, '06-new-user');

    await send(page);
    assert.equal(await page.getAttribute('[data-testid="success"]', 'data-code'), 'INVITATION_SENT');

    // Switching to an existing user hides and drops the new-user fields.
    await navigating(page, () => page.check('input[name="mode"][value="existing"]'));
    assert.equal(await page.locator('[data-testid="new-user-fields"]').count(), 0);
    await navigating(page, () => page.check('input[name="mode"][value="new"]'));
    assert.equal(await page.inputValue('input[name="first_name"]'), '');
    assert.equal(await page.inputValue('input[name="email"]'), '');
  }));

  it('changing the business clears app, subscription and role', () => withWorld(async (page) => {
    await page.goto('/');
    await pickUser(page, 'carol@example.com');
    await place(page, TEAM);
    assert.equal(await page.locator('[data-testid="seats"]').count(), 1);

    await choose(page, 'business_id', 'Initech'); // Initech also has Billing
    assert.equal(await page.inputValue('select[name="app_id"]'), '');
    assert.equal(await page.inputValue('select[name="subscription_id"]'), '');
    assert.equal(await page.inputValue('select[name="role_id"]'), '');
    assert.equal(await page.locator('[data-testid="seats"]').count(), 0);
    assert.deepEqual(await hintCodes(page, 'subscription_id'), ['SELECT_BUSINESS_AND_APP']);
    // The user choice is above the cascade and stays.
    assert.equal(await page.locator('[data-testid="selected-user"]').count(), 1);

    // Changing the app clears subscription and role.
    await place(page, { app: 'Billing', subscription: 'Basic', role: 'Viewer' });
    await choose(page, 'business_id', 'Acme Corp');
    await choose(page, 'app_id', 'Billing');
    await choose(page, 'subscription_id', 'Starter');
    await choose(page, 'role_id', 'Viewer');
    await choose(page, 'app_id', 'CRM');
    assert.equal(await page.inputValue('select[name="subscription_id"]'), '');
    assert.equal(await page.inputValue('select[name="role_id"]'), '');
  }));

  it('changing the subscription clears the role', () => withWorld(async (page) => {
    await page.goto('/');
    await pickUser(page, 'carol@example.com');
    await place(page, TEAM);
    assert.notEqual(await page.inputValue('select[name="role_id"]'), '');
    await choose(page, 'subscription_id', 'Starter');
    assert.equal(await page.inputValue('select[name="role_id"]'), '');
    assert.equal(await page.getAttribute('#invite-form', 'data-can-send'), 'false');
    // A role chosen for the new subscription stays while other fields change.
    await choose(page, 'role_id', 'Viewer');
    await pickUser(page, 'oscar@example.com');
    assert.notEqual(await page.inputValue('select[name="role_id"]'), '');
  }));

  it('the changed control keeps the focus after the page updates', () => withWorld(async (page) => {
    const focused = () => page.evaluate(() => {
      const el = document.activeElement;
      return el && el.name ? `${el.name}${el.type === 'radio' ? `=${el.value}` : ''}` : el && el.tagName;
    });
    await page.goto('/');
    await choose(page, 'business_id', 'Acme Corp');
    assert.equal(await focused(), 'business_id');
    await choose(page, 'app_id', 'Billing');
    assert.equal(await focused(), 'app_id');

    // By keyboard: the focus stays, so the next key goes on where it left off.
    await page.focus('select[name="subscription_id"]');
    await navigating(page, () => page.keyboard.press('ArrowDown'));
    assert.equal(await focused(), 'subscription_id');
    const first = await page.inputValue('select[name="subscription_id"]');
    await navigating(page, () => page.keyboard.press('ArrowDown'));
    assert.equal(await focused(), 'subscription_id');
    assert.notEqual(await page.inputValue('select[name="subscription_id"]'), first);

    await navigating(page, () => page.check('input[name="mode"][value="new"]'));
    assert.equal(await focused(), 'mode=new');
    // A reload that no change caused starts at the top.
    await page.reload();
    assert.equal(await focused(), 'BODY');
  }));

  it('is labelled for assistive technology', () => withWorld(async (page) => {
    await page.goto('/');
    // The user-mode radio group has a name.
    const group = page.locator('[role="radiogroup"]');
    const labelledBy = await group.getAttribute('aria-labelledby');
    assert.ok(labelledBy);
    assert.ok((await page.locator(`[id="${labelledBy}"]`).textContent()).trim().length > 0);
    // The keyboard's hidden default button is hidden from screen readers too.
    const hiddenApply = page.locator('button.visually-hidden[value="update"]');
    assert.equal(await hiddenApply.getAttribute('aria-hidden'), 'true');
    // Headings go down one level at a time (h1, then h2 for the seat information).
    await place(page, { business: 'Acme Corp', app: 'Billing', subscription: 'Team' });
    const levels = await page.locator('h1, h2, h3, h4, h5, h6').evaluateAll((hs) => hs.map((h) => Number(h.tagName[1])));
    assert.equal(levels[0], 1);
    for (let i = 1; i < levels.length; i += 1) assert.ok(levels[i] <= levels[i - 1] + 1, `${levels}`);
    assert.ok(levels.includes(2), `${levels}`);
  }));

  it('Clear resets the whole form', () => withWorld(async (page) => {
    await page.goto('/');
    await search(page, 'car');
    await pickUser(page, 'carol@example.com');
    await place(page, TEAM);
    await navigating(page, () => page.click('[data-testid="clear"]'));
    assert.equal(await page.inputValue('input[name="user_query"]'), '');
    assert.equal(await page.locator('[data-testid="selected-user"]').count(), 0);
    assert.equal(await page.inputValue('select[name="business_id"]'), '');
    assert.equal(await page.locator('select[name="app_id"]').isDisabled(), true);
    assert.equal(await page.locator('[data-testid="seats"]').count(), 0);
    assert.equal(await page.getAttribute('#invite-form', 'data-can-send'), 'false');
    assert.deepEqual(await errorCodes(page, 'user_id'), []);
  }));

  /** Runs `fn(page, apply)` in a browser context with JavaScript off. */
  async function withoutJavaScript(fn) {
    const w = await world(browser);
    const context = await browser.newContext({ baseURL: w.url, javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto('/');
      await fn(page, page.locator('noscript button[value="update"], button:text("Apply choices")'));
    } finally {
      await context.close();
      await w.close();
    }
  }

  it('works without JavaScript: "Apply choices" does what the auto-submit does', () => withoutJavaScript(async (page, apply) => {
    assert.equal(await apply.count(), 1);
    await page.selectOption('select[name="business_id"]', { label: 'Acme Corp' });
    await navigating(page, () => apply.click());
    assert.equal(await page.locator('select[name="app_id"]').isDisabled(), false);
    await page.selectOption('select[name="app_id"]', { label: 'Billing' });
    await navigating(page, () => apply.click());
    await page.selectOption('select[name="subscription_id"]', { label: 'Team: 10 seats' });
    await navigating(page, () => apply.click());
    assert.equal((await seats(page)).total, 10);
    await page.selectOption('select[name="user_id"]', { label: 'Carol Chen <carol@example.com>' });
    await page.selectOption('select[name="role_id"]', { label: 'Viewer' });
    await send(page);
    assert.equal(await page.getAttribute('[data-testid="success"]', 'data-code'), 'INVITATION_SENT');
  }));

  it('without JavaScript, a subscription and a role picked together are both sent', () => withoutJavaScript(async (page, apply) => {
    await page.selectOption('select[name="business_id"]', { label: 'Acme Corp' });
    await navigating(page, () => apply.click());
    await page.selectOption('select[name="app_id"]', { label: 'Billing' });
    await navigating(page, () => apply.click());
    // Both lists show now; pick both and send at once.
    await page.selectOption('select[name="user_id"]', { label: 'Carol Chen <carol@example.com>' });
    await page.selectOption('select[name="subscription_id"]', { label: 'Team: 10 seats' });
    await page.selectOption('select[name="role_id"]', { label: 'Viewer' });
    await send(page);
    assert.equal(await page.getAttribute('[data-testid="success"]', 'data-code'), 'INVITATION_SENT');
  }));

  it('a double-clicked Send (the same form posted twice) shows the one invitation sent', () => withWorld(async (page) => {
    await page.goto('/');
    await pickUser(page, 'carol@example.com');
    await place(page, TEAM);
    const form = await page.locator('#invite-form').evaluate((f) => Object.fromEntries(new FormData(f)));
    assert.ok(form.idempotency_key, 'each rendering carries a send key');
    const post = () => page.request.post('/form', { form: { ...form, action: 'send' }, maxRedirects: 0 });
    const [one, two] = await Promise.all([post(), post()]);
    assert.deepEqual([one.status(), two.status()], [303, 303]);
    await page.goto('/');
    assert.equal(await page.getAttribute('[data-testid="success"]', 'data-code'), 'INVITATION_SENT');
    assert.equal((await seats(page)).reserved, 1);
    // The next rendering has a new key: sending again is a second attempt, refused.
    assert.notEqual(await page.inputValue('#invite-form input[name="idempotency_key"]'), form.idempotency_key);
  }));
});
