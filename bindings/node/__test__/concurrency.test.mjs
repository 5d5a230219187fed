// Off-main-thread work and the seat invariant under concurrency.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'

import { bulkRequest, newPersonRequest, world } from './helpers.mjs'

test('a timer keeps firing while a 10,000-row bulk send runs', async () => {
  const w = await world({ seats: null })
  const rows = Array.from({ length: 10_000 }, (_, i) => ({
    newUser: { firstName: 'Bulk', lastName: `Row${i}`, email: `bulk${i}@example.com` },
  }))
  let ticks = 0
  let last = performance.now()
  let maxGap = 0
  const timer = setInterval(() => {
    const now = performance.now()
    maxGap = Math.max(maxGap, now - last)
    last = now
    ticks++
  }, 2)
  const started = performance.now()
  const result = await w.service.bulkSend(bulkRequest(w, rows))
  const elapsed = performance.now() - started
  clearInterval(timer)
  assert.equal(result.sent, 10_000)
  assert.equal(result.failed, 0)
  assert.equal(result.rows.length, 10_000)
  assert.equal((await w.service.seatUsage(w.acme.id, w.team.id)).reserved, 10_000)
  // The bulk ran for `elapsed` ms; had it blocked the event loop, no tick would land.
  assert.ok(ticks >= 5, `${ticks} ticks in ${elapsed.toFixed(0)} ms`)
  assert.ok(maxGap < Math.max(100, elapsed / 2), `the loop stalled ${maxGap.toFixed(0)} ms of ${elapsed.toFixed(0)} ms`)
})

test('hundreds of concurrent sends against S seats never oversell', async () => {
  const S = 7
  const w = await world({ seats: S })
  const outcomes = await Promise.allSettled(
    Array.from({ length: 300 }, (_, i) => w.service.send(newPersonRequest(w, `race${i}@example.com`))),
  )
  const sent = outcomes.filter((o) => o.status === 'fulfilled')
  const refused = outcomes.filter((o) => o.status === 'rejected')
  assert.equal(sent.length, S)
  assert.ok(refused.every((o) => o.reason instanceof Error && o.reason.code === 'SEAT_LIMIT_REACHED'))
  const usage = await w.service.seatUsage(w.acme.id, w.team.id)
  assert.deepEqual(usage, { total: S, used: 0, reserved: S, available: 0, unlimited: false })
  assert.deepEqual(await w.service.recountSeats(w.acme.id, w.team.id), { used: 0, reserved: S })

  // Accept every one concurrently, each token twice: single use, seats convert, never oversell.
  const tokens = sent.map((o) => o.value.token)
  const accepts = await Promise.allSettled([...tokens, ...tokens].map((token) => w.service.accept({ token })))
  assert.equal(accepts.filter((o) => o.status === 'fulfilled').length, S)
  assert.ok(
    accepts
      .filter((o) => o.status === 'rejected')
      .every((o) => o.reason.code === 'INVALID_TOKEN'),
  )
  assert.deepEqual(await w.service.seatUsage(w.acme.id, w.team.id), { total: S, used: S, reserved: 0, available: 0, unlimited: false })
  assert.deepEqual(await w.service.recountSeats(w.acme.id, w.team.id), { used: S, reserved: 0 })
})

test('concurrent dispatches whose mailer needs the libuv pool do not starve it', async () => {
  // Each dispatch waits on its JS mailer, and each mailer reads a file (on the libuv
  // pool). Were the waits to hold pool threads, more dispatches than pool threads would
  // leave the mailers' reads queued behind them until the timeout failed every email.
  const poolSize = Number(process.env.UV_THREADPOOL_SIZE || 4)
  const worlds = await Promise.all(Array.from({ length: 2 * poolSize }, () => world()))
  for (const [i, w] of worlds.entries()) {
    await w.service.send(newPersonRequest(w, `pooled${i}@example.com`))
  }
  const mailer = async () => {
    await readFile(new URL(import.meta.url))
  }
  const reports = await Promise.all(worlds.map((w) => w.service.dispatchOutbox(mailer, { timeoutSeconds: 3 })))
  for (const report of reports) assert.deepEqual(report, { delivered: 1, retrying: 0, failed: 0 })
})
