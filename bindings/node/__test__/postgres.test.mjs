// The PostgreSQL store by URL, against the throwaway cluster of scripts/with-postgres
// (INVITE_TEST_POSTGRES_URL). Skipped, and reported as skipped, without one.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'

import { InviteService } from '../index.js'
import { DAY, OUTBOX_KEY, UNLIMITED, mailbox, newPersonRequest, world } from './helpers.mjs'

const url = process.env.INVITE_TEST_POSTGRES_URL
const skip = url ? false : 'INVITE_TEST_POSTGRES_URL is not set (run under scripts/with-postgres)'

test('postgres: the guide flow, seen from a second service', { skip }, async () => {
  const tag = `+${randomUUID().slice(0, 8)}`
  const w = await world({ store: url, emailTag: tag })
  assert.equal(w.service.storeKind, 'postgres')
  const sent = await w.service.send(newPersonRequest(w, `pg${tag}@example.com`))
  const other = await InviteService.open({ store: url, clock: w.clock, limits: UNLIMITED, outboxKey: OUTBOX_KEY })
  assert.equal((await other.getInvitation(w.acme.id, sent.invitation.id)).status, 'pending')
  assert.equal((await other.peek(sent.token)).businessName, 'Acme')
  const box = mailbox()
  assert.equal((await w.service.dispatchOutbox(box.send)).delivered, 1)
  const accepted = await other.accept({ token: sent.token })
  assert.equal(accepted.userCreated, true)
  assert.deepEqual(await w.service.recountSeats(w.acme.id, w.team.id), { used: 1, reserved: 0 })
  // Each status filter has a statement of its own on PostgreSQL.
  const later = await w.service.send(newPersonRequest(w, `pg2${tag}@example.com`))
  const listed = async (status) =>
    (await other.listInvitations(w.acme.id, { status })).items.map((i) => i.id)
  assert.deepEqual(await listed('accepted'), [sent.invitation.id])
  assert.deepEqual(await listed('pending'), [later.invitation.id])
  assert.deepEqual(await listed('expired'), [])
  w.clock.advanceSeconds(8 * DAY) // past the expiry; no sweep yet
  assert.deepEqual(await listed('pending'), [])
  assert.deepEqual(await listed('expired'), [later.invitation.id])
})

test('postgres: two services never oversell under concurrent sends', { skip }, async () => {
  const S = 4
  const tag = `+${randomUUID().slice(0, 8)}`
  const w = await world({ store: url, seats: S, emailTag: tag })
  const other = await InviteService.open({ store: url, clock: w.clock, limits: UNLIMITED, outboxKey: OUTBOX_KEY })
  const outcomes = await Promise.allSettled(
    Array.from({ length: 80 }, (_, i) => (i % 2 ? other : w.service).send(newPersonRequest(w, `pgrace${i}${tag}@example.com`))),
  )
  assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, S)
  for (const o of outcomes.filter((o) => o.status === 'rejected')) {
    assert.ok(['SEAT_LIMIT_REACHED', 'STORAGE_CONFLICT'].includes(o.reason.code), o.reason.code)
  }
  assert.deepEqual(await other.recountSeats(w.acme.id, w.team.id), { used: 0, reserved: S })
  assert.equal((await w.service.seatUsage(w.acme.id, w.team.id)).available, 0)
})

test('postgres: a service needs an outbox key, the one every app server shares', { skip }, async () => {
  await assert.rejects(InviteService.open({ store: url }), (error) => error.code === 'INVALID_CONFIG')
  const keyed = await InviteService.open({ store: url, outboxKey: OUTBOX_KEY })
  assert.equal(keyed.storeKind, 'postgres')
})
