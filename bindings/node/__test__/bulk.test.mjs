// Bulk send: one transaction, one result per row, seats counted across the batch.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { InviteForm, MAX_BULK_ROWS } from '../index.js'
import { bulkRequest as bulk, rejectsWith, world } from './helpers.mjs'

test('rows fail alone: invalid, duplicate, beyond the free seats', async () => {
  const w = await world({ seats: 2 })
  const result = await w.service.bulkSend(
    bulk(w, [
      { newUser: { firstName: 'A', lastName: 'One', email: 'a1@example.com' } },
      { newUser: { firstName: 'B', lastName: 'Two', email: 'not-an-email' } },
      { newUser: { firstName: 'C', lastName: 'Three', email: 'A1@example.com' } },
      { userId: w.alice.id },
      { newUser: { firstName: 'D', lastName: 'Four', email: 'd4@example.com' } },
      { userId: 'malformed' },
    ]),
  )
  assert.equal(result.replayed, false)
  assert.deepEqual(result.rows.map((r) => (r.ok ? 'ok' : r.error.code)), [
    'ok',
    'VALIDATION_FAILED',
    'ALREADY_INVITED',
    'ok',
    'SEAT_LIMIT_REACHED',
    'VALIDATION_FAILED',
  ])
  assert.deepEqual([result.sent, result.failed], [2, 4])
  assert.deepEqual(result.rows[1].error.fieldErrors.map((e) => [e.field, e.code]), [['rows[1].email', 'INVALID_EMAIL']])
  assert.deepEqual(result.rows[5].error.fieldErrors.map((e) => [e.field, e.code]), [['rows[5].user_id', 'UNKNOWN_OPTION']])
  assert.equal(typeof result.rows[0].sent.token, 'string')
  assert.equal((await w.service.seatUsage(w.acme.id, w.team.id)).available, 0)
})

test('a call takes at most MAX_BULK_ROWS rows', async () => {
  const w = await world()
  assert.equal(MAX_BULK_ROWS, 10000)
  const rows = Array.from({ length: MAX_BULK_ROWS + 1 }, () => ({ userId: w.alice.id }))
  const error = await rejectsWith(w.service.bulkSend(bulk(w, rows)), 'VALIDATION_FAILED')
  assert.deepEqual(error.errors.map((e) => [e.field, e.code]), [['rows', 'OUT_OF_RANGE']])
})

test('shared-field problems reject the whole call, all at once', async () => {
  const w = await world()
  const error = await rejectsWith(
    w.service.bulkSend(bulk(w, [{ userId: w.alice.id }], { businessId: undefined, roleId: 'garbage' })),
    'VALIDATION_FAILED',
  )
  assert.deepEqual(
    error.errors.map((e) => [e.field, e.code]).sort(),
    [['business_id', 'REQUIRED'], ['role_id', 'UNKNOWN_OPTION']],
  )
  // An outsider cannot tell the business exists (T7); a member without the right to
  // invite is refused.
  const outsider = await rejectsWith(w.service.bulkSend(bulk(w, [{ userId: w.alice.id }], { inviterId: w.alice.id })), 'VALIDATION_FAILED')
  assert.deepEqual(outsider.errors.map((e) => [e.field, e.code]), [['business_id', 'UNKNOWN_OPTION']])
  await w.service.addMembership({ businessId: w.acme.id, subscriptionId: w.enterprise.id, userId: w.alice.id, roleId: w.member.id })
  await rejectsWith(w.service.bulkSend(bulk(w, [{ userId: w.alice.id }], { inviterId: w.alice.id })), 'PERMISSION_DENIED')
  assert.equal((await w.service.listInvitations(w.acme.id)).items.length, 0)
})

test('an idempotency key replays the first result', async () => {
  const w = await world()
  const rows = [{ userId: w.alice.id }]
  const first = await w.service.bulkSend(bulk(w, rows, { idempotencyKey: 'batch-1' }))
  const again = await w.service.bulkSend(bulk(w, rows, { idempotencyKey: 'batch-1' }))
  assert.equal(again.replayed, true)
  assert.equal(again.rows[0].sent.invitation.id, first.rows[0].sent.invitation.id)
})

test('a rate-limited row and a refused form say when to retry', async () => {
  const w = await world({ seats: null, limits: { invitesPerInviterPerDay: 1, resendCooldownSeconds: 0, pendingPerBusiness: null } })
  const result = await w.service.bulkSend(bulk(w, [
    { newUser: { firstName: 'A', lastName: 'A', email: 'a0@example.com' } },
    { newUser: { firstName: 'A', lastName: 'A', email: 'a1@example.com' } },
  ]))
  const row = result.rows[1]
  assert.equal(row.error.code, 'RATE_LIMITED')
  assert.ok(row.error.retryAfterSeconds > 0)
  const form = new InviteForm({
    mode: 'new', firstName: 'F', lastName: 'F', email: 'f@example.com',
    businessId: w.acme.id, appId: w.billing.id, subscriptionId: w.team.id, roleId: w.member.id,
  })
  const outcome = await form.submit(w.service, w.ada.id)
  assert.equal(outcome.error.code, 'RATE_LIMITED')
  assert.equal(outcome.error.retryAfterSeconds, row.error.retryAfterSeconds)
})
