// The guide's troubleshooting cases: every missing field at once and one at a time,
// an invalid email, the seat limit, a suspended subscription, duplicates. Each error is
// shown next to its field with its stable code.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  choose, errorCodes, hintCodes, launchBrowser, navigating, newUser, pickUser, place, seats, send,
  shot, world,
} from './harness.js';

const TEAM = { business: 'Acme Corp', app: 'Billing', subscription: 'Team', role: 'Viewer' };

async function submitCode(page) {
  return page.getAttribute('[data-testid="submit-error"]', 'data-code');
}

describe('Invite User errors', () => {
  let browser;
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  async function withWorld(fn) {
    const w = await world(browser);
    try { await fn(w.page, w); } finally { await w.close(); }
  }

  it('an empty form lists every missing field at once, next to each field', () => withWorld(async (page) => {
    await page.goto('/');
    await send(page);
    assert.equal(await submitCode(page), 'VALIDATION_FAILED');
    for (const field of ['user_id', 'business_id', 'app_id', 'subscription_id', 'role_id']) {
      assert.deepEqual(await errorCodes(page, field), ['REQUIRED'], field);
    }
    await shot(page, '07-every-missing-field');

    await navigating(page, () => page.check('input[name="mode"][value="new"]'));
    await send(page);
    for (const field of ['first_name', 'last_name', 'email']) {
      assert.deepEqual(await errorCodes(page, field), ['REQUIRED'], field);
    }
  }));

  it('one missing field at a time is reported next to that field only', () => withWorld(async (page) => {
    const fieldsWithErrors = () =>
      page.locator('#invite-form p.error').evaluateAll((els) => els.map((e) => `${e.dataset.field}:${e.dataset.code}`));

    // The user.
    await page.goto('/');
    await place(page, TEAM);
    await send(page);
    assert.deepEqual(await fieldsWithErrors(), ['user_id:REQUIRED']);

    // The role, then the subscription (roles appear once the app is chosen).
    await navigating(page, () => page.click('[data-testid="clear"]'));
    await pickUser(page, 'carol@example.com');
    await place(page, { business: 'Acme Corp', app: 'Billing', subscription: 'Team' });
    await send(page);
    assert.deepEqual(await fieldsWithErrors(), ['role_id:REQUIRED']);

    await navigating(page, () => page.click('[data-testid="clear"]'));
    await pickUser(page, 'carol@example.com');
    await place(page, { business: 'Acme Corp', app: 'Billing', role: 'Viewer' });
    await send(page);
    assert.deepEqual(await fieldsWithErrors(), ['subscription_id:REQUIRED']);

    // The app (what depends on it cannot be chosen either).
    await navigating(page, () => page.click('[data-testid="clear"]'));
    await pickUser(page, 'carol@example.com');
    await place(page, { business: 'Acme Corp' });
    await send(page);
    assert.deepEqual(await errorCodes(page, 'app_id'), ['REQUIRED']);
    assert.deepEqual(await errorCodes(page, 'business_id'), []);
    assert.deepEqual(await errorCodes(page, 'user_id'), []);

    // The business.
    await navigating(page, () => page.click('[data-testid="clear"]'));
    await pickUser(page, 'carol@example.com');
    await send(page);
    assert.deepEqual(await errorCodes(page, 'business_id'), ['REQUIRED']);
    assert.deepEqual(await errorCodes(page, 'user_id'), []);

    // Each new-user field.
    const person = { first_name: 'Nina', last_name: 'Novak', email: 'nina@example.org' };
    for (const missing of Object.keys(person)) {
      await navigating(page, () => page.click('[data-testid="clear"]'));
      const values = { ...person, [missing]: '' };
      await newUser(page, values.first_name, values.last_name, values.email);
      await place(page, TEAM);
      await send(page);
      assert.deepEqual(await fieldsWithErrors(), [`${missing}:REQUIRED`], missing);
    }
  }));

  it('an invalid email is reported next to the email field', () => withWorld(async (page) => {
    await page.goto('/');
    await newUser(page, 'Nina', 'Novak', 'nina-at-example.org');
    await place(page, TEAM);
    // The form model already flags it while the form is being filled in…
    assert.deepEqual(await errorCodes(page, 'email'), ['INVALID_EMAIL']);
    assert.equal(await page.getAttribute('#invite-form', 'data-can-send'), 'false');
    // …and Send refuses it.
    await send(page);
    assert.equal(await submitCode(page), 'VALIDATION_FAILED');
    assert.deepEqual(await errorCodes(page, 'email'), ['INVALID_EMAIL']);
    assert.equal(await page.inputValue('input[name="email"]'), 'nina-at-example.org');
    await shot(page, '08-invalid-email');
  }));

  it('over-long input is the library\'s TOO_LONG, never a silent truncation', () => withWorld(async (page) => {
    await page.goto('/');
    await page.fill('input[name="user_query"]', 'x'.repeat(300));
    await navigating(page, () => page.click('button[name="action"][value="search"]'));
    assert.deepEqual(await errorCodes(page, 'user_query'), ['TOO_LONG']);

    const long = 'N'.repeat(150);
    await newUser(page, long, 'Novak', 'nina@example.org');
    await place(page, TEAM);
    assert.deepEqual(await errorCodes(page, 'first_name'), ['TOO_LONG']);
    assert.equal(await page.inputValue('input[name="first_name"]'), long);
    await send(page);
    assert.deepEqual(await errorCodes(page, 'first_name'), ['TOO_LONG']);
  }));

  it('the seat limit: the last free seat goes, then SEAT_LIMIT_REACHED', () => withWorld(async (page) => {
    await page.goto('/');
    await pickUser(page, 'carol@example.com');
    await place(page, { business: 'Acme Corp', app: 'Billing', subscription: 'Starter', role: 'Viewer' });
    assert.deepEqual(await seats(page), { total: 3, used: 2, reserved: 0, available: 1, unlimited: false });
    await send(page);
    assert.equal(await page.getAttribute('[data-testid="success"]', 'data-code'), 'INVITATION_SENT');
    assert.deepEqual(await seats(page), { total: 3, used: 2, reserved: 1, available: 0, unlimited: false });
    assert.deepEqual(await hintCodes(page, 'subscription_id'), ['NO_SEATS_LEFT']);

    await pickUser(page, 'oscar@example.com');
    assert.equal(await page.getAttribute('#invite-form', 'data-can-send'), 'false');
    await send(page);
    assert.equal(await submitCode(page), 'SEAT_LIMIT_REACHED');
    assert.deepEqual(await errorCodes(page, 'subscription_id'), ['SEAT_LIMIT_REACHED']);
    // The library's advice comes with the refusal.
    assert.equal(await page.locator('[data-testid="submit-error"] [data-testid="submit-help"]').count(), 1);
    await shot(page, '09-seat-limit');
  }));

  it('a suspended subscription is flagged and refused (SUBSCRIPTION_INACTIVE)', () => withWorld(async (page) => {
    await page.goto('/');
    await pickUser(page, 'carol@example.com');
    await place(page, { business: 'Acme Corp', app: 'Analytics', subscription: 'Pro', role: 'Analyst' });
    assert.deepEqual(await hintCodes(page, 'subscription_id'), ['SUBSCRIPTION_INACTIVE']);
    assert.equal(await page.getAttribute('#invite-form', 'data-can-send'), 'false');
    await send(page);
    assert.equal(await submitCode(page), 'SUBSCRIPTION_INACTIVE');
    assert.deepEqual(await errorCodes(page, 'subscription_id'), ['SUBSCRIPTION_INACTIVE']);
    await shot(page, '10-suspended-subscription');
  }));

  it('a second invitation for the same person is ALREADY_INVITED; a member is ALREADY_MEMBER', () => withWorld(async (page) => {
    await page.goto('/');
    await pickUser(page, 'carol@example.com');
    await place(page, TEAM);
    await send(page);
    assert.equal(await page.getAttribute('[data-testid="success"]', 'data-code'), 'INVITATION_SENT');
    await send(page);
    assert.equal(await submitCode(page), 'ALREADY_INVITED');
    assert.deepEqual(await errorCodes(page, 'user_id'), ['ALREADY_INVITED']);
    assert.equal(await page.locator('[data-testid="submit-error"] [data-testid="submit-help"]').count(), 1);
    assert.deepEqual(await seats(page), { total: 10, used: 3, reserved: 1, available: 6, unlimited: false });
    await shot(page, '11-duplicate');

    // The same address typed as a new user, in another case, is the same person.
    await newUser(page, 'Carol', 'Chen', 'CAROL@example.com');
    await send(page);
    assert.equal(await submitCode(page), 'ALREADY_INVITED');

    // Alice holds a seat in Team already.
    await navigating(page, () => page.check('input[name="mode"][value="existing"]'));
    await pickUser(page, 'alice@acme.example');
    await send(page);
    assert.equal(await submitCode(page), 'ALREADY_MEMBER');
    assert.deepEqual(await errorCodes(page, 'user_id'), ['ALREADY_MEMBER']);
  }));

  it('the refusal summary lists what blocks sending, in the form\'s order, not the search box', () => withWorld(async (page) => {
    const summary = async () => ({
      count: Number(await page.getAttribute('[data-testid="problem-count"]', 'data-count')),
      fields: await page.locator('[data-testid="submit-error"] li').evaluateAll((els) => els.map((e) => e.dataset.field)),
    });
    await page.goto('/');
    await page.fill('input[name="user_query"]', 'x'.repeat(300));
    await send(page);
    assert.equal(await submitCode(page), 'VALIDATION_FAILED');
    assert.deepEqual(await summary(), {
      count: 5,
      fields: ['user_id', 'business_id', 'app_id', 'subscription_id', 'role_id'],
    });
    // The search's own problem stays next to the search box.
    assert.deepEqual(await errorCodes(page, 'user_query'), ['TOO_LONG']);

    // A new user: the live email error and the refusal's come out in field order.
    await navigating(page, () => page.click('[data-testid="clear"]'));
    await newUser(page, '', 'Novak', 'nina-at-example.org');
    await send(page);
    assert.deepEqual(await summary(), {
      count: 6,
      fields: ['first_name', 'email', 'business_id', 'app_id', 'subscription_id', 'role_id'],
    });
  }));

  it('a field with a problem is marked invalid and described by its error', () => withWorld(async (page) => {
    const described = async (selector) => {
      const el = page.locator(selector);
      const ids = ((await el.getAttribute('aria-describedby')) || '').split(' ').filter(Boolean);
      const fields = [];
      for (const id of ids) fields.push(await page.getAttribute(`p.error[id="${id}"]`, 'data-field'));
      return { invalid: await el.getAttribute('aria-invalid'), fields };
    };
    await page.goto('/');
    assert.deepEqual(await described('select[name="business_id"]'), { invalid: null, fields: [] });
    await send(page);
    for (const field of ['user_id', 'business_id', 'app_id', 'subscription_id', 'role_id']) {
      assert.deepEqual(await described(`select[name="${field}"]`), { invalid: 'true', fields: [field] }, field);
    }
    assert.deepEqual(await described('input[name="user_query"]'), { invalid: null, fields: [] });

    await navigating(page, () => page.click('[data-testid="clear"]'));
    await newUser(page, 'Nina', 'Novak', 'nina-at-example.org');
    await place(page, TEAM);
    assert.deepEqual(await described('input[name="email"]'), { invalid: 'true', fields: ['email'] });
    assert.deepEqual(await described('input[name="first_name"]'), { invalid: null, fields: [] });
  }));

  it('errors are gone once the form changes', () => withWorld(async (page) => {
    await page.goto('/');
    await send(page);
    assert.equal(await submitCode(page), 'VALIDATION_FAILED');
    await choose(page, 'business_id', 'Acme Corp');
    assert.equal(await page.locator('[data-testid="submit-error"]').count(), 0);
    assert.equal(await page.locator('#invite-form p.error').count(), 0);
  }));
});
