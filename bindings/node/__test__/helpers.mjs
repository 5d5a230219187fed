// Shared fixtures for the node --test suite: a small catalog on a fresh service.
import assert from 'node:assert/strict'

import { InviteService, ManualClock } from '../index.js'

export const START = new Date('2026-03-02T09:00:00Z')
export const HOUR = 3600
export const DAY = 24 * HOUR

/** Options with every abuse limit off (tests that need one turn it on). */
export const UNLIMITED = { invitesPerInviterPerDay: null, resendCooldownSeconds: 0, pendingPerBusiness: null }

/** The outbox key of the test services (PostgreSQL requires one, shared by every server). */
export const OUTBOX_KEY = new Uint8Array(32).fill(9)

/**
 * A catalog: Acme (Billing enabled, "Team" with `seats` seats, "Enterprise" unlimited),
 * Globex (Billing enabled), Analytics (not enabled for Acme), roles member / manager /
 * owner, Ada the Acme admin, Alice an existing user. `emailTag` makes their emails
 * unique, for stores shared between runs.
 */
export async function world({ seats = 3, limits = UNLIMITED, store, emailTag = '', outboxKey = OUTBOX_KEY, ...options } = {}) {
  const clock = new ManualClock(START)
  const service = await InviteService.open({
    acceptBaseUrl: 'https://app.example.com/invite/accept',
    clock,
    limits,
    store,
    outboxKey,
    ...options,
  })
  const acme = await service.createBusiness('Acme')
  const globex = await service.createBusiness('Globex')
  const billing = await service.createApp('Billing')
  const analytics = await service.createApp('Analytics')
  await service.setAppEnabled(acme.id, billing.id, true)
  await service.setAppEnabled(globex.id, billing.id, true)
  const team = await service.createSubscription({ businessId: acme.id, appId: billing.id, plan: 'Team', seats })
  const enterprise = await service.createSubscription({ businessId: acme.id, appId: billing.id, plan: 'Enterprise' })
  const globexTeam = await service.createSubscription({ businessId: globex.id, appId: billing.id, plan: 'Team', seats: 5 })
  const member = await service.createRole({ appId: billing.id, key: 'member', name: 'Member', permissions: ['billing.read'] })
  const manager = await service.createRole({
    appId: billing.id,
    key: 'manager',
    name: 'Manager',
    permissions: ['billing.read', 'billing.write', 'invitations.send'],
  })
  const owner = await service.createRole({
    appId: billing.id,
    key: 'owner',
    name: 'Owner',
    permissions: ['billing.read', 'billing.write', 'billing.admin', 'invitations.send'],
  })
  const analyticsRole = await service.createRole({ appId: analytics.id, key: 'viewer', name: 'Viewer', permissions: [] })
  const ada = await service.createUser({ firstName: 'Ada', lastName: 'Admin', email: `ada${emailTag}@acme.example` })
  await service.setBusinessAdmin(acme.id, ada.id, true)
  const alice = await service.createUser({ firstName: 'Alice', lastName: 'Liddell', email: `alice${emailTag}@example.com` })
  return { service, clock, acme, globex, billing, analytics, team, enterprise, globexTeam, member, manager, owner, analyticsRole, ada, alice }
}

/** A complete send request from Ada into Team as Member, for a new person. */
export function newPersonRequest(w, email, extra = {}) {
  return {
    inviterId: w.ada.id,
    newUser: { firstName: 'New', lastName: 'Person', email },
    businessId: w.acme.id,
    appId: w.billing.id,
    subscriptionId: w.team.id,
    roleId: w.member.id,
    ...extra,
  }
}

/** A `bulkSend` request from Ada into Team as a member, with `rows`. */
export function bulkRequest(w, rows, extra = {}) {
  return {
    inviterId: w.ada.id,
    businessId: w.acme.id,
    appId: w.billing.id,
    subscriptionId: w.team.id,
    roleId: w.member.id,
    rows,
    ...extra,
  }
}

/** Awaits `promise`, expecting a rejection with `code`; returns the error. */
export async function rejectsWith(promise, code) {
  let error
  await assert.rejects(promise, (e) => {
    error = e
    return true
  })
  assert.ok(error instanceof Error, `expected an Error, got ${typeof error}`)
  assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`)
  return error
}

/** A mailer that keeps every email. */
export function mailbox() {
  const sent = []
  const send = async (email) => {
    sent.push(email)
  }
  return { sent, send }
}
