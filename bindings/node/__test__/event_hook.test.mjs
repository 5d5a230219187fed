// The event hook: every commit's events reach a JS function on the JS thread, in commit
// order, whatever the execution mode; a failing hook is a process warning, never a crash.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { InviteService } from '../index.js'
import { newPersonRequest, rejectsWith, world } from './helpers.mjs'

/** A hook that keeps each call's events, and a way to wait for the next call. */
function recorder() {
  const calls = []
  let wake = null
  return {
    calls,
    hook: (events) => {
      calls.push(events)
      wake?.()
    },
    /** Resolves once at least `n` calls arrived. */
    async atLeast(n) {
      while (calls.length < n) await new Promise((resolve) => (wake = resolve))
      wake = null
    },
  }
}

for (const execution of ['threadPool', 'inline']) {
  test(`each commit's events reach the hook, in order (${execution})`, async () => {
    const seen = recorder()
    const w = await world({ execution, eventHook: seen.hook })
    const sent = await w.service.send(newPersonRequest(w, 'hooked@example.com'))
    await seen.atLeast(1)
    // The call that committed has returned before its hook runs: nothing ran inside it.
    const logged = (await w.service.listEvents(w.acme.id, { invitationId: sent.invitation.id })).items
    assert.deepEqual(seen.calls[0].map((e) => e.id), logged.map((e) => e.id))
    assert.deepEqual(seen.calls[0][0], logged[0])
    await w.service.revoke({ businessId: w.acme.id, invitationId: sent.invitation.id, actorId: w.ada.id })
    await seen.atLeast(2)
    assert.deepEqual(seen.calls[1].map((e) => e.kind), ['revoked'])
    assert.equal(seen.calls.length, 2)
  })
}

test('a dispatch, on a thread of its own, reaches the hook; the hook may call the service', async () => {
  const seen = recorder()
  const statuses = []
  const w = await world({
    eventHook: (events) => {
      seen.hook(events)
      for (const e of events) statuses.push(w.service.getInvitation(e.businessId, e.invitationId).then((i) => i.status))
    },
  })
  await w.service.send(newPersonRequest(w, 'mailed@example.com'))
  await seen.atLeast(1)
  const report = await w.service.dispatchOutbox(() => {})
  assert.equal(report.delivered, 1)
  await seen.atLeast(2)
  assert.deepEqual(seen.calls[1].map((e) => e.kind), ['delivered'])
  assert.ok((await Promise.all(statuses)).every((s) => s === 'pending'))
})

test('a refused call commits nothing and calls no hook', async () => {
  const seen = recorder()
  const w = await world({ eventHook: seen.hook })
  await rejectsWith(w.service.send(newPersonRequest(w, 'not-an-email')), 'VALIDATION_FAILED')
  await w.service.send(newPersonRequest(w, 'fine@example.com'))
  await seen.atLeast(1)
  assert.equal(seen.calls.length, 1)
  assert.ok(seen.calls[0].every((e) => e.businessId === w.acme.id))
})

test('a hook that throws or rejects is a process warning; the commit stands', async () => {
  for (const hook of [
    () => {
      throw new Error('audit log is down')
    },
    async () => {
      throw new Error('audit log is down')
    },
  ]) {
    const w = await world({ eventHook: hook })
    const warned = once(process, 'warning')
    const sent = await w.service.send(newPersonRequest(w, 'kept@example.com'))
    const [warning] = await warned
    assert.equal(warning.code, 'EVENT_HOOK_FAILED')
    assert.equal(warning.name, 'InviteCoreWarning')
    assert.equal((await w.service.getInvitation(w.acme.id, sent.invitation.id)).status, 'pending')
  }
})

test('an eventHook that is not a function is INVALID_CONFIG', async () => {
  await rejectsWith(InviteService.open({ eventHook: 'audit' }), 'INVALID_CONFIG')
})

for (const execution of ['threadPool', 'inline']) {
  test(`a service with a hook does not keep the process alive, and its last commits reach the hook (${execution})`, () => {
    const index = fileURLToPath(new URL('../index.js', import.meta.url))
    // The script's last acts are a send and a dispatch (on a thread of its own in both
    // modes): their events must reach the hook before the exit, even when the dispatch's
    // Promise settles before its events are delivered (a race: run a few times).
    const script = `
      const { InviteService } = require(${JSON.stringify(index)})
      const hook = (events) => console.log(events.map((e) => e.kind).join(','))
      InviteService.open({ eventHook: hook, execution: ${JSON.stringify(execution)} }).then(async (s) => {
        globalThis.keep = s
        const b = await s.createBusiness('Acme')
        const app = await s.createApp('Billing')
        await s.setAppEnabled(b.id, app.id, true)
        const sub = await s.createSubscription({ businessId: b.id, appId: app.id, plan: 'Team', seats: 2 })
        const role = await s.createRole({ appId: app.id, key: 'member', name: 'Member', permissions: [] })
        const ada = await s.createUser({ firstName: 'Ada', lastName: 'Admin', email: 'ada@acme.example' })
        await s.setBusinessAdmin(b.id, ada.id, true)
        await s.send({
          inviterId: ada.id, businessId: b.id, appId: app.id, subscriptionId: sub.id, roleId: role.id,
          newUser: { firstName: 'New', lastName: 'Person', email: 'new@example.com' },
        })
        await s.dispatchOutbox(() => {})
      })`
    for (let run = 0; run < 5; run++) {
      const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 })
      assert.equal(child.signal, null, 'the child had to be killed: the hook kept it alive')
      assert.equal(child.status, 0, child.stderr)
      assert.deepEqual(child.stdout.trim().split('\n'), ['created,sent', 'delivered'], `run ${run}`)
    }
  })
}
