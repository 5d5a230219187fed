// Catalog and page queries: camelCase records with Date timestamps, paging by cursor,
// the options of each step for an inviter, configuration.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { InviteService } from '../index.js'
import { DAY, START, newPersonRequest, rejectsWith, world } from './helpers.mjs'

test('records are camelCase objects with Date timestamps', async () => {
  const w = await world()
  assert.deepEqual(Object.keys(w.team).sort(), ['appId', 'businessId', 'createdAt', 'id', 'plan', 'seats', 'status', 'validFrom', 'validUntil'])
  assert.equal(w.team.createdAt.getTime(), START.getTime())
  assert.equal(w.team.validFrom, null)
  assert.deepEqual(w.owner.permissions, ['billing.admin', 'billing.read', 'billing.write', 'invitations.send'])
  assert.equal(w.service.now().getTime(), START.getTime())
  const renamed = await w.service.renameBusiness(w.acme.id, 'Acme Corp')
  assert.equal((await w.service.getBusiness(w.acme.id)).name, renamed.name)
  assert.equal((await w.service.renameApp(w.billing.id, 'Billing+')).name, 'Billing+')
  assert.equal((await w.service.getApp(w.billing.id)).name, 'Billing+')
  assert.equal((await w.service.listApps()).length, 2)
  assert.deepEqual((await w.service.listRoles(w.billing.id)).map((r) => r.key).sort(), ['manager', 'member', 'owner'])
  assert.equal((await w.service.getRole(w.member.id)).key, 'member')
  const user = await w.service.updateUser(w.alice.id, { firstName: 'Alicia', lastName: 'Liddell', email: 'alicia@example.com' })
  assert.equal((await w.service.getUser(w.alice.id)).email, user.email)
})

test('a validity window is a Date range; outside it the subscription is inactive', async () => {
  const w = await world()
  const later = await w.service.createSubscription({
    businessId: w.acme.id,
    appId: w.billing.id,
    plan: 'Next year',
    seats: 10,
    validFrom: new Date(START.getTime() + 30 * DAY * 1000),
  })
  assert.ok(later.validFrom instanceof Date)
  const options = await w.service.subscriptionsFor(w.acme.id, w.billing.id)
  assert.equal(options.find((o) => o.subscription.id === later.id).active, false)
  await rejectsWith(w.service.send(newPersonRequest(w, 'early@example.com', { subscriptionId: later.id })), 'SUBSCRIPTION_INACTIVE')
  w.clock.set(new Date(START.getTime() + 31 * DAY * 1000))
  const sent = await w.service.send(newPersonRequest(w, 'early@example.com', { subscriptionId: later.id }))
  assert.equal(sent.invitation.subscriptionId, later.id)
})

test('user search pages through a large directory with a cursor', async () => {
  const w = await world()
  for (let i = 0; i < 25; i++) {
    await w.service.createUser({ firstName: 'Sam', lastName: `Smith${String(i).padStart(2, '0')}`, email: `sam${i}@example.com` })
  }
  const seen = []
  let cursor
  do {
    const page = await w.service.searchUsers('sam', { cursor, limit: 10 })
    assert.ok(page.items.length <= 10)
    seen.push(...page.items.map((u) => u.id))
    cursor = page.nextCursor ?? undefined
  } while (cursor)
  assert.equal(seen.length, 25)
  assert.equal(new Set(seen).size, 25)
  assert.deepEqual((await w.service.searchUsers('LIDD')).items.map((u) => u.id), [w.alice.id])
  await rejectsWith(w.service.searchUsers('sam', { limit: 0 }), 'VALIDATION_FAILED')
  await rejectsWith(w.service.searchUsers('sam', { cursor: 'garbage!' }), 'VALIDATION_FAILED')
})

test('user search finds an IDN domain typed as shown or as punycode, whichever was entered', async () => {
  const w = await world()
  const ana = await w.service.createUser({ firstName: 'Ana', lastName: 'Buch', email: 'ana@Bücher.example' })
  const ben = await w.service.createUser({ firstName: 'Ben', lastName: 'Buch', email: 'ben@xn--bcher-kva.example' })
  const ids = async (query) => (await w.service.searchUsers(query)).items.map((u) => u.id)
  assert.deepEqual(await ids('ANA@BÜ'), [ana.id])
  assert.deepEqual(await ids('ana@xn--bcher'), [ana.id])
  assert.deepEqual(await ids('ben@bücher.example'), [ben.id])
})

test('invitations and events list oldest first, filtered, one page at a time', async () => {
  const w = await world({ seats: null })
  const ids = []
  for (let i = 0; i < 7; i++) {
    w.clock.advanceSeconds(1)
    ids.push((await w.service.send(newPersonRequest(w, `list${i}@example.com`))).invitation.id)
  }
  await w.service.revoke({ businessId: w.acme.id, invitationId: ids[3], actorId: w.ada.id })
  const first = await w.service.listInvitations(w.acme.id, { limit: 4 })
  const second = await w.service.listInvitations(w.acme.id, { limit: 4, cursor: first.nextCursor })
  assert.deepEqual([...first.items, ...second.items].map((i) => i.id), ids)
  assert.equal(second.nextCursor, null)
  const pending = await w.service.listInvitations(w.acme.id, { status: 'pending', subscriptionId: w.team.id, appId: w.billing.id })
  assert.equal(pending.items.length, 6)
  const byEmail = await w.service.listInvitations(w.acme.id, { email: 'LIST2@example.com' })
  assert.deepEqual(byEmail.items.map((i) => i.id), [ids[2]])
  assert.deepEqual((await w.service.listInvitations(w.globex.id)).items, [])
  const events = await w.service.listEvents(w.acme.id, { limit: 100 })
  assert.equal(events.items.length, 15)
  assert.ok(events.items.every((e) => e.at instanceof Date && e.businessId === w.acme.id))
  assert.equal(events.items.at(-1).kind, 'revoked')
  assert.equal(events.items.at(-1).actorId, w.ada.id)
})

test('page options for an inviter: businesses, apps, subscriptions, grantable roles', async () => {
  const w = await world()
  assert.deepEqual((await w.service.businessesForInviter(w.alice.id)), [])
  assert.deepEqual((await w.service.appsForInviter(w.alice.id, w.acme.id)), [])
  const sent = await w.service.send(newPersonRequest(w, 'mgr@example.com', { roleId: w.manager.id }))
  const mgr = (await w.service.accept({ token: sent.token })).user
  const businesses = await w.service.businessesForInviter(mgr.id)
  assert.deepEqual(businesses.map((b) => [b.business.id, b.isAdmin]), [[w.acme.id, false]])
  assert.deepEqual((await w.service.appsForInviter(mgr.id, w.acme.id)).map((a) => a.id), [w.billing.id])
  assert.deepEqual((await w.service.grantableRoles(mgr.id, w.acme.id, w.billing.id)).map((r) => r.key).sort(), ['manager', 'member'])
  assert.deepEqual((await w.service.grantableRoles(w.ada.id, w.acme.id, w.billing.id)).map((r) => r.key).sort(), ['manager', 'member', 'owner'])
  assert.deepEqual(await w.service.subscriptionsFor(w.acme.id, w.analytics.id), [])
  const memberships = await w.service.membershipsOfUser(mgr.id, w.acme.id)
  assert.equal(memberships.length, 1)
  await w.service.removeMembership(w.acme.id, memberships[0].id)
  assert.deepEqual(await w.service.membershipsOfUser(mgr.id), [])
  assert.equal((await w.service.seatUsage(w.acme.id, w.team.id)).used, 0)
})

test('configuration: defaults, overrides, null for no limit', async () => {
  const w = await world({ limits: { invitesPerInviterPerDay: null, resendCooldownSeconds: 5 }, defaultExpirySeconds: 2 * DAY, allowNonAsciiEmail: true })
  const defaults = (await InviteService.open()).config()
  const config = w.service.config()
  assert.equal(config.acceptBaseUrl, 'https://app.example.com/invite/accept')
  assert.equal(config.defaultExpirySeconds, 2 * DAY)
  assert.equal(config.allowNonAsciiEmail, true)
  assert.deepEqual(config.limits, { invitesPerInviterPerDay: null, resendCooldownSeconds: 5, pendingPerBusiness: defaults.limits.pendingPerBusiness })
  assert.equal(typeof defaults.limits.invitesPerInviterPerDay, 'number')
  assert.deepEqual(config.delivery, defaults.delivery)
  assert.equal(defaults.defaultExpirySeconds, 7 * DAY)
  const sent = await w.service.send(newPersonRequest(w, 'jos\u00e9@example.com'))
  assert.equal(sent.invitation.expiresAt.getTime() - sent.invitation.createdAt.getTime(), 2 * DAY * 1000)
})

test('updateSubscription changes only the fields given; null clears', async () => {
  const w = await world()
  const validFrom = new Date('2026-01-01T00:00:00Z')
  const validUntil = new Date('2027-01-01T00:00:00Z')
  const sub = await w.service.createSubscription({ businessId: w.acme.id, appId: w.billing.id, plan: 'Team', seats: 3, validFrom, validUntil })
  const ids = { id: sub.id, businessId: w.acme.id }
  const suspended = await w.service.updateSubscription({ ...ids, status: 'suspended' })
  assert.deepEqual(suspended, { ...sub, status: 'suspended' })
  const renamed = await w.service.updateSubscription({ ...ids, plan: 'Team+', seats: undefined, validFrom: undefined })
  assert.deepEqual(renamed, { ...suspended, plan: 'Team+' })
  const cleared = await w.service.updateSubscription({ ...ids, seats: null, validUntil: null })
  assert.deepEqual(cleared, { ...renamed, seats: null, validUntil: null })
  assert.deepEqual(await w.service.getSubscription(w.acme.id, sub.id), cleared)
})
