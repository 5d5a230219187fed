// The Node host example (examples/node/server.mjs): started on 127.0.0.1 with an
// ephemeral port and driven over HTTP through the page's steps.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { InviteService, ManualClock } from '../index.js'
import { seed, start } from '../../../examples/node/server.mjs'

describe('examples/node/server.mjs over HTTP', () => {
  let server
  let base
  let demo
  let service
  const mailbox = []
  const clock = new ManualClock(new Date('2026-03-02T09:00:00Z'))

  before(async () => {
    service = await InviteService.open({ clock, acceptBaseUrl: 'http://127.0.0.1/accept' })
    demo = await seed(service)
    ;({ server, url: base } = await start(service, { port: 0, host: '127.0.0.1', mailbox }))
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/)
  })
  after(() => new Promise((resolve) => server.close(resolve)))

  async function call(method, path, body, user = demo.ada.id) {
    const response = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json', ...(user ? { 'x-user-id': user } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    })
    return { status: response.status, body: await response.json() }
  }

  test('options: businesses, then apps, then subscriptions with seats, then roles', async () => {
    const businesses = await call('GET', '/api/options/businesses')
    assert.equal(businesses.status, 200)
    assert.deepEqual(businesses.body.map((b) => b.business.name), ['Acme'])
    assert.deepEqual((await call('GET', '/api/options/apps')).body, [], 'empty until a business is chosen')
    const apps = await call('GET', `/api/options/apps?businessId=${demo.acme.id}`)
    assert.deepEqual(apps.body.map((a) => a.name), ['Billing'])
    assert.deepEqual((await call('GET', `/api/options/subscriptions?businessId=${demo.acme.id}`)).body, [])
    const subs = await call('GET', `/api/options/subscriptions?businessId=${demo.acme.id}&appId=${demo.billing.id}`)
    assert.deepEqual(subs.body.map((s) => [s.subscription.plan, s.seats.available]), [['Team', 5]])
    const roles = await call('GET', `/api/options/roles?businessId=${demo.acme.id}&appId=${demo.billing.id}`)
    assert.deepEqual(roles.body.map((r) => r.key), ['member'])
    const users = await call('GET', '/api/users?query=ali&limit=5')
    assert.deepEqual(users.body.items.map((u) => u.email), ['alice@example.com'])
    const seats = await call('GET', `/api/seats?businessId=${demo.acme.id}&subscriptionId=${demo.team.id}`)
    assert.deepEqual(seats.body, { total: 5, used: 0, reserved: 0, available: 5, unlimited: false })
  })

  test('the form model view over HTTP', async () => {
    const view = await call('POST', '/api/form/view', { state: { businessId: demo.acme.id } })
    assert.equal(view.status, 200)
    assert.deepEqual(view.body.apps.map((a) => a.name), ['Billing'])
    assert.equal(view.body.canSend, false)
    assert.ok(view.body.hints.some((h) => h.code === 'SELECT_BUSINESS_AND_APP'))
    // A client's wrong types are dropped, never a 500.
    const odd = await call('POST', '/api/form/view', { state: { businessId: 5, mode: ['new'], extra: true } })
    assert.equal(odd.status, 200)
    assert.equal(odd.body.canSend, false)
  })

  test('send: every problem at once as 400 with field codes', async () => {
    const refused = await call('POST', '/api/invitations', { newUser: { email: 'nope' } })
    assert.equal(refused.status, 400)
    assert.equal(refused.body.error.code, 'VALIDATION_FAILED')
    const fields = refused.body.error.errors.map((e) => `${e.field}:${e.code}`).sort()
    assert.deepEqual(fields, ['app_id:REQUIRED', 'business_id:REQUIRED', 'email:INVALID_EMAIL', 'first_name:REQUIRED', 'last_name:REQUIRED', 'role_id:REQUIRED', 'subscription_id:REQUIRED'])
    const anonymous = await call('POST', '/api/invitations', {}, null)
    assert.equal(anonymous.status, 400)
    const stranger = await call('POST', '/api/invitations', {
      userId: demo.alice.id, businessId: demo.acme.id, appId: demo.billing.id, subscriptionId: demo.team.id, roleId: demo.member.id,
    }, demo.alice.id)
    // Alice has no part in Acme: to her, Acme is an unknown business (T7).
    assert.equal(stranger.status, 400)
    assert.equal(stranger.body.error.code, 'VALIDATION_FAILED')
    assert.ok(stranger.body.error.errors.some((e) => e.field === 'business_id' && e.code === 'UNKNOWN_OPTION'))
  })

  test('send, deliver, peek (no state change), accept', async () => {
    const placement = { businessId: demo.acme.id, appId: demo.billing.id, subscriptionId: demo.team.id, roleId: demo.member.id }
    const sent = await call('POST', '/api/invitations', { ...placement, newUser: { firstName: 'Bob', lastName: 'Baker', email: 'bob@example.com' } })
    assert.equal(sent.status, 201)
    assert.equal(sent.body.invitation.status, 'pending')
    assert.equal(sent.body.token, undefined, 'the token is not returned to the admin page')
    const again = await call('POST', '/api/invitations', { ...placement, newUser: { firstName: 'Bob', lastName: 'Baker', email: 'BOB@example.com' } })
    assert.equal(again.status, 409)
    assert.equal(again.body.error.code, 'ALREADY_INVITED')

    const dispatched = await call('POST', '/api/outbox/dispatch')
    assert.deepEqual(dispatched.body, { delivered: 1, retrying: 0, failed: 0 })
    const [email] = (await call('GET', '/api/outbox/sent')).body
    assert.equal(email.to, 'bob@example.com')
    const token = new URL(email.acceptLink).searchParams.get('token')

    const peek1 = await call('GET', `/api/accept?token=${encodeURIComponent(token)}`, undefined, null)
    const peek2 = await call('GET', `/api/accept?token=${encodeURIComponent(token)}`, undefined, null)
    assert.equal(peek1.status, 200)
    assert.deepEqual(peek1.body, peek2.body)
    assert.equal(peek1.body.businessName, 'Acme')
    assert.equal(peek1.body.invitation.status, 'pending')

    const accepted = await call('POST', '/api/accept', { token }, null)
    assert.equal(accepted.status, 200)
    assert.equal(accepted.body.userCreated, true)
    const reused = await call('POST', '/api/accept', { token }, null)
    assert.equal(reused.status, 400)
    assert.equal(reused.body.error.code, 'INVALID_TOKEN')
    const seats = await call('GET', `/api/seats?businessId=${demo.acme.id}&subscriptionId=${demo.team.id}`)
    assert.equal(seats.body.used, 1)
  })

  test('resend is rate limited with Retry-After; revoke frees the seat', async () => {
    const placement = { businessId: demo.acme.id, appId: demo.billing.id, subscriptionId: demo.team.id, roleId: demo.member.id }
    const sent = await call('POST', '/api/invitations', { ...placement, userId: demo.alice.id })
    assert.equal(sent.status, 201)
    const ids = { businessId: demo.acme.id, invitationId: sent.body.invitation.id }
    const response = await fetch(`${base}/api/invitations/resend`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': demo.ada.id },
      body: JSON.stringify(ids),
    })
    assert.equal(response.status, 429)
    assert.equal((await response.json()).error.code, 'RATE_LIMITED')
    assert.ok(Number(response.headers.get('retry-after')) > 0)
    clock.advanceSeconds(120)
    assert.equal((await call('POST', '/api/invitations/resend', ids)).status, 200)
    const revoked = await call('POST', '/api/invitations/revoke', ids)
    assert.equal(revoked.body.status, 'revoked')
    const list = await call('GET', `/api/invitations?businessId=${demo.acme.id}&status=revoked`)
    assert.deepEqual(list.body.items.map((i) => i.id), [ids.invitationId])
  })

  test("another tenant's business reads as missing (T7)", async () => {
    const globex = await service.createBusiness('Globex')
    await service.setAppEnabled(globex.id, demo.billing.id, true)
    const gold = await service.createSubscription({ businessId: globex.id, appId: demo.billing.id, plan: 'Gold', seats: 40 })
    for (const path of [
      `/api/invitations?businessId=${globex.id}`,
      `/api/seats?businessId=${globex.id}&subscriptionId=${gold.id}`,
      `/api/options/subscriptions?businessId=${globex.id}&appId=${demo.billing.id}`,
      '/api/invitations?businessId=00000000-0000-0000-0000-000000000000',
    ]) {
      const read = await call('GET', path)
      assert.deepEqual([read.status, read.body.error.code], [404, 'NOT_FOUND'], path)
    }
    assert.equal((await call('GET', `/api/invitations?businessId=${demo.acme.id}`)).status, 200)
    assert.equal((await call('GET', `/api/invitations?businessId=${demo.acme.id.toUpperCase()}`)).status, 200)
    // The directory, the dispatcher and the demo mailbox (live links) need a caller, and
    // the mailbox shows each caller only their businesses' emails.
    for (const [method, path] of [['GET', '/api/users?query=a'], ['POST', '/api/outbox/dispatch'], ['GET', '/api/outbox/sent']]) {
      assert.equal((await call(method, path, undefined, null)).status, 400, path)
    }
    const stranger = await service.createUser({ firstName: 'Sam', lastName: 'Stranger', email: 'sam@globex.example' })
    await service.setBusinessAdmin(globex.id, stranger.id, true)
    const theirs = await call('GET', '/api/outbox/sent', undefined, stranger.id)
    assert.deepEqual([theirs.status, theirs.body.filter((e) => e.businessId === demo.acme.id)], [200, []])
    assert.ok((await call('GET', '/api/outbox/sent')).body.some((e) => e.businessId === demo.acme.id), "Acme's own")
  })

  test('bad requests: unknown route, malformed JSON, unknown ids', async () => {
    assert.equal((await call('GET', '/api/nope')).status, 404)
    const bad = await fetch(`${base}/api/invitations`, { method: 'POST', headers: { 'x-user-id': demo.ada.id }, body: '{nope' })
    assert.equal(bad.status, 400)
    const missing = await call('GET', `/api/seats?businessId=${demo.acme.id}&subscriptionId=00000000-0000-0000-0000-000000000000`)
    assert.equal(missing.status, 404)
    assert.equal(missing.body.error.code, 'NOT_FOUND')
  })
})

describe('examples/node/server.mjs run as a program, mail by configuration', () => {
  const script = fileURLToPath(new URL('../../../examples/node/server.mjs', import.meta.url))

  /** Starts the example with `env`; resolves to `{ child, base, adaId }` once it listens. */
  function launch(env) {
    const child = spawn(process.execPath, [script], { env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    return new Promise((resolve, reject) => {
      let out = ''
      let err = ''
      child.stdout.on('data', (chunk) => {
        out += chunk
        const m = out.match(/listening on (http:\/\/\S+) \(X-User-Id: (\S+)\)\nemails: .*\n/)
        if (m) resolve({ child, base: m[1], adaId: m[2] })
      })
      child.stderr.on('data', (chunk) => (err += chunk))
      child.on('exit', (code) => reject(Object.assign(new Error(`exited ${code}`), { code, stderr: err })))
    })
  }

  test('INVITE_MAILER={"kind":"file",…}: dispatch writes the email into the directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'invite-node-example-mail-'))
    const { child, base, adaId } = await launch({ INVITE_MAILER: JSON.stringify({ kind: 'file', dir }) })
    try {
      const call = async (method, path, body) => {
        const response = await fetch(base + path, {
          method,
          headers: { 'content-type': 'application/json', 'x-user-id': adaId },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        })
        return response.json()
      }
      const [{ business }] = await call('GET', '/api/options/businesses')
      const [app] = await call('GET', `/api/options/apps?businessId=${business.id}`)
      const [{ subscription }] = await call('GET', `/api/options/subscriptions?businessId=${business.id}&appId=${app.id}`)
      const [role] = await call('GET', `/api/options/roles?businessId=${business.id}&appId=${app.id}`)
      const placement = { businessId: business.id, appId: app.id, subscriptionId: subscription.id, roleId: role.id }
      await call('POST', '/api/invitations', { ...placement, newUser: { firstName: 'Fay', lastName: 'File', email: 'fay@example.com' } })
      assert.deepEqual(await call('POST', '/api/outbox/dispatch'), { delivered: 1, retrying: 0, failed: 0 })
      const files = readdirSync(dir)
      assert.equal(files.filter((f) => f.endsWith('.json')).length, 1)
      const stored = JSON.parse(readFileSync(join(dir, files.find((f) => f.endsWith('.json'))), 'utf8'))
      assert.equal(stored.to, 'fay@example.com')
    } finally {
      child.kill()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a bad INVITE_MAILER stops the start-up with INVALID_CONFIG', async () => {
    const failed = await launch({ INVITE_MAILER: JSON.stringify({ kind: 'smtp', host: 'smtp.example.com', port: 0, tls: 'none', from: 'a@example.com' }) }).then(
      ({ child }) => {
        child.kill()
        return null
      },
      (e) => e,
    )
    assert.ok(failed, 'the example must not start')
    assert.notEqual(failed.code, 0)
    assert.match(failed.stderr, /INVALID_CONFIG/)
  })
})
