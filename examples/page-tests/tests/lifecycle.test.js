// After Send: the invitee accepts or declines from the mailbox; the admin resends
// ("did not receive the email") and revokes from the invitations list. Opening a link
// never changes anything; only the Accept and Decline buttons (POSTs) do.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  invitationRow, launchBrowser, mailFor, navigating, newUser, pickUser, place, search, seats, send,
  shot, world,
} from './harness.js';

const TEAM = { business: 'Acme Corp', app: 'Billing', subscription: 'Team', role: 'Accountant' };

/** Invites Carol to Team and returns her accept link from the mailbox. */
async function inviteCarol(page) {
  await page.goto('/');
  await pickUser(page, 'carol@example.com');
  await place(page, TEAM);
  await send(page);
  assert.equal(await page.getAttribute('[data-testid="success"]', 'data-code'), 'INVITATION_SENT');
  const [link] = await mailFor(page, 'carol@example.com');
  return link;
}

async function rowStatus(page, email) {
  await page.goto('/invitations');
  const row = invitationRow(page, email);
  return { status: await row.getAttribute('data-status'), delivery: await row.getAttribute('data-delivery') };
}

async function accessSeats(page) {
  await page.goto('/');
  return seats(page);
}

describe('Invitation lifecycle', () => {
  let browser;
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  async function withWorld(fn) {
    const w = await world(browser);
    try { await fn(w.page, w); } finally { await w.close(); }
  }

  it('the invitee accepts from the mailbox, and the seat information shows the new member', () => withWorld(async (page) => {
    const link = await inviteCarol(page);
    assert.deepEqual(await accessSeats(page), { total: 10, used: 3, reserved: 1, available: 6, unlimited: false });
    assert.deepEqual(await rowStatus(page, 'carol@example.com'), { status: 'pending', delivery: 'sent' });
    await shot(page, '12-invitations-list');

    await page.goto('/mailbox');
    await shot(page, '13-mailbox');
    await navigating(page, () => page.click('article[data-to="carol@example.com"] a[data-testid="accept-link"]'));
    assert.equal(page.url(), link);
    const invitation = page.locator('[data-testid="invitation"]');
    assert.equal(await invitation.getAttribute('data-status'), 'pending');
    assert.equal(await invitation.getAttribute('data-creates-user'), 'false');
    assert.equal(await page.textContent('[data-testid="inviter"]'), 'Ada Admin');
    assert.equal(await page.textContent('[data-testid="invitee"]'), 'Carol Chen');
    assert.equal(await page.textContent('[data-testid="business"]'), 'Acme Corp');
    assert.equal(await page.textContent('[data-testid="app"]'), 'Billing');
    assert.equal(await page.textContent('[data-testid="role"]'), 'Accountant');
    await shot(page, '14-accept-page');

    await navigating(page, () => page.click('[data-testid="accept"]'));
    const accepted = page.locator('[data-testid="accepted"]');
    assert.equal(await accepted.getAttribute('data-code'), 'INVITATION_ACCEPTED');
    assert.equal(await accepted.getAttribute('data-user-created'), 'false');
    await shot(page, '15-accepted');

    // The admin's page (the form still has Team chosen): used + 1, the reservation gone.
    assert.deepEqual(await accessSeats(page), { total: 10, used: 4, reserved: 0, available: 6, unlimited: false });
    assert.equal((await rowStatus(page, 'carol@example.com')).status, 'accepted');

    // The link is single-use.
    await page.goto(link);
    assert.equal(await page.getAttribute('[data-testid="error"]', 'data-code'), 'INVALID_TOKEN');
  }));

  it('a new user sees the invited names and is created on accept', () => withWorld(async (page) => {
    await page.goto('/');
    await newUser(page, 'Nina', 'Novak', 'nina.novak@example.org');
    await place(page, TEAM);
    await send(page);
    const [link] = await mailFor(page, 'nina.novak@example.org');
    await page.goto(link);
    assert.equal(await page.getAttribute('[data-testid="invitation"]', 'data-creates-user'), 'true');
    assert.equal(await page.textContent('[data-testid="invitee"]'), 'Nina Novak');
    assert.equal(await page.locator('[data-testid="new-account"]').count(), 1);
    await shot(page, '16-accept-page-new-user');
    const acceptForm = await page.locator('form[action="/invitations/accept"]').evaluate((f) => Object.fromEntries(new FormData(f)));
    await navigating(page, () => page.click('[data-testid="accept"]'));
    assert.equal(await page.getAttribute('[data-testid="accepted"]', 'data-user-created'), 'true');
    // Posting the Accept again from this browser (a double click, a reload) shows the
    // welcome again, not "link not valid"; the link itself stays used for everyone.
    const again = await page.request.post('/invitations/accept', { form: acceptForm, maxRedirects: 0 });
    assert.equal(again.status(), 200);
    assert.match(await again.text(), /data-code="INVITATION_ACCEPTED"/);

    // Nina is now an existing user the admin can find.
    await page.goto('/');
    await navigating(page, () => page.check('input[name="mode"][value="existing"]'));
    await search(page, 'nina');
    assert.match((await page.locator('select[name="user_id"] option').allTextContents()).join('\n'), /nina\.novak@example\.org/);
  }));

  it('the invitee declines: the seat is released and the link dies', () => withWorld(async (page) => {
    const link = await inviteCarol(page);
    await page.goto(link);
    await navigating(page, () => page.click('[data-testid="decline"]'));
    assert.equal(await page.getAttribute('[data-testid="declined"]', 'data-code'), 'INVITATION_DECLINED');
    assert.equal((await rowStatus(page, 'carol@example.com')).status, 'declined');
    assert.deepEqual(await accessSeats(page), { total: 10, used: 3, reserved: 0, available: 7, unlimited: false });
    await page.goto(link);
    assert.equal(await page.getAttribute('[data-testid="error"]', 'data-code'), 'INVALID_TOKEN');
  }));

  it('resend after "did not receive the email": a new email, the old link is dead', () => withWorld(async (page) => {
    const oldLink = await inviteCarol(page);
    await page.goto('/invitations');
    await navigating(page, () => invitationRow(page, 'carol@example.com').locator('[data-action="resend"]').click());
    assert.equal(await page.getAttribute('[data-testid="notice"]', 'data-code'), 'INVITATION_RESENT');
    await shot(page, '17-resent');

    const links = await mailFor(page, 'carol@example.com', 2);
    const newLink = links[0];
    assert.notEqual(newLink, oldLink);
    assert.ok(links.includes(oldLink));

    await page.goto(oldLink);
    assert.equal(await page.getAttribute('[data-testid="error"]', 'data-code'), 'INVALID_TOKEN');
    await page.goto(newLink);
    assert.equal(await page.getAttribute('[data-testid="invitation"]', 'data-status'), 'pending');

    // Still one reservation, and the list shows two sends.
    assert.equal((await accessSeats(page)).reserved, 1);
    await page.goto('/invitations');
    const row = invitationRow(page, 'carol@example.com');
    assert.equal(await row.getAttribute('data-status'), 'pending');
    assert.equal(await row.locator('[data-event="resent"]').count(), 1);

    await page.goto(newLink);
    await navigating(page, () => page.click('[data-testid="accept"]'));
    assert.equal(await page.getAttribute('[data-testid="accepted"]', 'data-code'), 'INVITATION_ACCEPTED');
  }));

  it('the admin revokes: the link dies and the seat is released', () => withWorld(async (page) => {
    const link = await inviteCarol(page);
    await page.goto('/invitations');
    page.once('dialog', (dialog) => dialog.accept());
    await navigating(page, () => invitationRow(page, 'carol@example.com').locator('[data-action="revoke"]').click());
    assert.equal(await page.getAttribute('[data-testid="notice"]', 'data-code'), 'INVITATION_REVOKED');
    const row = invitationRow(page, 'carol@example.com');
    assert.equal(await row.getAttribute('data-status'), 'revoked');
    assert.equal(await row.locator('[data-action]').count(), 0);
    await shot(page, '18-revoked');

    await page.goto(link);
    assert.equal(await page.getAttribute('[data-testid="error"]', 'data-code'), 'INVALID_TOKEN');
    assert.deepEqual(await accessSeats(page), { total: 10, used: 3, reserved: 0, available: 7, unlimited: false });
  }));

  it('Revoke asks first: dismissing keeps the invitation pending, confirming revokes it', () => withWorld(async (page) => {
    await inviteCarol(page);
    await page.goto('/invitations');
    const revoke = invitationRow(page, 'carol@example.com').locator('[data-action="revoke"]');
    assert.ok(await revoke.getAttribute('data-confirm'));

    let asked = null;
    page.once('dialog', (dialog) => { asked = dialog.type(); dialog.dismiss(); });
    await revoke.click();
    assert.equal(asked, 'confirm');
    await page.goto('/invitations');
    assert.equal(await invitationRow(page, 'carol@example.com').getAttribute('data-status'), 'pending');

    page.once('dialog', (dialog) => dialog.accept());
    await navigating(page, () => invitationRow(page, 'carol@example.com').locator('[data-action="revoke"]').click());
    assert.equal(await page.getAttribute('[data-testid="notice"]', 'data-code'), 'INVITATION_REVOKED');
    assert.equal(await invitationRow(page, 'carol@example.com').getAttribute('data-status'), 'revoked');
  }));

  it('Resend and Revoke are named for their invitee', () => withWorld(async (page) => {
    await inviteCarol(page);
    await page.goto('/invitations');
    const row = invitationRow(page, 'carol@example.com');
    for (const action of ['resend', 'revoke']) {
      const label = await row.locator(`[data-action="${action}"]`).getAttribute('aria-label');
      assert.ok(label && label.includes('carol@example.com'), `${action}: ${label}`);
    }
  }));

  it('a resend from the list offers the new link to copy, and it works', () => withWorld(async (page) => {
    await inviteCarol(page);
    await page.goto('/invitations');
    await navigating(page, () => invitationRow(page, 'carol@example.com').locator('[data-action="resend"]').click());
    const notice = page.locator('[data-testid="notice"]');
    assert.equal(await notice.getAttribute('data-code'), 'INVITATION_RESENT');
    const copy = await notice.locator('[data-testid="copy-link"]').getAttribute('href');
    assert.match(copy, /\/invitations\/accept\?token=/);
    const [newest] = await mailFor(page, 'carol@example.com', 2);
    assert.equal(copy, newest);
    await page.goto(copy);
    assert.equal(await page.getAttribute('[data-testid="invitation"]', 'data-status'), 'pending');
  }));

  it('the same Send posted again after a resend or a revoke says its first link is dead', () => withWorld(async (page) => {
    await page.goto('/');
    await pickUser(page, 'carol@example.com');
    await place(page, TEAM);
    const form = await page.locator('#invite-form').evaluate((f) => Object.fromEntries(new FormData(f)));
    const post = () => page.request.post('/form', { form: { ...form, action: 'send' }, maxRedirects: 0 });
    assert.equal((await post()).status(), 303);
    await page.goto('/');
    assert.equal(await page.getAttribute('[data-testid="success"]', 'data-code'), 'INVITATION_SENT');

    // Posted again while its first link still works: the same success.
    assert.equal((await post()).status(), 303);
    await page.goto('/');
    assert.equal(await page.getAttribute('[data-testid="success"]', 'data-code'), 'INVITATION_SENT');
    assert.equal(await page.locator('[data-testid="copy-link"]').count(), 1);

    // Resent since: the first link is dead, though the invitation is pending.
    await page.goto('/invitations');
    await navigating(page, () => invitationRow(page, 'carol@example.com').locator('[data-action="resend"]').click());
    assert.equal((await post()).status(), 303);
    await page.goto('/');
    let notice = page.locator('[data-testid="notice"]');
    assert.equal(await notice.getAttribute('data-code'), 'INVITATION_ALREADY_SENT');
    assert.equal(await notice.getAttribute('data-status'), 'pending');
    assert.equal(await page.locator('[data-testid="success"]').count(), 0);
    assert.equal(await page.locator('[data-testid="copy-link"]').count(), 0);

    // Revoked since.
    await page.goto('/invitations');
    page.once('dialog', (dialog) => dialog.accept());
    await navigating(page, () => invitationRow(page, 'carol@example.com').locator('[data-action="revoke"]').click());
    assert.equal((await post()).status(), 303);
    await page.goto('/');
    notice = page.locator('[data-testid="notice"]');
    assert.equal(await notice.getAttribute('data-code'), 'INVITATION_ALREADY_SENT');
    assert.equal(await notice.getAttribute('data-status'), 'revoked');
    assert.equal(await page.locator('[data-testid="success"]').count(), 0);
    assert.equal(await page.locator('[data-testid="copy-link"]').count(), 0);
    await shot(page, '19-already-sent');
  }));

  it('the list shows the newest 200 invitations of a business and says how many are older', () => withWorld(async (page) => {
    // 205 new users invited to an unlimited subscription, posted as the form posts them.
    await page.goto('/');
    await newUser(page, 'Bulk', 'Invitee', 'bulk-0@example.org');
    await place(page, { business: 'Acme Corp', app: 'CRM', subscription: 'Enterprise', role: 'Sales rep' });
    const form = await page.locator('#invite-form').evaluate((f) => Object.fromEntries(new FormData(f)));
    for (let i = 1; i <= 205; i += 1) {
      const r = await page.request.post('/form', {
        form: { ...form, email: `bulk-${i}@example.org`, idempotency_key: '', action: 'send' },
        maxRedirects: 0,
      });
      assert.equal(r.status(), 303);
    }
    await page.goto('/invitations');
    assert.equal(await page.locator('tr[data-email^="bulk-"]').count(), 200);
    assert.equal(await page.locator('tr[data-email="bulk-205@example.org"]').count(), 1);
    assert.equal(await page.locator('tr[data-email="bulk-6@example.org"]').count(), 1);
    assert.equal(await page.locator('tr[data-email="bulk-5@example.org"]').count(), 0);
    // Newest first.
    assert.equal(await page.locator('tr[data-email]').first().getAttribute('data-email'), 'bulk-205@example.org');
    const note = page.locator('[data-testid="older-hidden"]');
    assert.equal(await note.count(), 1);
    assert.equal(await note.getAttribute('data-business'), 'Acme Corp');
    assert.equal(await note.getAttribute('data-count'), '5');
  }));

  it('a long history shows its newest events, the last one included', () => withWorld(async (page) => {
    await inviteCarol(page);
    await page.goto('/invitations');
    const row = invitationRow(page, 'carol@example.com');
    const action = {
      csrf: await row.locator('input[name="csrf"]').first().inputValue(),
      business_id: await row.locator('input[name="business_id"]').first().inputValue(),
      invitation_id: await row.locator('input[name="invitation_id"]').first().inputValue(),
    };
    for (let i = 0; i < 30; i += 1) {
      const r = await page.request.post('/invitations/resend', { form: action, maxRedirects: 0 });
      assert.equal(r.status(), 303);
    }
    // Every email delivered (a delivery after the revoke would add an event after it).
    await mailFor(page, 'carol@example.com', 31);
    await page.goto('/invitations');
    page.once('dialog', (dialog) => dialog.accept());
    await navigating(page, () => invitationRow(page, 'carol@example.com').locator('[data-action="revoke"]').click());
    assert.equal(await page.getAttribute('[data-testid="notice"]', 'data-code'), 'INVITATION_REVOKED');

    const events = invitationRow(page, 'carol@example.com').locator('ol.history li');
    assert.equal(await events.count(), 50);
    assert.equal(await events.last().getAttribute('data-event'), 'revoked');
    const hidden = invitationRow(page, 'carol@example.com').locator('[data-testid="history-hidden"]');
    assert.ok(Number(await hidden.getAttribute('data-count')) > 0);
  }));

  it('opening the accept link, however often, never changes state', () => withWorld(async (page) => {
    const link = await inviteCarol(page);
    await page.goto('/invitations');
    const before = await invitationRow(page, 'carol@example.com').evaluate((tr) => tr.outerHTML);
    for (let i = 0; i < 5; i += 1) {
      const response = await page.goto(link);
      assert.equal(response.status(), 200);
      assert.equal(await page.getAttribute('[data-testid="invitation"]', 'data-status'), 'pending');
      await page.reload();
    }
    // A scanner fetching the link without a browser (no cookie, plain GET, HEAD).
    const fetched = await fetch(link);
    assert.equal(fetched.status, 200);
    await fetch(link, { method: 'HEAD' });

    await page.goto('/invitations');
    const after = await invitationRow(page, 'carol@example.com').evaluate((tr) => tr.outerHTML);
    assert.equal(after, before);
    assert.deepEqual(await accessSeats(page), { total: 10, used: 3, reserved: 1, available: 6, unlimited: false });

    await page.goto(link);
    await navigating(page, () => page.click('[data-testid="accept"]'));
    assert.equal(await page.getAttribute('[data-testid="accepted"]', 'data-code'), 'INVITATION_ACCEPTED');
  }));

  it('a resend within the cooldown is refused with RATE_LIMITED', async () => {
    const w = await world(browser, ['--resend-cooldown-secs', '3600']);
    try {
      const { page } = w;
      const link = await inviteCarol(page);
      await page.goto('/invitations');
      await navigating(page, () => invitationRow(page, 'carol@example.com').locator('[data-action="resend"]').click());
      assert.equal(await page.getAttribute('[data-testid="action-error"]', 'data-code'), 'RATE_LIMITED');
      await page.goto(link);
      assert.equal(await page.getAttribute('[data-testid="invitation"]', 'data-status'), 'pending');
    } finally {
      await w.close();
    }
  });
});
