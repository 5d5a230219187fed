// Text that is not valid Unicode: a lone surrogate, which `JSON.parse` takes from a
// request body and which reaches Rust as U+FFFD, fails as its field with a stable
// code, as it does from Python.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { InviteForm } from '../index.js'
import { bulkRequest, newPersonRequest, rejectsWith, world } from './helpers.mjs'

// What a JSON API host gets from `{"firstName": "Ann\ud800"}`.
const LONE = JSON.parse('"\\ud800"')

const fieldCodes = (errors) => errors.map((e) => `${e.field}:${e.code}`).sort()

test('a send reports each field with a lone surrogate', async () => {
  const w = await world()
  const request = newPersonRequest(w, `ann${LONE}@example.com`, { idempotencyKey: `key-${LONE}` })
  request.newUser.firstName = `Ann${LONE}`
  const error = await rejectsWith(w.service.send(request), 'VALIDATION_FAILED')
  assert.deepEqual(fieldCodes(error.errors), ['email:INVALID_EMAIL', 'first_name:INVALID_CHARACTERS', 'idempotency_key:INVALID_CHARACTERS'])
  assert.equal((await w.service.listInvitations(w.acme.id)).items.length, 0)
})

test('ids, tokens and queries with a lone surrogate find nothing', async () => {
  const w = await world()
  const error = await rejectsWith(
    w.service.send(newPersonRequest(w, 'ann@example.com', { subscriptionId: `${w.team.id}${LONE}` })),
    'VALIDATION_FAILED',
  )
  assert.deepEqual(fieldCodes(error.errors), ['subscription_id:UNKNOWN_OPTION'])
  await rejectsWith(w.service.getUser(`${w.alice.id}${LONE}`), 'NOT_FOUND')
  await rejectsWith(w.service.accept({ token: `${'A'.repeat(42)}${LONE}` }), 'INVALID_TOKEN')
  assert.deepEqual((await w.service.searchUsers(`alice${LONE}`)).items, [])
})

test('labels with a lone surrogate are invalid characters', async () => {
  const w = await world()
  let error = await rejectsWith(w.service.createBusiness(`Acme${LONE}`), 'VALIDATION_FAILED')
  assert.deepEqual(fieldCodes(error.errors), ['name:INVALID_CHARACTERS'])
  error = await rejectsWith(w.service.updateSubscription({ ...w.team, plan: `Gold${LONE}` }), 'VALIDATION_FAILED')
  assert.deepEqual(fieldCodes(error.errors), ['plan:INVALID_CHARACTERS'])
})

test('a bulk row with a lone surrogate fails alone', async () => {
  const w = await world()
  const result = await w.service.bulkSend(
    bulkRequest(w, [
      { newUser: { firstName: `Ann${LONE}`, lastName: 'Lee', email: 'ann@example.com' } },
      { newUser: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' } },
    ]),
  )
  assert.deepEqual(result.rows.map((r) => r.ok), [false, true])
  assert.equal(result.rows[0].error.code, 'VALIDATION_FAILED')
  assert.deepEqual(fieldCodes(result.rows[0].error.fieldErrors), ['rows[0].first_name:INVALID_CHARACTERS'])
})

test('the form shows a lone surrogate as a field error', async () => {
  const w = await world()
  const form = new InviteForm()
  form.setMode('new')
  form.setFirstName(`Ann${LONE}`)
  const view = await form.view(w.service, w.ada.id)
  assert.ok(fieldCodes(view.fieldErrors).includes('first_name:INVALID_CHARACTERS'), fieldCodes(view.fieldErrors))
  assert.equal(view.canSend, false)
})
