// Outbox dispatch through mailers written in JavaScript: failures of any shape are
// delivery failures (retried, visible on the invitation), never a crash.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { HOUR, mailbox, newPersonRequest, world } from './helpers.mjs'

async function oneInvitation(options = {}) {
  const w = await world(options)
  const sent = await w.service.send(newPersonRequest(w, 'mail@example.com'))
  const delivery = async () => (await w.service.getInvitation(w.acme.id, sent.invitation.id)).delivery
  return { w, sent, delivery }
}

test('an async function mailer receives the rendered email', async () => {
  const { w, sent, delivery } = await oneInvitation()
  const box = mailbox()
  assert.deepEqual(await w.service.dispatchOutbox(box.send), { delivered: 1, retrying: 0, failed: 0 })
  const [email] = box.sent
  assert.equal(email.to, 'mail@example.com')
  assert.equal(email.invitationId, sent.invitation.id)
  assert.equal(email.businessId, w.acme.id)
  assert.equal(email.acceptLink, sent.acceptLink)
  assert.ok(email.text.includes(sent.acceptLink))
  assert.ok(email.html.length > 0 && email.subject.length > 0)
  assert.ok(email.expiresAt instanceof Date)
  assert.equal(typeof email.messageId, 'string')
  const d = await delivery()
  assert.equal(d.state, 'sent')
  assert.ok(d.deliveredAt instanceof Date)
  assert.deepEqual(await w.service.dispatchOutbox(box.send), { delivered: 0, retrying: 0, failed: 0 })
  const messages = await w.service.invitationMessages(w.acme.id, sent.invitation.id)
  assert.deepEqual(messages.map((m) => m.state), ['sent'])
  assert.ok(!('sealedToken' in messages[0]))
})

test('an object with a send method is called with its this', async () => {
  const { w } = await oneInvitation()
  const transport = {
    outbox: [],
    async send(email) {
      this.outbox.push(email.to)
    },
  }
  assert.equal((await w.service.dispatchOutbox(transport)).delivered, 1)
  assert.deepEqual(transport.outbox, ['mail@example.com'])
})

test('a synchronous function that returns nothing counts as delivered', async () => {
  const { w } = await oneInvitation()
  const seen = []
  assert.equal((await w.service.dispatchOutbox((email) => void seen.push(email.to))).delivered, 1)
  assert.equal(seen.length, 1)
})

const failures = {
  'a rejected promise': async () => {
    throw new Error('smtp 550 mailbox unavailable')
  },
  'a synchronous throw': () => {
    throw new TypeError('transport not configured')
  },
  'a thrown string': () => {
    throw 'plain string'
  },
  'a rejection with undefined': () => Promise.reject(undefined),
  'a thrown symbol': () => {
    throw Symbol('odd')
  },
}
for (const [name, mailer] of Object.entries(failures)) {
  test(`${name} is a delivery failure, retried later`, async () => {
    const { w, sent, delivery } = await oneInvitation()
    assert.deepEqual(await w.service.dispatchOutbox(mailer), { delivered: 0, retrying: 1, failed: 0 })
    const d = await delivery()
    assert.equal(d.state, 'queued')
    assert.equal(d.attempts, 1)
    assert.equal(typeof d.lastError, 'string')
    assert.ok(d.lastError.length > 0)
    const events = await w.service.listEvents(w.acme.id, { invitationId: sent.invitation.id })
    assert.equal(events.items.at(-1).kind, 'delivery_failed')
    // Not due again until the backoff passes; then a working mailer delivers it.
    const box = mailbox()
    assert.equal((await w.service.dispatchOutbox(box.send)).delivered, 0)
    w.clock.advanceSeconds(HOUR)
    assert.equal((await w.service.dispatchOutbox(box.send)).delivered, 1)
    assert.equal((await delivery()).state, 'sent')
  })
}

test('a mailer that never settles times out as a failure', async () => {
  const { w, delivery } = await oneInvitation()
  const report = await w.service.dispatchOutbox(() => new Promise(() => {}), { timeoutSeconds: 0.2 })
  assert.deepEqual(report, { delivered: 0, retrying: 1, failed: 0 })
  assert.equal((await delivery()).attempts, 1)
})

test('after the maximum attempts the email is failed; retryDelivery queues it again', async () => {
  const { w, sent, delivery } = await oneInvitation({ delivery: { maxAttempts: 2, baseBackoffSeconds: 0 } })
  const broken = async () => {
    throw new Error('down')
  }
  assert.deepEqual(await w.service.dispatchOutbox(broken), { delivered: 0, retrying: 1, failed: 1 })
  assert.equal((await delivery()).state, 'failed')
  await w.service.retryDelivery({ businessId: w.acme.id, invitationId: sent.invitation.id, actorId: w.ada.id })
  assert.equal((await delivery()).state, 'queued')
  const box = mailbox()
  assert.equal((await w.service.dispatchOutbox(box.send)).delivered, 1)
})

test('a mailer can call back into the service while dispatch runs', async () => {
  const { w } = await oneInvitation()
  const names = []
  await w.service.dispatchOutbox(async (email) => {
    const invitation = await w.service.getInvitation(email.businessId, email.invitationId)
    names.push(invitation.email)
  })
  assert.deepEqual(names, ['mail@example.com'])
})
