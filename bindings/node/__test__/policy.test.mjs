// The authorization port from JavaScript: `policy` replaces who may invite and which
// roles they may grant, in part (`undefined` answers, missing methods) or whole, in
// either execution mode; a failing policy denies, with a process warning.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'

import { InviteService } from '../index.js'
import { newPersonRequest, rejectsWith, world } from './helpers.mjs'

const toAlice = (w, roleId, inviterId = w.ada.id) => ({
  inviterId,
  userId: w.alice.id,
  businessId: w.acme.id,
  appId: w.billing.id,
  subscriptionId: w.team.id,
  roleId,
})

for (const execution of ['threadPool', 'inline']) {
  test(`a policy narrows the default rule (${execution})`, async () => {
    const asked = []
    const w = await world({
      execution,
      policy: {
        mayInvite: (rights) => {
          asked.push(rights)
        },
        mayGrant: (rights, role) => (role.key === 'owner' ? false : undefined),
      },
    })
    await rejectsWith(w.service.send(toAlice(w, w.owner.id)), 'ROLE_NOT_ASSIGNABLE')
    await w.service.send(toAlice(w, w.member.id)) // undefined: the default rule lets an admin grant it
    const grantable = await w.service.grantableRoles(w.ada.id, w.acme.id, w.billing.id)
    assert.deepEqual(grantable.map((r) => r.key).sort(), ['manager', 'member'])
    assert.deepEqual(
      { ...asked[0], roles: asked[0].roles.length },
      { userId: w.ada.id, businessId: w.acme.id, appId: w.billing.id, isBusinessAdmin: true, roles: 0 },
    )
  })

  test(`a policy that calls the service denies, and the service still answers (${execution})`, async () => {
    let w
    const warned = once(process, 'warning')
    w = await world({
      execution,
      policy: { mayInvite: () => w.service.getUser(w.alice.id) && true },
    })
    await rejectsWith(w.service.send(toAlice(w, w.member.id)), 'PERMISSION_DENIED')
    const [warning] = await warned
    assert.equal(warning.code, 'AUTHORIZATION_POLICY_FAILED')
    assert.match(warning.message, /may not call the service/)
    assert.equal((await w.service.getUser(w.alice.id)).id, w.alice.id)
  })
}

test('a policy widens the default rule and is asked again at accept', async () => {
  const desk = { open: true }
  let aliceId
  const w = await world({
    policy: {
      mayInvite: (rights) => (rights.userId === aliceId ? desk.open : undefined),
      mayGrant: (rights, role) => (rights.userId === aliceId ? desk.open && role.key === 'member' : undefined),
    },
  })
  aliceId = w.alice.id
  const sent = await w.service.send(newPersonRequest(w, 'ada.l@example.com', { inviterId: aliceId }))
  await rejectsWith(w.service.send(newPersonRequest(w, 'bob@example.com', { inviterId: aliceId, roleId: w.manager.id })), 'ROLE_NOT_ASSIGNABLE')
  desk.open = false
  await rejectsWith(w.service.accept({ token: sent.token }), 'ROLE_NOT_ASSIGNABLE') // the inviter's rights at accept
  desk.open = true
  assert.equal((await w.service.accept({ token: sent.token })).userCreated, true)
})

test('one method is enough; the other is the default rule', async () => {
  const w = await world({ policy: { mayInvite: (rights) => rights.isBusinessAdmin } })
  await w.service.send(toAlice(w, w.owner.id)) // mayGrant: the default (an admin grants anything)
  const lead = await w.service.createUser({ firstName: 'Lead', lastName: 'Manager', email: 'lead@example.com' })
  await w.service.addMembership({ businessId: w.acme.id, subscriptionId: w.enterprise.id, userId: lead.id, roleId: w.manager.id })
  // The default rule would let a manager invite members; this policy does not.
  await rejectsWith(w.service.send(newPersonRequest(w, 'x@example.com', { inviterId: lead.id })), 'PERMISSION_DENIED')
})

test('a policy that throws or answers something else denies, with a warning', async () => {
  for (const mayInvite of [
    () => {
      throw new Error('directory unreachable')
    },
    () => {
      throw 'directory unreachable'
    },
    () => 1,
    async () => true,
  ]) {
    const w = await world({ policy: { mayInvite } })
    const warned = once(process, 'warning')
    await rejectsWith(w.service.send(toAlice(w, w.member.id)), 'PERMISSION_DENIED')
    const [warning] = await warned
    assert.equal(warning.code, 'AUTHORIZATION_POLICY_FAILED')
    assert.equal((await w.service.listInvitations(w.acme.id)).items.length, 0)
  }
})

test('a policy needs a mayInvite or mayGrant function', async () => {
  const throwing = {
    get mayGrant() {
      throw new Error('a getter that throws')
    },
  }
  for (const policy of [{}, { mayInvite: true }, { mayGrant: 'no' }, 'admins', throwing]) {
    await rejectsWith(InviteService.open({ policy }), 'INVALID_CONFIG')
  }
})

test('rights come only from memberships of active subscriptions', async () => {
  const asked = []
  const w = await world({ policy: { mayInvite: (rights) => void asked.push(rights) } })
  const lead = await w.service.createUser({ firstName: 'Lead', lastName: 'Manager', email: 'lead@example.com' })
  await w.service.addMembership({ businessId: w.acme.id, subscriptionId: w.enterprise.id, userId: lead.id, roleId: w.manager.id })
  const fromLead = (email) => newPersonRequest(w, email, { inviterId: lead.id })
  await w.service.send(fromLead('first@example.com'))
  assert.deepEqual(asked.at(-1).roles.map((r) => r.key), ['manager'])

  const ids = { businessId: w.acme.id, id: w.enterprise.id }
  await w.service.updateSubscription({ ...ids, status: 'suspended' })
  await rejectsWith(w.service.send(fromLead('second@example.com')), 'PERMISSION_DENIED')
  assert.deepEqual({ userId: asked.at(-1).userId, roles: asked.at(-1).roles }, { userId: lead.id, roles: [] })
  assert.deepEqual(await w.service.grantableRoles(lead.id, w.acme.id, w.billing.id), [])

  await w.service.updateSubscription({ ...ids, status: 'active' })
  await w.service.send(fromLead('second@example.com'))
})
