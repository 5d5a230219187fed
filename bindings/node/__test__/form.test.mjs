// The headless form model: choices, options per step, seat info, hints, canSend, clear.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { InviteForm, USER_OPTIONS } from '../index.js'
import { rejectsWith, world } from './helpers.mjs'

test('walk the page: existing user, business, app, subscription with seats, role, send', async () => {
  const w = await world()
  const form = new InviteForm()
  form.setUserQuery('ali')
  let view = await form.view(w.service, w.ada.id)
  assert.deepEqual(view.users.map((u) => u.id), [w.alice.id])
  assert.deepEqual(view.businesses.map((b) => [b.business.name, b.isAdmin]), [['Acme', true]])
  form.selectUser(w.alice.id)
  form.selectBusiness(w.acme.id)
  form.selectApp(w.billing.id)
  form.selectSubscription(w.team.id)
  view = await form.view(w.service, w.ada.id)
  assert.equal(view.selectedUser.id, w.alice.id)
  assert.deepEqual(view.seats, { total: 3, used: 0, reserved: 0, available: 3, unlimited: false })
  assert.deepEqual(view.missing, ['role_id'])
  assert.equal(view.canSend, false)
  form.selectRole(w.member.id)
  view = await form.view(w.service, w.ada.id)
  assert.deepEqual(view.missing, [])
  assert.deepEqual(view.fieldErrors, [])
  assert.equal(view.canSend, true)
  const outcome = await form.submit(w.service, w.ada.id)
  assert.equal(outcome.ok, true)
  assert.equal(outcome.error, null)
  assert.equal(outcome.sent.invitation.invitee.userId, w.alice.id)
  assert.equal((await w.service.seatUsage(w.acme.id, w.team.id)).reserved, 1)
})

test('changing an upstream choice clears every choice below it', () => {
  const form = new InviteForm({ businessId: 'b1', appId: 'a1', subscriptionId: 's1', roleId: 'r1' })
  assert.equal(form.state.roleId, 'r1')
  form.selectSubscription('s2')
  assert.equal(form.state.roleId, null)
  form.selectRole('r1')
  form.selectApp('a2')
  assert.deepEqual([form.state.subscriptionId, form.state.roleId], [null, null])
  form.selectSubscription('s1')
  form.selectBusiness('b2')
  assert.deepEqual([form.state.appId, form.state.subscriptionId], [null, null])
  form.selectBusiness('b2')
  assert.equal(form.state.businessId, 'b2')
})

test('switching back to an existing user hides and drops the new-user fields', () => {
  const form = new InviteForm()
  form.setFirstName('Nia')
  form.setEmail('nia@example.com')
  assert.equal(form.state.mode, 'new')
  form.setMode('existing')
  assert.deepEqual([form.state.firstName, form.state.email], ['', ''])
  form.setField('email', 'z@example.com')
  assert.equal(form.state.mode, 'new')
})

test('submit reports every field problem at once; a domain error names its field', async () => {
  const w = await world({ seats: 0 })
  const form = new InviteForm()
  form.setFirstName('Only')
  form.setEmail('nope')
  let outcome = await form.submit(w.service, w.ada.id)
  assert.equal(outcome.ok, false)
  assert.equal(outcome.sent, null)
  assert.equal(outcome.error.code, 'VALIDATION_FAILED')
  assert.deepEqual(
    outcome.error.fieldErrors.map((e) => [e.field, e.code]).sort(),
    [['app_id', 'REQUIRED'], ['business_id', 'REQUIRED'], ['email', 'INVALID_EMAIL'], ['last_name', 'REQUIRED'], ['role_id', 'REQUIRED'], ['subscription_id', 'REQUIRED']],
  )
  form.setLastName('Person')
  form.setEmail('only@example.com')
  form.selectBusiness(w.acme.id)
  form.selectApp(w.billing.id)
  form.selectSubscription(w.team.id)
  form.selectRole(w.member.id)
  outcome = await form.submit(w.service, w.ada.id)
  assert.equal(outcome.error.code, 'SEAT_LIMIT_REACHED')
  assert.equal(outcome.error.field, 'subscription_id')
})

test("a refusal names the invitee by the form's fields: userId, or email for a new person", async () => {
  const w = await world()
  const form = new InviteForm({ businessId: w.acme.id, appId: w.billing.id, subscriptionId: w.team.id, roleId: w.member.id })
  assert.deepEqual((await form.view(w.service, w.ada.id)).missing, ['user_id'])
  let outcome = await form.submit(w.service, w.ada.id)
  assert.deepEqual(outcome.error.fieldErrors.map((e) => [e.field, e.code]), [['user_id', 'REQUIRED']])
  form.setFirstName('Dup')
  form.setLastName('Licate')
  form.setEmail('dup@example.com')
  assert.equal((await form.submit(w.service, w.ada.id)).ok, true)
  outcome = await form.submit(w.service, w.ada.id)
  assert.deepEqual([outcome.error.code, outcome.error.field], ['ALREADY_INVITED', 'email'])
})

test('unknown options are field errors; clear resets; state round-trips through JSON', async () => {
  const w = await world()
  const form = new InviteForm({ businessId: w.globex.id })
  const view = await form.view(w.service, w.ada.id)
  assert.deepEqual(view.fieldErrors.map((e) => [e.field, e.code]), [['business_id', 'UNKNOWN_OPTION']])
  const copy = new InviteForm(JSON.parse(JSON.stringify(form)))
  assert.deepEqual(copy.state, form.state)
  form.clear()
  assert.deepEqual(form.state, new InviteForm().state)
  assert.throws(() => form.setField('nope', 'x'), (e) => e instanceof Error && e.code === 'VALIDATION_FAILED' && e.errors[0].code === 'UNKNOWN_OPTION')
  await rejectsWith(form.view(w.service, 'not-a-user-id'), 'NOT_FOUND')
})

test('hints: no businesses, no matching users', async () => {
  const w = await world()
  const form = new InviteForm()
  form.setUserQuery('zzz')
  const view = await form.view(w.service, w.alice.id)
  const codes = view.hints.map((h) => h.code)
  assert.ok(codes.includes('NO_BUSINESSES'))
  assert.ok(codes.includes('NO_MATCHING_USERS'))
})

test('usersTruncated: more matching users than the list shows', async () => {
  const w = await world()
  assert.equal(USER_OPTIONS, 20)
  const form = new InviteForm()
  form.setUserQuery('Zed')
  for (let i = 0; i < USER_OPTIONS; i++) {
    await w.service.createUser({ firstName: 'Zed', lastName: `Number${i}`, email: `zed${i}@example.com` })
  }
  let view = await form.view(w.service, w.ada.id)
  assert.equal(view.users.length, USER_OPTIONS, 'exactly USER_OPTIONS matches: all listed')
  assert.equal(view.usersTruncated, false)
  await w.service.createUser({ firstName: 'Zed', lastName: 'Extra', email: 'zed-extra@example.com' })
  view = await form.view(w.service, w.ada.id)
  assert.equal(view.users.length, USER_OPTIONS)
  assert.equal(view.usersTruncated, true)
  assert.deepEqual(view.fieldErrors, [])
  // A narrower search lists everyone again; new-user mode lists nobody.
  form.setUserQuery('zed-extra')
  view = await form.view(w.service, w.ada.id)
  assert.deepEqual([view.users.length, view.usersTruncated], [1, false])
  form.setMode('new')
  view = await form.view(w.service, w.ada.id)
  assert.deepEqual([view.users.length, view.usersTruncated], [0, false])
})

test('an over-long user search is a user_query TOO_LONG field error, not a rejection', async () => {
  const w = await world()
  const form = new InviteForm({ userId: w.alice.id, businessId: w.acme.id, appId: w.billing.id, subscriptionId: w.team.id, roleId: w.member.id })
  form.setUserQuery('a'.repeat(254))
  let view = await form.view(w.service, w.ada.id)
  assert.deepEqual(view.fieldErrors, [])
  assert.equal(view.canSend, true)
  form.setUserQuery('a'.repeat(255))
  view = await form.view(w.service, w.ada.id)
  assert.deepEqual(view.fieldErrors.map((e) => [e.field, e.code]), [['user_query', 'TOO_LONG']])
  assert.deepEqual([view.users, view.usersTruncated], [[], false])
  assert.equal(view.selectedUser.id, w.alice.id)
  // Only the search is refused: the chosen user is what a send uses, so it can send.
  assert.equal(view.canSend, true)
  // The service's own search still refuses it outright, with the same code.
  const error = await rejectsWith(w.service.searchUsers('a'.repeat(255)), 'VALIDATION_FAILED')
  assert.deepEqual(error.errors.map((e) => e.code), ['TOO_LONG'])
})

test('a double-submitted form under its key resolves with the first send', async () => {
  const w = await world()
  const form = new InviteForm({
    businessId: w.acme.id, appId: w.billing.id, subscriptionId: w.team.id, roleId: w.member.id,
  })
  form.selectUser(w.alice.id)
  const first = await form.submit(w.service, w.ada.id, 'render-1')
  const again = await form.submit(w.service, w.ada.id, 'render-1')
  assert.equal(first.ok && again.ok, true)
  assert.equal(first.sent.replayed, false)
  assert.equal(again.sent.replayed, true)
  assert.equal(again.sent.invitation.id, first.sent.invitation.id)
  const other = await form.submit(w.service, w.ada.id)
  assert.equal(other.ok, false)
  assert.equal(other.error.code, 'ALREADY_INVITED')
})
