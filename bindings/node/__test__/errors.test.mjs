// Every error code at least once, provoked through the Node API; errors are `Error`
// objects with `.code` (and `.errors` for validation). Codes only reachable through a
// failing store are listed explicitly and the list is checked.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

import { InviteForm, InviteService, Mailer, ManualClock, errorCodes, errorKind, isInviteError } from '../index.js'
import { HOUR, newPersonRequest, rejectsWith, world } from './helpers.mjs'

/**
 * Codes no call can provoke on a healthy store: a write conflict that outlasts the
 * service's own retries, an operation a foreign store adapter does not support, a bug.
 */
const STORAGE_ONLY = ['STORAGE_CONFLICT', 'NOT_SUPPORTED', 'INTERNAL']

const dir = mkdtempSync(join(tmpdir(), 'invite-node-errors-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** A valid, empty SQLite file whose schema version (`PRAGMA user_version`) is 999. */
function futureDatabase(path) {
  const page = Buffer.alloc(4096)
  page.write('SQLite format 3\0', 0, 'latin1')
  page.writeUInt16BE(4096, 16) // page size
  page.set([1, 1, 0, 64, 32, 32], 18) // file format, reserved bytes, payload fractions
  page.writeUInt32BE(1, 24) // change counter
  page.writeUInt32BE(1, 28) // pages in the database
  page.writeUInt32BE(4, 44) // schema format
  page.writeUInt32BE(1, 56) // UTF-8
  page.writeUInt32BE(999, 60) // user_version
  page.writeUInt32BE(1, 92) // version-valid-for
  page.writeUInt32BE(3046000, 96) // SQLite version
  page[100] = 0x0d // page 1: an empty table b-tree leaf
  page.writeUInt16BE(4096, 105)
  writeFileSync(path, page)
}

const seen = new Set()
async function expectCode(promise, code) {
  const error = await rejectsWith(promise, code)
  assert.equal(error.kind, errorKind(code))
  assert.equal(typeof error.message, 'string')
  assert.ok(error.message.length > 0)
  assert.equal(error.message[0], error.message[0].toLowerCase(), 'messages are lowercase')
  seen.add(code)
  return error
}

describe('every reachable error code', () => {
  test('VALIDATION_FAILED carries errors [{field, code, message}]', async () => {
    const w = await world()
    const error = await expectCode(
      w.service.send(newPersonRequest(w, 'bad', { newUser: { firstName: '', lastName: 'X', email: 'bad' } })),
      'VALIDATION_FAILED',
    )
    assert.deepEqual(
      error.errors.map((e) => [e.field, e.code]).sort(),
      [['email', 'INVALID_EMAIL'], ['first_name', 'REQUIRED']],
    )
    for (const e of error.errors) assert.deepEqual(Object.keys(e).sort(), ['code', 'field', 'message'])
  })

  test('a bad lifetime is one more field error, never the only one reported', async () => {
    const w = await world()
    for (const expiresInSeconds of [NaN, 1.5, -Infinity]) {
      const request = { inviterId: w.ada.id, newUser: { email: 'bad' }, expiresInSeconds }
      const fields = (e) => e.errors.map((x) => `${x.field}:${x.code}`).sort()
      const sent = await expectCode(w.service.send(request), 'VALIDATION_FAILED')
      assert.ok(fields(sent).includes('expires_in:OUT_OF_RANGE'), fields(sent))
      assert.ok(fields(sent).includes('email:INVALID_EMAIL'), fields(sent))
      assert.ok(fields(sent).includes('business_id:REQUIRED'), fields(sent))
      const bulk = await expectCode(w.service.bulkSend({ inviterId: w.ada.id, rows: [], expiresInSeconds }), 'VALIDATION_FAILED')
      assert.ok(fields(bulk).includes('expires_in:OUT_OF_RANGE') && fields(bulk).includes('business_id:REQUIRED'), fields(bulk))
    }
  })

  test('a newUser whose every field is null is no new user (as in Python)', async () => {
    const w = await world()
    const empty = { firstName: null, lastName: null, email: null }
    const sent = await w.service.send({ ...newPersonRequest(w, 'unused@example.com'), newUser: empty, userId: w.alice.id })
    assert.equal(sent.invitation.email, w.alice.email)
    const bulk = await w.service.bulkSend({
      inviterId: w.ada.id, businessId: w.acme.id, appId: w.billing.id, subscriptionId: w.enterprise.id, roleId: w.member.id,
      rows: [{ userId: w.ada.id, newUser: {} }],
    })
    assert.equal(bulk.sent, 1)
  })

  test('UNKNOWN_OPTION for malformed and foreign ids, TOO_LONG, INVALID_CHARACTERS, OUT_OF_RANGE, CONFLICTING', async () => {
    const w = await world()
    let error = await expectCode(
      w.service.send(newPersonRequest(w, 'k@example.com', { subscriptionId: 'not-a-uuid', roleId: w.analyticsRole.id })),
      'VALIDATION_FAILED',
    )
    assert.ok(error.errors.some((e) => e.field === 'subscription_id' && e.code === 'UNKNOWN_OPTION'))
    error = await expectCode(
      w.service.send(newPersonRequest(w, 'k@example.com', { subscriptionId: w.globexTeam.id })),
      'VALIDATION_FAILED',
    )
    assert.deepEqual(error.errors.map((e) => [e.field, e.code]), [['subscription_id', 'UNKNOWN_OPTION']])
    error = await expectCode(
      w.service.send(newPersonRequest(w, 'k@example.com', { newUser: { firstName: 'x'.repeat(101), lastName: 'A\u202eB', email: 'k@example.com' } })),
      'VALIDATION_FAILED',
    )
    assert.deepEqual(
      error.errors.map((e) => [e.field, e.code]).sort(),
      [['first_name', 'TOO_LONG'], ['last_name', 'INVALID_CHARACTERS']],
    )
    error = await expectCode(w.service.send(newPersonRequest(w, 'k@example.com', { expiresInSeconds: 60 })), 'VALIDATION_FAILED')
    assert.deepEqual(error.errors.map((e) => e.code), ['OUT_OF_RANGE'])
    error = await expectCode(w.service.send(newPersonRequest(w, 'k@example.com', { userId: w.alice.id })), 'VALIDATION_FAILED')
    assert.deepEqual(error.errors.map((e) => [e.field, e.code]), [['user', 'CONFLICTING']])
    error = await expectCode(w.service.send(newPersonRequest(w, 'jos\u00e9@example.com')), 'VALIDATION_FAILED')
    assert.deepEqual(error.errors.map((e) => e.code), ['NON_ASCII_EMAIL'])
    for (const seats of [-1, 2.5, 2 ** 32, NaN]) {
      const subscription = { businessId: w.acme.id, appId: w.billing.id, plan: 'Odd', seats }
      error = await expectCode(w.service.createSubscription(subscription), 'VALIDATION_FAILED')
      assert.deepEqual(error.errors.map((e) => [e.field, e.code]), [['seats', 'OUT_OF_RANGE']], String(seats))
      error = await expectCode(w.service.updateSubscription({ ...w.team, seats }), 'VALIDATION_FAILED')
      assert.deepEqual(error.errors.map((e) => [e.field, e.code]), [['seats', 'OUT_OF_RANGE']], String(seats))
    }
    // An Invalid Date is refused, not read as 1970-01-01.
    const invalid = new Date('garbage')
    error = await expectCode(
      w.service.createSubscription({ businessId: w.acme.id, appId: w.billing.id, plan: 'Odd', validUntil: invalid }),
      'VALIDATION_FAILED',
    )
    assert.deepEqual(error.errors.map((e) => [e.field, e.code]), [['valid_until', 'OUT_OF_RANGE']])
    error = await expectCode(w.service.updateSubscription({ ...w.team, validFrom: invalid }), 'VALIDATION_FAILED')
    assert.deepEqual(error.errors.map((e) => [e.field, e.code]), [['valid_from', 'OUT_OF_RANGE']])
    // A window that ends before it starts could never be active.
    const from = new Date('2030-01-02T00:00:00Z')
    for (const until of [from, new Date('2030-01-01T00:00:00Z')]) {
      error = await expectCode(w.service.updateSubscription({ ...w.team, validFrom: from, validUntil: until }), 'VALIDATION_FAILED')
      assert.deepEqual(error.errors.map((e) => [e.field, e.code]), [['valid_until', 'OUT_OF_RANGE']])
      error = await expectCode(
        w.service.createSubscription({ businessId: w.acme.id, appId: w.billing.id, plan: 'Empty', validFrom: from, validUntil: until }),
        'VALIDATION_FAILED',
      )
      assert.deepEqual(error.errors.map((e) => [e.field, e.code]), [['valid_until', 'OUT_OF_RANGE']])
    }
    assert.deepEqual(await w.service.getSubscription(w.acme.id, w.team.id), w.team)
    // Instants outside the years 1 to 9999 are refused too: no binding could read them back.
    for (const far of [new Date('+010000-01-01T00:00:00Z'), new Date('0000-06-01T00:00:00Z'), new Date(-8.64e15)]) {
      error = await expectCode(w.service.updateSubscription({ id: w.team.id, businessId: w.acme.id, validUntil: far }), 'VALIDATION_FAILED')
      assert.deepEqual(error.errors.map((e) => [e.field, e.code]), [['valid_until', 'OUT_OF_RANGE']])
      assert.throws(() => w.clock.set(far), (e) => e.code === 'VALIDATION_FAILED')
    }
    const before = w.clock.now()
    assert.throws(() => w.clock.advanceSeconds(9000 * 365 * 86400), (e) => e.code === 'VALIDATION_FAILED')
    assert.deepEqual(w.clock.now(), before, 'a refused move leaves the clock')
    assert.throws(() => new ManualClock(invalid), (e) => e.code === 'VALIDATION_FAILED')
    assert.throws(() => w.clock.set(invalid), (e) => e.code === 'VALIDATION_FAILED')
    assert.ok(w.clock.now().getTime() > 0, 'the clock did not move to 1970')
    // A string outside a union is a field error, like any other unknown option.
    const unknown = async (promise, field) => {
      const e = await expectCode(promise, 'VALIDATION_FAILED')
      assert.deepEqual(e.errors.map((f) => [f.field, f.code]), [[field, 'UNKNOWN_OPTION']])
    }
    await unknown(w.service.listInvitations(w.acme.id, { status: 'bogus' }), 'status')
    await unknown(w.service.createSubscription({ businessId: w.acme.id, appId: w.billing.id, plan: 'P', status: 'paused' }), 'status')
    await unknown(w.service.updateSubscription({ ...w.team, status: 'paused' }), 'status')
    const form = new InviteForm()
    for (const act of [() => form.setMode('x'), () => new InviteForm({ mode: 'x' })]) {
      assert.throws(act, (e) => e.code === 'VALIDATION_FAILED' && e.errors[0].field === 'mode' && e.errors[0].code === 'UNKNOWN_OPTION')
    }
    form.setMode('new')
    assert.equal(form.state.mode, 'new')
    for (const limit of [2 ** 32 + 50, -1, 0.5]) {
      error = await expectCode(w.service.listInvitations(w.acme.id, { limit }), 'VALIDATION_FAILED')
      assert.deepEqual(error.errors.map((e) => [e.field, e.code]), [['limit', 'OUT_OF_RANGE']], String(limit))
    }
  })

  test('INVALID_CONFIG', async () => {
    await expectCode(InviteService.open({ store: 'mysql://nope' }), 'INVALID_CONFIG')
    await expectCode(InviteService.open({ acceptBaseUrl: 'javascript:alert(1)' }), 'INVALID_CONFIG')
    await expectCode(InviteService.open({ defaultExpirySeconds: 60 }), 'INVALID_CONFIG')
    await expectCode(InviteService.open({ outboxKey: new Uint8Array(5) }), 'INVALID_CONFIG')
    // Counts are whole numbers in range, never wrapped (-1 is not 4294967295, 2³² not 0):
    // a bad one is a bad configuration, like any other bad option.
    for (const bad of [-1, 2.5, 2 ** 32, NaN, Infinity]) {
      for (const options of [
        { limits: { pendingPerBusiness: bad } },
        { limits: { invitesPerInviterPerDay: bad } },
        { delivery: { maxAttempts: bad } },
        { defaultExpirySeconds: bad },
      ]) {
        await expectCode(InviteService.open(options), 'INVALID_CONFIG')
      }
    }
    // Options that are not a plain object of known names reject: they never open a
    // default in-memory store in place of the one meant.
    for (const options of [
      'sqlite:/tmp/never-opened.db',
      ['sqlite:/tmp/never-opened.db'],
      42,
      { storeUrl: 'sqlite:/tmp/never-opened.db' },
      { acceptBaseURL: 'https://app.example.com/accept' },
      { limits: { pendingPerBuisness: 10 } },
      { delivery: { retries: 3 } },
      { limits: 'strict' },
      { limits: 5 },
      { limits: true },
      { limits: [1] },
      { delivery: 'fast' },
      { store: 42 },
      { execution: 'fast' },
      // Objects whose entries are no own properties: a Map, an un-awaited Promise of the
      // options, a class instance.
      new Map([['store', 'sqlite:/tmp/never-opened.db']]),
      Promise.resolve({ store: 'sqlite:/tmp/never-opened.db' }),
      new (class Settings { get store() { return 'sqlite:/tmp/never-opened.db' } })(),
      { limits: new Map([['pendingPerBusiness', 10]]) },
    ]) {
      await expectCode(InviteService.open(options), 'INVALID_CONFIG')
    }
    assert.equal((await InviteService.open(Object.assign(Object.create(null), { execution: 'inline' }))).config().execution, 'inline')
    assert.equal((await InviteService.open(null)).storeKind, 'memory')
    assert.equal((await InviteService.open(undefined)).storeKind, 'memory')
    // null is "no limit" for each limit, the resend cooldown included.
    const unlimited = await InviteService.open({
      limits: { invitesPerInviterPerDay: null, resendCooldownSeconds: null, pendingPerBusiness: null },
    })
    assert.deepEqual(unlimited.config().limits, { invitesPerInviterPerDay: null, resendCooldownSeconds: 0, pendingPerBusiness: null })
    await expectCode(InviteService.open({ delivery: { maxAttempts: 101 } }), 'INVALID_CONFIG')
    await expectCode(InviteService.open({ delivery: { baseBackoffSeconds: 60, maxBackoffSeconds: 0 } }), 'INVALID_CONFIG')
    const w = await world()
    await expectCode(w.service.dispatchOutbox(42), 'INVALID_CONFIG')
    // Bad options or a throwing getter reject the Promise: nothing is thrown
    // synchronously past a `.catch` (a dispatch on an interval never crashes).
    const mailer = async () => {}
    for (const [options, code] of [
      [{ timeoutSeconds: '5' }, 'VALIDATION_FAILED'],
      [{ timeoutSeconds: 0 }, 'VALIDATION_FAILED'],
      [{ timeoutSecs: 5 }, 'INVALID_CONFIG'],
      ['fast', 'INVALID_CONFIG'],
      [[], 'INVALID_CONFIG'],
    ]) {
      let promise
      assert.doesNotThrow(() => { promise = w.service.dispatchOutbox(mailer, options) })
      await expectCode(promise, code)
    }
    let promise
    assert.doesNotThrow(() => {
      promise = w.service.dispatchOutbox({
        get send() {
          throw new Error('getter boom')
        },
      })
    })
    await expectCode(promise, 'INVALID_CONFIG')
    // Throwing getters and proxy traps anywhere in the options: a rejection (or, for the
    // synchronous Mailer.fromConfig, this package's error), never the user's own throw.
    const boom = () => {
      throw new Error('user boom')
    }
    for (const call of [
      () => InviteService.open({ get limits() { return boom() } }),
      () => InviteService.open(new Proxy({}, { ownKeys: boom })),
      () => w.service.dispatchOutbox(mailer, new Proxy({}, { ownKeys: boom })),
      () => w.service.dispatchOutbox({ get kind() { return boom() } }),
    ]) {
      let pending
      assert.doesNotThrow(() => { pending = call() })
      await expectCode(pending, 'INVALID_CONFIG')
    }
    assert.throws(
      () => Mailer.fromConfig({ kind: 'smtp', get host() { return boom() } }),
      (e) => e.code === 'INVALID_CONFIG',
    )
    await expectCode(w.service.dispatchOutbox({ deliver() {} }), 'INVALID_CONFIG')
  })

  test('INVALID_CONFIG for a clock whose expiries would leave the year 9999', async () => {
    // A week before the year 10000 an invitation would expire in it, which neither a
    // Python datetime nor RFC 3339 can hold: refused, nothing written, in every language.
    const w = await world()
    w.clock.set(new Date('9999-12-28T00:00:00Z'))
    await expectCode(w.service.send(newPersonRequest(w, 'ada@example.com')), 'INVALID_CONFIG')
    assert.equal((await w.service.seatUsage(w.acme.id, w.team.id)).reserved, 0)
    assert.deepEqual((await w.service.listInvitations(w.acme.id)).items, [])
    const sent = await w.service.send(newPersonRequest(w, 'ada@example.com', { expiresInSeconds: 3600 }))
    assert.deepEqual(sent.invitation.expiresAt, new Date('9999-12-28T01:00:00Z'))
  })

  test('arguments of the wrong type throw synchronously with a napi status code', async () => {
    const w = await world()
    const circular = {}
    circular.self = circular
    let toJsonRan = false
    const watched = { toJSON() { toJsonRan = true; return {} } }
    for (const call of [
      () => w.service.send(),
      () => w.service.accept(null),
      () => w.service.createUser(undefined),
      () => w.service.revoke(null),
      () => w.service.getBusiness(circular),
      () => w.service.getBusiness({ n: 1n }),
      () => w.service.getBusiness(watched),
      () => w.service.bulkSend({ inviterId: w.ada.id, rows: [null] }),
      () => w.service.bulkSend({ inviterId: w.ada.id, rows: [{ userId: w.alice.id }, 7] }),
      () => new InviteForm(5),
      () => new InviteForm('saved'),
    ]) {
      assert.throws(call, (e) => e instanceof Error && e.code === 'InvalidArg')
    }
    assert.equal(toJsonRan, false)
    assert.deepEqual((await w.service.listInvitations(w.acme.id)).items, [])
  })

  test('NOT_FOUND for missing, malformed and other-business ids alike', async () => {
    const w = await world()
    const sent = await w.service.send(newPersonRequest(w, 'l@example.com'))
    await expectCode(w.service.getBusiness('00000000-0000-0000-0000-000000000000'), 'NOT_FOUND')
    await expectCode(w.service.getBusiness('garbage'), 'NOT_FOUND')
    await expectCode(w.service.getInvitation(w.globex.id, sent.invitation.id), 'NOT_FOUND')
    await expectCode(w.service.getSubscription(w.globex.id, w.team.id), 'NOT_FOUND')
  })

  test('ALREADY_EXISTS', async () => {
    const w = await world()
    await expectCode(w.service.createUser({ firstName: 'Other', lastName: 'Alice', email: 'ALICE@example.com' }), 'ALREADY_EXISTS')
  })

  test('PERMISSION_DENIED', async () => {
    const w = await world()
    // A member without the right to invite (to an outsider, the business is unknown).
    await w.service.addMembership({ businessId: w.acme.id, subscriptionId: w.enterprise.id, userId: w.alice.id, roleId: w.member.id })
    await expectCode(w.service.send(newPersonRequest(w, 'm@example.com', { inviterId: w.alice.id })), 'PERMISSION_DENIED')
  })

  test('ROLE_NOT_ASSIGNABLE: no escalation past the inviter own role', async () => {
    const w = await world()
    const sent = await w.service.send(newPersonRequest(w, 'mgr@example.com', { roleId: w.manager.id }))
    const manager = (await w.service.accept({ token: sent.token })).user
    const ok = await w.service.send(newPersonRequest(w, 'n1@example.com', { inviterId: manager.id }))
    assert.equal(ok.invitation.inviterId, manager.id)
    await expectCode(
      w.service.send(newPersonRequest(w, 'n2@example.com', { inviterId: manager.id, roleId: w.owner.id })),
      'ROLE_NOT_ASSIGNABLE',
    )
  })

  test('APP_NOT_ENABLED', async () => {
    const w = await world()
    const sub = await w.service.createSubscription({ businessId: w.acme.id, appId: w.analytics.id, plan: 'Pro', seats: 5 })
    await expectCode(
      w.service.send(newPersonRequest(w, 'o@example.com', { appId: w.analytics.id, subscriptionId: sub.id, roleId: w.analyticsRole.id })),
      'APP_NOT_ENABLED',
    )
  })

  test('SEAT_LIMIT_REACHED, also when lowering a cap below the seats taken', async () => {
    const w = await world({ seats: 1 })
    await w.service.send(newPersonRequest(w, 'p1@example.com'))
    await expectCode(w.service.send(newPersonRequest(w, 'p2@example.com')), 'SEAT_LIMIT_REACHED')
    const team = await w.service.getSubscription(w.acme.id, w.team.id)
    await expectCode(w.service.updateSubscription({ ...team, seats: 0 }), 'SEAT_LIMIT_REACHED')
  })

  test('SUBSCRIPTION_INACTIVE', async () => {
    const w = await world()
    const team = await w.service.getSubscription(w.acme.id, w.team.id)
    const suspended = await w.service.updateSubscription({ ...team, status: 'suspended' })
    assert.equal(suspended.status, 'suspended')
    await expectCode(w.service.send(newPersonRequest(w, 'q@example.com')), 'SUBSCRIPTION_INACTIVE')
  })

  test('ALREADY_MEMBER', async () => {
    const w = await world()
    await w.service.addMembership({ businessId: w.acme.id, subscriptionId: w.team.id, userId: w.alice.id, roleId: w.member.id })
    await expectCode(w.service.send(newPersonRequest(w, 'alice@example.com')), 'ALREADY_MEMBER')
  })

  test('ALREADY_INVITED', async () => {
    const w = await world()
    await w.service.send(newPersonRequest(w, 'r@example.com'))
    await expectCode(w.service.send(newPersonRequest(w, 'R@EXAMPLE.com')), 'ALREADY_INVITED')
  })

  test('INVITATION_EXPIRED', async () => {
    const w = await world()
    const sent = await w.service.send(newPersonRequest(w, 's@example.com', { expiresInSeconds: HOUR }))
    w.clock.advanceSeconds(HOUR)
    await expectCode(w.service.accept({ token: sent.token }), 'INVITATION_EXPIRED')
  })

  test('INVITATION_NOT_PENDING', async () => {
    const w = await world()
    const sent = await w.service.send(newPersonRequest(w, 't@example.com'))
    const action = { businessId: w.acme.id, invitationId: sent.invitation.id, actorId: w.ada.id }
    await w.service.revoke(action)
    await expectCode(w.service.revoke(action), 'INVITATION_NOT_PENDING')
  })

  test('INVALID_TOKEN', async () => {
    const w = await world()
    await expectCode(w.service.peek('short'), 'INVALID_TOKEN')
    await expectCode(w.service.accept({ token: 'A'.repeat(43) }), 'INVALID_TOKEN')
    await expectCode(w.service.decline(''), 'INVALID_TOKEN')
  })

  test('EMAIL_MISMATCH', async () => {
    const w = await world()
    const sent = await w.service.send(newPersonRequest(w, 'u@example.com'))
    await expectCode(w.service.accept({ token: sent.token, email: 'someone-else@example.com' }), 'EMAIL_MISMATCH')
    await expectCode(w.service.accept({ token: sent.token, userId: w.alice.id }), 'EMAIL_MISMATCH')
  })

  test('RATE_LIMITED carries retryAfterSeconds', async () => {
    const w = await world({ limits: { resendCooldownSeconds: 60 } })
    const sent = await w.service.send(newPersonRequest(w, 'v@example.com'))
    w.clock.advanceSeconds(20)
    const error = await expectCode(
      w.service.resend({ businessId: w.acme.id, invitationId: sent.invitation.id, actorId: w.ada.id }),
      'RATE_LIMITED',
    )
    assert.equal(error.retryAfterSeconds, 40)
    const daily = await world({ limits: { invitesPerInviterPerDay: 1 } })
    await daily.service.send(newPersonRequest(daily, 'w1@example.com'))
    const e2 = await expectCode(daily.service.send(newPersonRequest(daily, 'w2@example.com')), 'RATE_LIMITED')
    assert.ok(e2.retryAfterSeconds > 0)
  })

  test('STORAGE_UNAVAILABLE: the sqlite file cannot be opened or is not a database', async () => {
    const error = await expectCode(InviteService.open({ store: `sqlite:${join(dir, 'missing', 'dir', 'x.db')}` }), 'STORAGE_UNAVAILABLE')
    assert.equal(error.kind, 'storage')
    // The underlying failure is the cause: a plain Error, no code outside the contract.
    assert.ok(error.cause instanceof Error)
    assert.equal(error.cause.code, undefined)
    writeFileSync(join(dir, 'text.db'), 'not a database '.repeat(300))
    await expectCode(InviteService.open({ store: `sqlite:${join(dir, 'text.db')}` }), 'STORAGE_UNAVAILABLE')
  })

  test('INVALID_CONFIG: a page size SQLite does not take; a good one shapes a new file', async () => {
    for (const bytes of ['3000', '256', '131072', 'big']) {
      await expectCode(InviteService.open({ store: `sqlite:${join(dir, 'never.db')}?page_size=${bytes}` }), 'INVALID_CONFIG')
    }
    assert.ok(!existsSync(join(dir, 'never.db')), 'no file is created for a refused option')
    const pageSize = (name) => readFileSync(join(dir, name)).readUInt16BE(16)
    await InviteService.open({ store: `sqlite:${join(dir, 'default-pages.db')}` })
    assert.equal(pageSize('default-pages.db'), 2048)
    await InviteService.open({ store: `sqlite:${join(dir, 'big-pages.db')}?page_size=8192` })
    assert.equal(pageSize('big-pages.db'), 8192)
  })

  test('SCHEMA_VERSION_UNSUPPORTED: a database from a newer version', async () => {
    futureDatabase(join(dir, 'future.db'))
    await expectCode(InviteService.open({ store: `sqlite:${join(dir, 'future.db')}` }), 'SCHEMA_VERSION_UNSUPPORTED')
  })

  test('IDEMPOTENCY_CONFLICT, and a replay returns the first result', async () => {
    const w = await world()
    const first = await w.service.send(newPersonRequest(w, 'x@example.com', { idempotencyKey: 'k-1' }))
    const replay = await w.service.send(newPersonRequest(w, 'x@example.com', { idempotencyKey: 'k-1' }))
    assert.equal(replay.replayed, true)
    assert.equal(replay.invitation.id, first.invitation.id)
    assert.equal(replay.token, first.token)
    await expectCode(w.service.send(newPersonRequest(w, 'y@example.com', { idempotencyKey: 'k-1' })), 'IDEMPOTENCY_CONFLICT')
  })

  test('the storage-only list names storage and internal codes only', () => {
    for (const code of STORAGE_ONLY) {
      assert.ok(errorCodes().includes(code), code)
      assert.ok(['storage', 'internal'].includes(errorKind(code)), `${code} is ${errorKind(code)}`)
    }
  })

  test('every code is provoked above or listed as storage-only', () => {
    const missing = errorCodes().filter((c) => !seen.has(c) && !STORAGE_ONLY.includes(c))
    assert.deepEqual(missing, [], 'every code is provoked here or listed as storage-only')
    const both = STORAGE_ONLY.filter((c) => seen.has(c))
    assert.deepEqual(both, [], 'a storage-only code was reached: take it off the list')
  })
})

test('isInviteError tells this package\'s errors from any other value', async () => {
  const w = await world()
  const refused = await rejectsWith(w.service.send({ inviterId: w.ada.id }), 'VALIDATION_FAILED')
  assert.equal(isInviteError(refused), true)
  const coded = Object.assign(new Error('x'), { code: 'SEAT_LIMIT_REACHED' })
  assert.equal(isInviteError(coded), true)
  for (const other of [
    new Error('plain'),
    Object.assign(new Error('fs'), { code: 'ENOENT' }),
    { code: 'SEAT_LIMIT_REACHED', message: 'not an Error' },
    'VALIDATION_FAILED',
    null,
    undefined,
    42,
  ]) {
    assert.equal(isInviteError(other), false, String(other?.code ?? other))
  }
})
