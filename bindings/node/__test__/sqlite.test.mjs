// The SQLite store by URL: durable across services, and the seat invariant holds when two
// services (two connections to one file) send at once.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

import { InviteService } from '../index.js'
import { UNLIMITED, mailbox, newPersonRequest, world } from './helpers.mjs'

const dir = mkdtempSync(join(tmpdir(), 'invite-node-sqlite-'))
after(() => rmSync(dir, { recursive: true, force: true }))

// One outbox key for every service on the file, so queued emails survive a "restart".
const outboxKey = new Uint8Array(32).fill(7)

test('a sqlite: temp file keeps everything across services', async () => {
  const store = `sqlite:${join(dir, 'invites.db')}`
  const w = await world({ store, outboxKey })
  assert.equal(w.service.storeKind, 'sqlite')
  const sent = await w.service.send(newPersonRequest(w, 'durable@example.com'))

  const reopened = await InviteService.open({
    store,
    outboxKey,
    clock: w.clock,
    limits: UNLIMITED,
    acceptBaseUrl: 'https://app.example.com/invite/accept',
  })
  assert.deepEqual((await reopened.listBusinesses()).map((b) => b.name).sort(), ['Acme', 'Globex'])
  const invitation = await reopened.getInvitation(w.acme.id, sent.invitation.id)
  assert.equal(invitation.email, 'durable@example.com')
  assert.deepEqual(await reopened.seatUsage(w.acme.id, w.team.id), await w.service.seatUsage(w.acme.id, w.team.id))
  const box = mailbox()
  assert.equal((await reopened.dispatchOutbox(box.send)).delivered, 1)
  assert.equal(box.sent[0].acceptLink, sent.acceptLink)
  const accepted = await reopened.accept({ token: sent.token })
  assert.equal(accepted.userCreated, true)
  assert.equal((await w.service.seatUsage(w.acme.id, w.team.id)).used, 1)
})

test('two services on one file never oversell under concurrent sends', async () => {
  const S = 5
  const store = `sqlite:${join(dir, 'race.db')}`
  const w = await world({ store, seats: S })
  const other = await InviteService.open({ store, clock: w.clock, limits: UNLIMITED })
  const outcomes = await Promise.allSettled(
    Array.from({ length: 120 }, (_, i) =>
      (i % 2 ? other : w.service).send(newPersonRequest(w, `sq${i}@example.com`)),
    ),
  )
  const sent = outcomes.filter((o) => o.status === 'fulfilled')
  assert.equal(sent.length, S)
  for (const o of outcomes.filter((o) => o.status === 'rejected')) {
    assert.ok(['SEAT_LIMIT_REACHED', 'STORAGE_CONFLICT'].includes(o.reason.code), o.reason.code)
  }
  assert.deepEqual(await other.recountSeats(w.acme.id, w.team.id), { used: 0, reserved: S })
  assert.equal((await w.service.seatUsage(w.acme.id, w.team.id)).available, 0)
})
