// The user guide's common tasks and troubleshooting cases (DESIGN.md "The page this
// library serves"), driven through the Node API. Assertions are on codes, never text.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { InviteForm } from '../index.js'
import { DAY, HOUR, mailbox, newPersonRequest, rejectsWith, world } from './helpers.mjs'

describe('common tasks', () => {
  test('invite an existing user', async () => {
    const w = await world()
    const sent = await w.service.send({
      inviterId: w.ada.id,
      userId: w.alice.id,
      businessId: w.acme.id,
      appId: w.billing.id,
      subscriptionId: w.team.id,
      roleId: w.member.id,
    })
    assert.equal(sent.invitation.status, 'pending')
    assert.equal(sent.invitation.invitee.kind, 'existing')
    assert.equal(sent.invitation.invitee.userId, w.alice.id)
    assert.equal(sent.invitation.email, 'alice@example.com')
    assert.equal(sent.replayed, false)
    assert.ok(sent.token.length >= 43)
    assert.ok(sent.acceptLink.startsWith('https://app.example.com/invite/accept?token='))
    assert.ok(sent.invitation.createdAt instanceof Date)
    assert.equal(sent.invitation.expiresAt.getTime() - sent.invitation.createdAt.getTime(), 7 * DAY * 1000)
    const box = mailbox()
    const report = await w.service.dispatchOutbox(box.send)
    assert.deepEqual(report, { delivered: 1, retrying: 0, failed: 0 })
    assert.equal(box.sent[0].to, 'alice@example.com')
    assert.equal(box.sent[0].acceptLink, sent.acceptLink)
  })

  test('invite a new user: the user is created with the invited names at accept', async () => {
    const w = await world()
    const sent = await w.service.send(newPersonRequest(w, 'Bob@Example.com'))
    assert.equal(sent.invitation.invitee.kind, 'new')
    assert.equal(sent.invitation.invitee.firstName, 'New')
    assert.equal(await w.service.findUserByEmail('bob@example.com'), null)
    const accepted = await w.service.accept({ token: sent.token })
    assert.equal(accepted.userCreated, true)
    assert.equal(accepted.user.email, 'Bob@Example.com')
    assert.equal(accepted.user.firstName, 'New')
    assert.equal((await w.service.findUserByEmail('bob@example.com')).id, accepted.user.id)
  })

  test('check seats before inviting: total, used, reserved, available', async () => {
    const w = await world({ seats: 3 })
    let seats = await w.service.seatUsage(w.acme.id, w.team.id)
    assert.deepEqual(seats, { total: 3, used: 0, reserved: 0, available: 3, unlimited: false })
    const sent = await w.service.send(newPersonRequest(w, 'one@example.com'))
    seats = await w.service.seatUsage(w.acme.id, w.team.id)
    assert.deepEqual(seats, { total: 3, used: 0, reserved: 1, available: 2, unlimited: false })
    await w.service.accept({ token: sent.token })
    seats = await w.service.seatUsage(w.acme.id, w.team.id)
    assert.deepEqual(seats, { total: 3, used: 1, reserved: 0, available: 2, unlimited: false })
    const unlimited = await w.service.seatUsage(w.acme.id, w.enterprise.id)
    assert.deepEqual(unlimited, { total: null, used: 0, reserved: 0, available: null, unlimited: true })
    const options = await w.service.subscriptionsFor(w.acme.id, w.billing.id)
    const team = options.find((o) => o.subscription.id === w.team.id)
    assert.equal(team.seats.available, 2)
    assert.equal(team.active, true)
  })

  test('accept: the reservation becomes a seat, single use', async () => {
    const w = await world()
    const sent = await w.service.send(newPersonRequest(w, 'carol@example.com'))
    const accepted = await w.service.accept({ token: sent.token, email: 'CAROL@example.com' })
    assert.equal(accepted.invitation.status, 'accepted')
    assert.equal(accepted.membership.subscriptionId, w.team.id)
    assert.equal(accepted.membership.roleId, w.member.id)
    assert.ok(accepted.invitation.respondedAt instanceof Date)
    await rejectsWith(w.service.accept({ token: sent.token }), 'INVALID_TOKEN')
    const members = await w.service.listMemberships(w.acme.id, w.team.id)
    assert.equal(members.items.length, 1)
  })

  test('resend after "did not receive": new token, old one dies, new expiry', async () => {
    const w = await world()
    const first = await w.service.send(newPersonRequest(w, 'dan@example.com'))
    w.clock.advanceSeconds(2 * DAY)
    const again = await w.service.resend({ businessId: w.acme.id, invitationId: first.invitation.id, actorId: w.ada.id })
    assert.notEqual(again.token, first.token)
    assert.equal(again.invitation.sendCount, 2)
    assert.equal(again.invitation.expiresAt.getTime(), w.clock.now().getTime() + 7 * DAY * 1000)
    await rejectsWith(w.service.peek(first.token), 'INVALID_TOKEN')
    assert.equal((await w.service.peek(again.token)).invitation.id, first.invitation.id)
    const box = mailbox()
    await w.service.dispatchOutbox(box.send)
    assert.equal(box.sent.length, 1, 'the superseded email is cancelled, only the new one goes out')
    assert.equal(box.sent[0].acceptLink, again.acceptLink)
    const events = await w.service.listEvents(w.acme.id, { invitationId: first.invitation.id })
    assert.deepEqual(
      events.items.map((e) => e.kind),
      ['created', 'sent', 'resent', 'delivered'],
    )
  })

  test('revoke: the token dies and the seat is released', async () => {
    const w = await world({ seats: 1 })
    const sent = await w.service.send(newPersonRequest(w, 'erin@example.com'))
    assert.equal((await w.service.seatUsage(w.acme.id, w.team.id)).available, 0)
    const revoked = await w.service.revoke({ businessId: w.acme.id, invitationId: sent.invitation.id, actorId: w.ada.id })
    assert.equal(revoked.status, 'revoked')
    assert.equal((await w.service.seatUsage(w.acme.id, w.team.id)).available, 1)
    await rejectsWith(w.service.accept({ token: sent.token }), 'INVALID_TOKEN')
  })

  test('decline: final, the seat is released', async () => {
    const w = await world({ seats: 1 })
    const sent = await w.service.send(newPersonRequest(w, 'fay@example.com'))
    const declined = await w.service.decline(sent.token)
    assert.equal(declined.status, 'declined')
    assert.equal((await w.service.seatUsage(w.acme.id, w.team.id)).available, 1)
    await rejectsWith(w.service.accept({ token: sent.token }), 'INVALID_TOKEN')
  })

  test('peek never changes state', async () => {
    const w = await world()
    const sent = await w.service.send(newPersonRequest(w, 'gus@example.com'))
    const before = await w.service.getInvitation(w.acme.id, sent.invitation.id)
    const eventsBefore = await w.service.listEvents(w.acme.id)
    const seatsBefore = await w.service.seatUsage(w.acme.id, w.team.id)
    for (let i = 0; i < 5; i++) {
      const preview = await w.service.peek(sent.token)
      assert.equal(preview.businessName, 'Acme')
      assert.equal(preview.appName, 'Billing')
      assert.equal(preview.roleName, 'Member')
      assert.equal(preview.inviterName, 'Ada Admin')
      assert.equal(preview.createsUser, true)
    }
    assert.deepEqual(await w.service.getInvitation(w.acme.id, sent.invitation.id), before)
    assert.deepEqual(await w.service.listEvents(w.acme.id), eventsBefore)
    assert.deepEqual(await w.service.seatUsage(w.acme.id, w.team.id), seatsBefore)
    const accepted = await w.service.accept({ token: sent.token })
    assert.equal(accepted.invitation.status, 'accepted')
  })

  test('expiry with a manual clock: derived at read, swept to release seats, revived by resend', async () => {
    const w = await world({ seats: 1 })
    const sent = await w.service.send(newPersonRequest(w, 'hal@example.com', { expiresInSeconds: 2 * HOUR }))
    w.clock.advanceSeconds(2 * HOUR - 1)
    assert.equal((await w.service.peek(sent.token)).invitation.status, 'pending')
    w.clock.advanceSeconds(1)
    assert.equal((await w.service.getInvitation(w.acme.id, sent.invitation.id)).status, 'expired')
    assert.equal((await w.service.peek(sent.token)).invitation.status, 'expired')
    await rejectsWith(w.service.accept({ token: sent.token }), 'INVITATION_EXPIRED')
    const expiredList = await w.service.listInvitations(w.acme.id, { status: 'expired' })
    assert.deepEqual(expiredList.items.map((i) => i.id), [sent.invitation.id])
    assert.equal(await w.service.expireOverdue(), 1)
    assert.equal(await w.service.expireOverdue(), 0)
    assert.equal((await w.service.seatUsage(w.acme.id, w.team.id)).available, 1)
    const revived = await w.service.resend({ businessId: w.acme.id, invitationId: sent.invitation.id, actorId: w.ada.id })
    assert.equal(revived.invitation.status, 'pending')
    assert.equal((await w.service.seatUsage(w.acme.id, w.team.id)).available, 0)
    const accepted = await w.service.accept({ token: revived.token })
    assert.equal(accepted.invitation.status, 'accepted')
  })
})

describe('troubleshooting', () => {
  test('app list is empty until a business is chosen', async () => {
    const w = await world()
    const form = new InviteForm()
    let view = await form.view(w.service, w.ada.id)
    assert.deepEqual(view.apps, [])
    assert.ok(view.hints.some((h) => h.code === 'SELECT_BUSINESS_FIRST' && h.field === 'app_id'))
    assert.equal(view.canSend, false)
    form.selectBusiness(w.acme.id)
    view = await form.view(w.service, w.ada.id)
    assert.deepEqual(view.apps.map((a) => a.id), [w.billing.id])
    assert.ok(!view.hints.some((h) => h.code === 'SELECT_BUSINESS_FIRST'))
  })

  test('subscription list is empty until business and app are chosen', async () => {
    const w = await world()
    const form = new InviteForm()
    form.selectBusiness(w.acme.id)
    let view = await form.view(w.service, w.ada.id)
    assert.deepEqual(view.subscriptions, [])
    assert.ok(view.hints.some((h) => h.code === 'SELECT_BUSINESS_AND_APP'))
    form.selectApp(w.billing.id)
    view = await form.view(w.service, w.ada.id)
    assert.deepEqual(
      view.subscriptions.map((s) => s.subscription.plan).sort(),
      ['Enterprise', 'Team'],
    )
    assert.ok(!view.hints.some((h) => h.code === 'SELECT_BUSINESS_AND_APP'))
    assert.deepEqual(view.roles.map((r) => r.key).sort(), ['manager', 'member', 'owner'])
  })

  const required = [
    ['business_id', (r) => delete r.businessId],
    ['app_id', (r) => delete r.appId],
    ['subscription_id', (r) => delete r.subscriptionId],
    ['role_id', (r) => delete r.roleId],
    ['first_name', (r) => delete r.newUser.firstName],
    ['last_name', (r) => delete r.newUser.lastName],
    ['email', (r) => delete r.newUser.email],
    ['user', (r) => delete r.newUser],
  ]
  for (const [field, drop] of required) {
    test(`missing ${field} is REQUIRED, reported with every other problem at once`, async () => {
      const w = await world()
      const request = newPersonRequest(w, 'ivy@example.com', { locale: 'x'.repeat(500) })
      drop(request)
      const error = await rejectsWith(w.service.send(request), 'VALIDATION_FAILED')
      assert.ok(Array.isArray(error.errors))
      const problem = error.errors.find((e) => e.field === field)
      assert.ok(problem, `no error for ${field}: ${JSON.stringify(error.errors)}`)
      assert.equal(problem.code, 'REQUIRED')
      assert.equal(typeof problem.message, 'string')
      assert.ok(error.errors.some((e) => e.field === 'locale'), 'the other problem is reported too')
      assert.deepEqual((await w.service.listInvitations(w.acme.id)).items, [])
    })
  }

  test('an empty request lists every missing field at once', async () => {
    const w = await world()
    const error = await rejectsWith(w.service.send({ inviterId: w.ada.id }), 'VALIDATION_FAILED')
    const fields = error.errors.map((e) => e.field).sort()
    assert.deepEqual(fields, ['app_id', 'business_id', 'role_id', 'subscription_id', 'user'])
    assert.ok(error.errors.every((e) => e.code === 'REQUIRED'))
  })

  test('invalid email is INVALID_EMAIL on the email field', async () => {
    const w = await world()
    // Then an RFC 2047 encoded-word, which mail parsers decode in a `To` header, a C1
    // control character (NEL), and domains that are not host names.
    for (const email of ['not-an-email', 'a@', '@example.com', 'a b@example.com', '=?utf-8?q?a?=@example.com', 'a\u0085b@example.com', 'a@exa_mple.com', 'a@192.0.2.1', 'a@example\uff3f.com']) {
      const error = await rejectsWith(w.service.send(newPersonRequest(w, email)), 'VALIDATION_FAILED')
      assert.deepEqual(
        error.errors.map((e) => [e.field, e.code]),
        [['email', 'INVALID_EMAIL']],
      )
    }
  })

  test('no seats left is SEAT_LIMIT_REACHED, and the form hints it', async () => {
    const w = await world({ seats: 2 })
    await w.service.send(newPersonRequest(w, 'j1@example.com'))
    await w.service.send(newPersonRequest(w, 'j2@example.com'))
    const error = await rejectsWith(w.service.send(newPersonRequest(w, 'j3@example.com')), 'SEAT_LIMIT_REACHED')
    assert.equal(error.kind, 'limit_exceeded')
    assert.equal(typeof error.help, 'string')
    const form = new InviteForm({ businessId: w.acme.id, appId: w.billing.id, subscriptionId: w.team.id })
    const view = await form.view(w.service, w.ada.id)
    assert.ok(view.hints.some((h) => h.code === 'NO_SEATS_LEFT'))
    assert.deepEqual(view.seats, { total: 2, used: 0, reserved: 2, available: 0, unlimited: false })
    assert.equal(view.canSend, false)
  })
})
