// The `execution` option: 'inline' runs every call on the calling thread and returns an
// already-settled Promise; results and error codes are the same as on the thread pool
// (the default), on the memory store, on SQLite and, under scripts/with-postgres, on
// PostgreSQL (each service in a schema of its own).
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

import { InviteForm, InviteService } from '../index.js'
import { HOUR, mailbox, newPersonRequest, rejectsWith, world } from './helpers.mjs'

const dir = mkdtempSync(join(tmpdir(), 'invite-node-execution-'))
after(() => rmSync(dir, { recursive: true, force: true }))

let files = 0
const STORES = {
  memory: () => 'memory:',
  'sqlite (wal)': () => `sqlite:${join(dir, `wal-${++files}.db`)}?journal_mode=wal&synchronous=normal`,
  'sqlite (default)': () => `sqlite:${join(dir, `default-${++files}.db`)}`,
}
const postgres = process.env.INVITE_TEST_POSTGRES_URL
if (postgres) {
  const schema = () => `node_execution_${randomUUID().replaceAll('-', '')}`
  STORES.postgres = () => `${postgres}${postgres.includes('?') ? '&' : '?'}schema=${schema()}`
}

/** `await promise` as a transcript entry: the value's summary, or the error's codes. */
async function step(promise, summary = (v) => v) {
  try {
    return { ok: summary(await promise) }
  } catch (error) {
    assert.ok(error instanceof Error, 'rejections are Error objects')
    return {
      code: error.code,
      kind: error.kind,
      errors: error.errors?.map((e) => `${e.field}:${e.code}`).sort(),
      retryAfter: typeof error.retryAfterSeconds,
    }
  }
}

const seats = (u) => ({ total: u.total, used: u.used, reserved: u.reserved, available: u.available })

/** Send / accept / resend / revoke / list / errors on one service; ids left out. */
async function transcript(store, execution) {
  const w = await world({ store, seats: 2, execution })
  const s = w.service
  assert.equal(s.config().execution, execution)
  const t = {}
  t.validation = await step(s.send({ inviterId: w.ada.id, newUser: { email: 'not-an-email' }, businessId: w.acme.id }))
  t.notFound = await step(s.getBusiness('no-such-id'))
  await s.addMembership({ businessId: w.acme.id, subscriptionId: w.enterprise.id, userId: w.alice.id, roleId: w.member.id })
  t.badInviter = await step(s.send(newPersonRequest(w, 'x@example.com', { inviterId: w.alice.id })))
  const a = await s.send(newPersonRequest(w, 'a@example.com'))
  t.sendA = { status: a.invitation.status, email: a.invitation.email, link: a.acceptLink.startsWith('https://') }
  t.duplicate = await step(s.send(newPersonRequest(w, 'a@example.com')))
  w.clock.advanceSeconds(1)
  const c = await s.send(newPersonRequest(w, 'c@example.com'))
  t.full = await step(s.send(newPersonRequest(w, 'd@example.com')))
  t.seatsAfterSends = seats(await s.seatUsage(w.acme.id, w.team.id))
  const action = (inv) => ({ businessId: w.acme.id, invitationId: inv.invitation.id, actorId: w.ada.id })
  const resent = await s.resend(action(a))
  t.resend = { status: resent.invitation.status, newToken: resent.token !== a.token }
  t.oldToken = await step(s.accept({ token: a.token }))
  const box = mailbox()
  t.dispatch = await s.dispatchOutbox(box.send)
  t.mailed = box.sent.map((e) => e.to).sort()
  t.revoke = await step(s.revoke(action(c)), (inv) => inv.status)
  t.revokeAgain = await step(s.revoke(action(c)))
  t.accept = await step(s.accept({ token: resent.token }), (r) => ({ created: r.userCreated, status: r.invitation.status }))
  t.acceptAgain = await step(s.accept({ token: resent.token }))
  t.garbageToken = await step(s.peek('garbage'))
  t.seatsAfterAccept = seats(await s.seatUsage(w.acme.id, w.team.id))
  const list = await s.listInvitations(w.acme.id)
  t.list = list.items.map((i) => `${i.email}:${i.status}`).sort()
  t.pending = (await s.listInvitations(w.acme.id, { status: 'pending' })).items.length
  const form = new InviteForm()
  form.selectBusiness(w.acme.id)
  const view = await form.view(s, w.ada.id)
  t.form = { canSend: view.canSend, hints: view.hints.map((h) => h.code) }
  t.submit = await step(form.submit(s, w.ada.id), (o) => ({ ok: o.ok, code: o.error?.code }))
  t.bulk = await step(
    s.bulkSend({ inviterId: w.ada.id, businessId: w.acme.id, appId: w.billing.id, subscriptionId: w.enterprise.id, roleId: w.member.id, rows: [{ newUser: { firstName: 'E', lastName: 'F', email: 'e@example.com' } }, { newUser: { email: 'bad' } }] }),
    (r) => ({ sent: r.sent, failed: r.failed }),
  )
  return t
}

for (const [name, url] of Object.entries(STORES)) {
  test(`inline gives the same results and error codes as the thread pool (${name})`, async () => {
    const pool = await transcript(url(), 'threadPool')
    const inline = await transcript(url(), 'inline')
    assert.deepEqual(inline, pool)
    // The transcript exercised what it claims to.
    assert.equal(pool.validation.code, 'VALIDATION_FAILED')
    assert.ok(pool.validation.errors.includes('email:INVALID_EMAIL'))
    assert.equal(pool.notFound.code, 'NOT_FOUND')
    assert.equal(pool.badInviter.code, 'PERMISSION_DENIED')
    assert.equal(pool.duplicate.code, 'ALREADY_INVITED')
    assert.equal(pool.full.code, 'SEAT_LIMIT_REACHED')
    assert.equal(pool.oldToken.code, 'INVALID_TOKEN')
    assert.equal(pool.revoke.ok, 'revoked')
    assert.equal(pool.revokeAgain.code, 'INVITATION_NOT_PENDING')
    assert.deepEqual(pool.accept.ok, { created: true, status: 'accepted' })
    assert.equal(pool.acceptAgain.code, 'INVALID_TOKEN')
    assert.equal(pool.garbageToken.code, 'INVALID_TOKEN')
    assert.deepEqual(pool.seatsAfterAccept, { total: 2, used: 1, reserved: 0, available: 1 })
    assert.deepEqual(pool.list, ['a@example.com:accepted', 'c@example.com:revoked'])
    assert.equal(pool.dispatch.delivered, pool.mailed.length)
    assert.ok(pool.mailed.includes('c@example.com'))
    assert.equal(pool.form.canSend, false)
    assert.equal(pool.submit.ok.ok, false)
  })
}

/** Whether `promise` settled within one turn of the microtask queue (no event-loop turn). */
async function settledAtOnce(promise) {
  let settled = false
  promise.then(
    () => (settled = true),
    () => (settled = true),
  )
  await Promise.resolve()
  await Promise.resolve()
  return settled
}

test('inline calls return settled promises; pool calls and dispatchOutbox do not', async () => {
  const inline = await world({ execution: 'inline' })
  const pool = await world()
  assert.equal(pool.service.config().execution, 'threadPool')
  assert.equal(await settledAtOnce(inline.service.createBusiness('Now')), true)
  assert.equal(await settledAtOnce(inline.service.getBusiness('no-such-id')), true)
  assert.equal(await settledAtOnce(inline.service.send(newPersonRequest(inline, 'now@example.com'))), true)
  assert.equal(await settledAtOnce(InviteService.open({ execution: 'inline' })), true)
  assert.equal(await settledAtOnce(pool.service.createBusiness('Later')), false)
  // A dispatch always runs on the pool: its JS mailer may be async.
  assert.equal(await settledAtOnce(inline.service.dispatchOutbox(mailbox().send)), false)
  // A rejected inline promise is an ordinary rejection, with the rich error.
  const error = await rejectsWith(inline.service.getBusiness('no-such-id'), 'NOT_FOUND')
  assert.equal(error.kind, 'not_found')
})

test('a bad execution value rejects with INVALID_CONFIG', async () => {
  for (const execution of ['fast', 'Inline', 'thread_pool', '']) {
    await rejectsWith(InviteService.open({ execution }), 'INVALID_CONFIG')
  }
  for (const execution of [undefined, null, 'threadPool']) {
    assert.equal((await InviteService.open({ execution })).config().execution, 'threadPool')
  }
  assert.equal((await InviteService.open({ execution: 'inline' })).config().execution, 'inline')
})

for (const [name, url] of Object.entries(STORES)) {
  test(`inline: dispatch through a JS mailer that calls the service, then accept (${name})`, async () => {
    const w = await world({ store: url(), execution: 'inline' })
    const sent = []
    for (let i = 0; i < 3; i++) {
      sent.push(await w.service.send(newPersonRequest(w, `inline${i}@example.com`)))
      w.clock.advanceSeconds(1)
    }
    const seen = []
    const report = await w.service.dispatchOutbox(async (email) => {
      // An inline call from inside the mailer: runs on this thread while the dispatch
      // waits on the pool.
      const invitation = await w.service.getInvitation(email.businessId, email.invitationId)
      seen.push(invitation.email)
    })
    assert.deepEqual(report, { delivered: 3, retrying: 0, failed: 0 })
    assert.deepEqual(seen, ['inline0@example.com', 'inline1@example.com', 'inline2@example.com'])
    for (const s of sent) {
      assert.equal((await w.service.getInvitation(w.acme.id, s.invitation.id)).delivery.state, 'sent')
    }
    assert.equal((await w.service.accept({ token: sent[0].token })).userCreated, true)
    w.clock.advanceSeconds(8 * 24 * HOUR)
    assert.equal(await w.service.expireOverdue(), 2)
    assert.deepEqual(seats(await w.service.seatUsage(w.acme.id, w.team.id)), { total: 3, used: 1, reserved: 0, available: 2 })
  })
}
