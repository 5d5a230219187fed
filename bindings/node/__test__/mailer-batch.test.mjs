// A JavaScript mailer receives each claimed batch (up to 100 emails) in one hop to the JS
// thread: it is called for every email in outbox order without waiting in between, and
// each email succeeds or fails on its own.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { HOUR, mailbox, newPersonRequest, world } from './helpers.mjs'

/** `count` invitations into the unlimited subscription, one second apart (outbox order). */
async function invitations(count, options = {}) {
  const w = await world(options)
  const sent = []
  for (let i = 0; i < count; i++) {
    sent.push(await w.service.send(newPersonRequest(w, `person${i}@example.com`, { subscriptionId: w.enterprise.id })))
    w.clock.advanceSeconds(1)
  }
  const delivery = async (s) => (await w.service.getInvitation(w.acme.id, s.invitation.id)).delivery
  return { w, sent, delivery, emails: sent.map((s) => s.invitation.email) }
}

/**
 * Records which calls ran in one synchronous stretch of the JS thread: calls of one batch
 * run back to back, before any microtask.
 */
function groups() {
  const sizes = []
  let current = 0
  return {
    sizes,
    call() {
      if (current === 0) {
        queueMicrotask(() => {
          sizes.push(current)
          current = 0
        })
      }
      current += 1
    },
  }
}

for (const execution of ['threadPool', 'inline']) {
  test(`calls follow the outbox order and start before any settles (${execution})`, async () => {
    const { w, emails } = await invitations(5, { execution })
    const calls = []
    let release
    const allStarted = new Promise((resolve) => (release = resolve))
    const report = await w.service.dispatchOutbox(
      (email) => {
        calls.push(email.to)
        if (calls.length === emails.length) release()
        // Settles only once every email of the batch was handed over: a mailer called
        // one email at a time would time out here.
        return allStarted.then(() => new Promise((resolve) => setTimeout(resolve, 5 * (emails.length - calls.indexOf(email.to)))))
      },
      { timeoutSeconds: 10 },
    )
    assert.deepEqual(report, { delivered: 5, retrying: 0, failed: 0 })
    assert.deepEqual(calls, emails)
  })
}

test('an async mailer that rejects some emails of a batch fails only those', async () => {
  const { w, sent, delivery, emails } = await invitations(6, { delivery: { maxAttempts: 3, baseBackoffSeconds: 60 } })
  const bad = new Set(['person1@example.com', 'person4@example.com', 'person5@example.com'])
  const calls = []
  const report = await w.service.dispatchOutbox(async (email) => {
    calls.push(email.to)
    await new Promise((resolve) => setTimeout(resolve, 1))
    if (email.to === 'person5@example.com') throw 'plain string for person5'
    if (bad.has(email.to)) throw new Error(`mailbox full for ${email.to}`)
  })
  assert.deepEqual(report, { delivered: 3, retrying: 3, failed: 0 })
  assert.deepEqual(calls, emails)
  for (const s of sent) {
    const d = await delivery(s)
    if (bad.has(s.invitation.email)) {
      assert.equal(d.state, 'queued', s.invitation.email)
      assert.equal(d.attempts, 1)
      // The rejection's own reason is recorded for that email, and only for it.
      const expected = s.invitation.email === 'person5@example.com' ? 'plain string for person5' : `mailbox full for ${s.invitation.email}`
      assert.ok(d.lastError.includes(expected), `${d.lastError} names ${expected}`)
      const events = await w.service.listEvents(w.acme.id, { invitationId: s.invitation.id })
      assert.equal(events.items.at(-1).kind, 'delivery_failed')
    } else {
      assert.equal(d.state, 'sent', s.invitation.email)
      assert.ok(d.deliveredAt instanceof Date)
    }
  }
  // After the backoff, only the failed ones are retried.
  const box = mailbox()
  assert.equal((await w.service.dispatchOutbox(box.send)).delivered, 0)
  w.clock.advanceSeconds(HOUR)
  assert.deepEqual(await w.service.dispatchOutbox(box.send), { delivered: 3, retrying: 0, failed: 0 })
  assert.deepEqual(box.sent.map((e) => e.to), emails.filter((e) => bad.has(e)))
  for (const s of sent) assert.equal((await delivery(s)).state, 'sent')
})

test('a synchronous throw or a non-promise return fails or delivers only its email', async () => {
  const { w, sent, delivery } = await invitations(4)
  const report = await w.service.dispatchOutbox((email) => {
    if (email.to === 'person0@example.com') throw new TypeError('no transport')
    if (email.to === 'person1@example.com') return 'queued by the transport'
    if (email.to === 'person2@example.com') throw Symbol('odd')
    return Promise.reject(undefined)
  })
  assert.deepEqual(report, { delivered: 1, retrying: 3, failed: 0 })
  assert.deepEqual(
    await Promise.all(sent.map(async (s) => (await delivery(s)).state)),
    ['queued', 'sent', 'queued', 'queued'],
  )
  for (const s of [sent[0], sent[2], sent[3]]) {
    const d = await delivery(s)
    assert.equal(typeof d.lastError, 'string')
    assert.ok(d.lastError.length > 0)
  }
})

test('a mailer that hangs past the timeout fails only the unsettled emails', async () => {
  const { w, sent, delivery } = await invitations(4)
  const hung = new Set(['person1@example.com', 'person2@example.com'])
  const started = Date.now()
  const report = await w.service.dispatchOutbox(
    (email) => (hung.has(email.to) ? new Promise(() => {}) : new Promise((resolve) => setTimeout(resolve, 10))),
    { timeoutSeconds: 0.3 },
  )
  const elapsed = Date.now() - started
  assert.deepEqual(report, { delivered: 2, retrying: 2, failed: 0 })
  // One timeout for the batch, not one per hung email.
  assert.ok(elapsed < 2000, `the batch waited ${elapsed} ms`)
  for (const s of sent) {
    const d = await delivery(s)
    assert.equal(d.state, hung.has(s.invitation.email) ? 'queued' : 'sent', s.invitation.email)
    assert.equal(d.attempts, 1)
  }
})

test('one hop per claimed batch of up to 100, for an object with send too', async () => {
  const { w, emails } = await invitations(130, { execution: 'inline' })
  const group = groups()
  const transport = {
    seen: [],
    send(email) {
      group.call()
      this.seen.push(email.to)
      return Promise.resolve()
    },
  }
  assert.deepEqual(await w.service.dispatchOutbox(transport), { delivered: 130, retrying: 0, failed: 0 })
  assert.deepEqual(transport.seen, emails)
  assert.deepEqual(group.sizes, [100, 30])
})

test('a promise that can never settle is lost once collected, without waiting for the timeout', () => {
  // Its reactions hold the batch open; once the promise and its reactions are garbage,
  // the pool learns the outcome is lost (here within a few GCs, not after 60 seconds).
  const source = `
    import { newPersonRequest, world } from './helpers.mjs'
    const w = await world({ execution: 'inline' })
    const sent = await w.service.send(newPersonRequest(w, 'lost@example.com'))
    const timer = setInterval(() => globalThis.gc(), 20)
    const started = Date.now()
    const report = await w.service.dispatchOutbox(() => new Promise(() => {}), { timeoutSeconds: 60 })
    clearInterval(timer)
    const d = (await w.service.getInvitation(w.acme.id, sent.invitation.id)).delivery
    console.log(JSON.stringify({ report, lastError: d.lastError, seconds: (Date.now() - started) / 1000 }))
  `
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', source], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    encoding: 'utf8',
    timeout: 90_000,
  })
  const { report, lastError, seconds } = JSON.parse(out)
  assert.deepEqual(report, { delivered: 0, retrying: 1, failed: 0 })
  assert.equal(lastError, "the mailer's outcome was lost")
  assert.ok(seconds < 30, `lost after ${seconds} s`)
})

test('plain return values, throws, rejections and throwing thenables in one batch', async () => {
  const { w, sent, delivery } = await invitations(5, { execution: 'inline' })
  const outcomes = {
    'person0@example.com': () => 'done',
    'person1@example.com': () => {
      throw new TypeError('sync boom')
    },
    'person2@example.com': () => Promise.reject(new RangeError('async boom')),
    'person3@example.com': () => {
      const p = Promise.resolve()
      p.then = () => {
        throw new Error('then boom')
      }
      return p
    },
    'person4@example.com': () => Promise.resolve(),
  }
  const report = await w.service.dispatchOutbox((email) => outcomes[email.to]())
  assert.deepEqual(report, { delivered: 2, retrying: 3, failed: 0 })
  const d = await Promise.all(sent.map(delivery))
  assert.deepEqual(d.map((x) => x.state), ['sent', 'queued', 'queued', 'queued', 'sent'])
  assert.match(d[1].lastError, /sync boom/)
  assert.match(d[2].lastError, /async boom/)
  assert.match(d[3].lastError, /then boom/)
})

test('thenables that are not native promises are awaited like promises', async () => {
  const { w, sent, delivery } = await invitations(7, { execution: 'inline' })
  const outcomes = {
    // A Bluebird- or query-builder-style promise: only a `then`.
    'person0@example.com': () => ({ then: (resolve) => setTimeout(resolve, 5) }),
    'person1@example.com': () => ({ then: (_, reject) => reject(new Error('smtp down')) }),
    'person2@example.com': () => ({
      then() {
        throw new Error('then boom')
      },
    }),
    'person3@example.com': () => ({
      get then() {
        throw new Error('getter boom')
      },
    }),
    'person4@example.com': () => ({ then() {} }), // never settles: the timeout fails it
    'person5@example.com': () => ({ queued: true }), // a plain object: delivered
    'person6@example.com': () => () => 'a function is a value too',
  }
  const report = await w.service.dispatchOutbox((email) => outcomes[email.to](), { timeoutSeconds: 0.5 })
  assert.deepEqual(report, { delivered: 3, retrying: 4, failed: 0 })
  const d = await Promise.all(sent.map(delivery))
  assert.deepEqual(d.map((x) => x.state), ['sent', 'queued', 'queued', 'queued', 'queued', 'sent', 'sent'])
  assert.match(d[1].lastError, /smtp down/)
  assert.match(d[2].lastError, /then boom/)
  assert.match(d[3].lastError, /getter boom/)
})

test('a plain object rejected or thrown with keeps its message as the reason', async () => {
  const { w, sent, delivery } = await invitations(3, { execution: 'inline' })
  const outcomes = {
    'person0@example.com': () => Promise.reject({ message: 'quota exceeded', status: 452 }),
    'person1@example.com': () => {
      throw { message: 'no route' }
    },
    'person2@example.com': () =>
      Promise.reject({
        get message() {
          throw new Error('getter boom')
        },
      }),
  }
  const report = await w.service.dispatchOutbox((email) => outcomes[email.to]())
  assert.deepEqual(report, { delivered: 0, retrying: 3, failed: 0 })
  const d = await Promise.all(sent.map(delivery))
  assert.match(d[0].lastError, /quota exceeded/)
  assert.match(d[1].lastError, /no route/)
  assert.equal(typeof d[2].lastError, 'string')
})
