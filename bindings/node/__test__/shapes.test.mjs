// The records JS receives have exactly the shape index.d.ts declares: the same keys in
// the same order, plain writable/enumerable/configurable data properties on plain
// objects, `Date` objects for timestamps, `null` for absent values, strings for string
// unions. The hot records (Invitation, SentInvitation, Accepted, User, Membership,
// InvitationEmail) are built by per-env JS factories (src/shape.rs) rather than by
// napi-rs's derived conversion: this checks them against the generated declarations, in
// both execution modes, in worker threads, and with code generation from strings off.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { inspect } from 'node:util'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'

import { START, mailbox, newPersonRequest, world } from './helpers.mjs'

const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8')

/** `export interface NAME { … }` of index.d.ts: its fields, in order. */
function tsInterface(name) {
  const match = dts.match(new RegExp(`^export interface ${name} \\{\\n([\\s\\S]*?)^\\}`, 'm'))
  if (!match) return null
  return [...match[1].matchAll(/^ {2}(\w+)(\?)?: (.+)$/gm)].map((m) => ({ name: m[1], optional: !!m[2], type: m[3] }))
}

/** `export type NAME = …` of index.d.ts (a string union), or null. */
function tsAlias(name) {
  const match = dts.match(new RegExp(`export type ${name} =([^\\n]*(?:\\n\\s*\\|[^\\n]*)*)`))
  return match ? match[1].trim() : null
}

/** The alternatives of a union type, split at top-level `|`. */
function alternatives(type) {
  const parts = []
  let depth = 0
  let start = 0
  for (let i = 0; i < type.length; i++) {
    const c = type[i]
    if (c === '<' || c === '(') depth++
    else if (c === '>' || c === ')') depth--
    else if (c === '|' && depth === 0) {
      parts.push(type.slice(start, i).trim())
      start = i + 1
    }
  }
  parts.push(type.slice(start).trim())
  return parts.filter((p) => p.length > 0)
}

/** Why `value` is not of TS `type` (null when it is). */
function mismatch(value, type, path) {
  const reasons = []
  for (const alt of alternatives(type)) {
    const reason = mismatchOne(value, alt, path)
    if (reason === null) return null
    reasons.push(reason)
  }
  return reasons.join('; ')
}

function mismatchOne(value, type, path) {
  if (type === 'null') return value === null ? null : `${path}: not null`
  if (type === 'string' || type === 'number' || type === 'boolean') {
    return typeof value === type ? null : `${path}: ${typeof value}, not ${type}`
  }
  if (type === 'Date') {
    return value instanceof Date && !Number.isNaN(value.getTime()) ? null : `${path}: not a valid Date`
  }
  if (/^'[^']*'$/.test(type)) return value === type.slice(1, -1) ? null : `${path}: not ${type}`
  const array = type.match(/^Array<(.+)>$/)
  if (array) {
    if (!Array.isArray(value)) return `${path}: not an array`
    for (const [i, item] of value.entries()) {
      const reason = mismatch(item, array[1], `${path}[${i}]`)
      if (reason) return reason
    }
    return null
  }
  const alias = tsAlias(type)
  if (alias !== null) return mismatch(value, alias, path)
  const fields = tsInterface(type)
  assert.ok(fields, `index.d.ts declares no ${type}`)
  return shapeMismatch(value, type, fields, path)
}

function shapeMismatch(value, type, fields, path) {
  if (typeof value !== 'object' || value === null) return `${path}: not an object (${type})`
  if (Object.getPrototypeOf(value) !== Object.prototype) return `${path}: not a plain object (${type})`
  // The one symbol key allowed is the redacting `util.inspect.custom` of the objects that
  // carry a raw token (checked where they are built).
  const keys = Reflect.ownKeys(value).filter((k) => k !== inspect.custom)
  const expected = fields.filter((f) => !f.optional || f.name in value).map((f) => f.name)
  if (JSON.stringify(keys) !== JSON.stringify(expected)) {
    return `${path}: keys ${JSON.stringify(keys)}, expected ${JSON.stringify(expected)} (${type})`
  }
  for (const field of fields) {
    if (!(field.name in value)) continue
    const d = Object.getOwnPropertyDescriptor(value, field.name)
    if (!('value' in d) || !d.writable || !d.enumerable || !d.configurable) {
      return `${path}.${field.name}: not a plain data property`
    }
    const reason = mismatch(value[field.name], field.type, `${path}.${field.name}`)
    if (reason) return reason
  }
  return null
}

/** Asserts that `value` is exactly a `type` of index.d.ts. */
function assertShape(value, type, path = type) {
  const reason = mismatch(value, type, path)
  assert.equal(reason, null, reason ?? '')
}

/** The null / non-null pattern of a record and its nested records (what `null` means). */
const nulls = (value) =>
  Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, v === null ? null : v instanceof Date || typeof v !== 'object' ? typeof v : nulls(v)]),
  )

test('the checker rejects what it must', () => {
  const user = { id: 'u', email: 'e', emailKey: 'k', firstName: 'f', lastName: 'l', createdAt: new Date() }
  assertShape(user, 'User')
  assert.match(mismatch({ ...user, extra: 1 }, 'User', 'u'), /keys/)
  const { email, ...rest } = user
  assert.match(mismatch({ ...rest, email }, 'User', 'u'), /keys/, 'order matters')
  assert.match(mismatch({ ...user, createdAt: user.createdAt.toISOString() }, 'User', 'u'), /Date/)
  assert.match(mismatch(Object.assign(Object.create({}), user), 'User', 'u'), /plain object/)
  const hidden = { ...user }
  Object.defineProperty(hidden, 'lastName', { value: 'l', enumerable: false })
  assert.match(mismatch(hidden, 'User', 'u'), /keys|data property/)
  assert.match(mismatch({ ...user, id: null }, 'User', 'u'), /string/)
})

for (const execution of ['inline', 'threadPool']) {
  test(`send, accept, revoke, decline and mailer emails have the declared shapes (${execution})`, async () => {
    const w = await world({ execution, seats: 10 })
    const box = mailbox()

    // A new person, with text that is not ASCII.
    const request = newPersonRequest(w, 'zoe@example.com', { locale: 'fr' })
    request.newUser = { firstName: 'Zoë', lastName: 'Ørsted-Łukasz 李', email: 'zoe@example.com' }
    const sent = await w.service.send(request)
    assertShape(sent, 'SentInvitation')
    assert.deepEqual(Object.keys(sent), ['invitation', 'token', 'acceptLink', 'replayed'])
    const invitation = sent.invitation
    assert.deepEqual(invitation.invitee, { kind: 'new', userId: null, firstName: 'Zoë', lastName: 'Ørsted-Łukasz 李' })
    assert.equal(invitation.status, 'pending')
    assert.equal(invitation.locale, 'fr')
    assert.equal(invitation.email, 'zoe@example.com')
    assert.equal(invitation.sendCount, 1)
    assert.equal(invitation.createdAt.getTime(), START.getTime())
    assert.equal(invitation.lastSentAt.getTime(), START.getTime())
    assert.ok(invitation.expiresAt > invitation.createdAt)
    assert.equal(invitation.respondedAt, null)
    assert.equal(invitation.acceptedUserId, null)
    assert.deepEqual(invitation.delivery, { state: 'queued', attempts: 0, lastError: null, deliveredAt: null })
    assert.equal(sent.replayed, false)
    assert.ok(sent.acceptLink.endsWith(encodeURIComponent(sent.token)) || sent.acceptLink.includes(sent.token))

    // The same invitation read back (derived path for the page, factory for its items).
    assertShape(await w.service.getInvitation(w.acme.id, invitation.id), 'Invitation')
    assert.deepEqual(nulls(await w.service.getInvitation(w.acme.id, invitation.id)), nulls(invitation))

    // The email a JS mailer receives.
    assert.deepEqual(await w.service.dispatchOutbox(box.send), { delivered: 1, retrying: 0, failed: 0 })
    const [email] = box.sent
    assertShape(email, 'InvitationEmail')
    // console.log and util.inspect never show the raw token (SECURITY.md T1), nested or
    // not; reading, spreading and JSON are unchanged.
    for (const shown of [inspect(sent), inspect({ result: sent }, { depth: 5 }), inspect(email)]) {
      assert.ok(!shown.includes(sent.token), shown)
      assert.match(shown, /<redacted>/)
    }
    assert.match(inspect(sent), /replayed: false/)
    assert.ok(JSON.stringify(sent).includes(sent.token) && { ...sent }.token === sent.token)
    assert.ok(email.text.includes(sent.token) && email.acceptLink === sent.acceptLink)
    assert.equal(email.invitationId, invitation.id)
    assert.equal(email.locale, 'fr')
    assert.equal(email.expiresAt.getTime(), invitation.expiresAt.getTime())

    // An existing user.
    const existing = await w.service.send({ ...newPersonRequest(w, 'unused@example.com'), newUser: undefined, userId: w.alice.id })
    assertShape(existing, 'SentInvitation')
    assert.deepEqual(existing.invitation.invitee, { kind: 'existing', userId: w.alice.id, firstName: null, lastName: null })
    assert.equal(existing.invitation.locale, null)

    // Accept: the new person (created) and the existing user.
    const accepted = await w.service.accept({ token: sent.token })
    assertShape(accepted, 'Accepted')
    assert.deepEqual(Object.keys(accepted), ['invitation', 'user', 'userCreated', 'membership'])
    assert.equal(accepted.userCreated, true)
    assert.equal(accepted.invitation.status, 'accepted')
    assert.ok(accepted.invitation.respondedAt instanceof Date)
    assert.equal(accepted.invitation.acceptedUserId, accepted.user.id)
    assert.equal(accepted.invitation.delivery.state, 'sent')
    assert.ok(accepted.invitation.delivery.deliveredAt instanceof Date)
    assert.equal(accepted.invitation.delivery.attempts, 1)
    assert.equal(accepted.user.firstName, 'Zoë')
    assert.equal(accepted.user.lastName, 'Ørsted-Łukasz 李')
    assert.equal(accepted.membership.userId, accepted.user.id)
    assert.equal(accepted.membership.subscriptionId, w.team.id)
    const joined = await w.service.accept({ token: existing.token, userId: w.alice.id })
    assertShape(joined, 'Accepted')
    assert.equal(joined.userCreated, false)
    assert.equal(joined.user.id, w.alice.id)

    // Revoke and decline return an Invitation; users and memberships on their own.
    const toRevoke = await w.service.send(newPersonRequest(w, 'revoke@example.com'))
    const revoked = await w.service.revoke({ businessId: w.acme.id, invitationId: toRevoke.invitation.id, actorId: w.ada.id })
    assertShape(revoked, 'Invitation')
    assert.equal(revoked.status, 'revoked')
    const toDecline = await w.service.send(newPersonRequest(w, 'decline@example.com'))
    const declined = await w.service.decline(toDecline.token)
    assertShape(declined, 'Invitation')
    assert.equal(declined.status, 'declined')
    const resent = await w.service.resend({ businessId: w.acme.id, invitationId: toRevoke.invitation.id, actorId: w.ada.id }).catch((e) => e)
    if (!(resent instanceof Error)) assertShape(resent, 'SentInvitation')
    assertShape(await w.service.createUser({ firstName: 'Ümit', lastName: 'Ω', email: 'umit@example.com' }), 'User')
    assertShape(await w.service.getUser(w.alice.id), 'User')
    const preview = await w.service.peek((await w.service.send(newPersonRequest(w, 'peek@example.com'))).token)
    assertShape(preview, 'InvitationPreview')
  })
}

test('a send and an accept give the same records inline and on the pool', async () => {
  const results = []
  for (const execution of ['inline', 'threadPool']) {
    const w = await world({ execution })
    const sent = await w.service.send(newPersonRequest(w, 'same@example.com'))
    const accepted = await w.service.accept({ token: sent.token })
    results.push({ sent: nulls(sent), accepted: nulls(accepted) })
  }
  assert.deepEqual(results[0], results[1])
})

const here = fileURLToPath(new URL('.', import.meta.url))

/** Runs `source` (an ES module) in a child process with `flags`, returning its stdout. */
function runChild(flags, source) {
  return execFileSync(process.execPath, [...flags, '--input-type=module', '-e', source], { cwd: here, encoding: 'utf8' })
}

const FLOW = `
  import { mailbox, newPersonRequest, world } from './helpers.mjs'
  const w = await world({ execution: 'inline' })
  const box = mailbox()
  const sent = await w.service.send(newPersonRequest(w, 'child@example.com'))
  await w.service.dispatchOutbox(box.send)
  const accepted = await w.service.accept({ token: sent.token })
  const keys = (o) => Object.keys(o).join(',')
  const out = [keys(sent), keys(sent.invitation), keys(box.sent[0]), keys(accepted), keys(accepted.user), keys(accepted.membership),
    sent.invitation.createdAt instanceof Date, accepted.invitation.respondedAt instanceof Date]
`

test('the records are the same with code generation from strings disallowed', () => {
  const expected = runChild([], `${FLOW}\nconsole.log(JSON.stringify(out))`)
  const restricted = runChild(['--disallow-code-generation-from-strings'], `${FLOW}
    let evalBlocked = false
    try { eval('1') } catch { evalBlocked = true }
    if (!evalBlocked) throw new Error('eval was not blocked')
    console.log(JSON.stringify(out))`)
  assert.equal(restricted, expected)
  assert.ok(JSON.parse(expected).every((x) => x !== false))
})

test('worker threads build the records in their own env, and exit cleanly', async () => {
  const source = `
    import { parentPort } from 'node:worker_threads'
    ${FLOW.replaceAll("'./helpers.mjs'", JSON.stringify(new URL('./helpers.mjs', import.meta.url).href))}
    parentPort.postMessage(out)
  `
  const runWorker = () =>
    new Promise((resolve, reject) => {
      const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`))
      let message
      worker.on('message', (m) => (message = m))
      worker.on('error', reject)
      worker.on('exit', (code) => (code === 0 ? resolve(message) : reject(new Error(`worker exited with ${code}`))))
    })
  const [a, b] = await Promise.all([runWorker(), runWorker()])
  const w = await world({ execution: 'inline' })
  const sent = await w.service.send(newPersonRequest(w, 'main@example.com'))
  assert.deepEqual(a, b)
  assert.equal(a[1], Object.keys(sent.invitation).join(','))
  assert.ok(a.every((x) => x !== false))
})

test("a renderer's context has the declared shape, with its link redacted from inspect", async () => {
  const contexts = []
  const w = await world({ renderer: (context) => (contexts.push(context), { subject: 's', text: 't', html: 'h' }) })
  const sent = await w.service.send(newPersonRequest(w, 'ctx@example.com'))
  await w.service.send({ ...newPersonRequest(w, 'unused@example.com'), newUser: undefined, userId: w.alice.id })
  await w.service.dispatchOutbox(mailbox().send)
  assert.equal(contexts.length, 2)
  for (const context of contexts) assertShape(context, 'EmailContext')
  assert.equal(contexts[0].acceptLink, sent.acceptLink)
  assert.equal(contexts[1].locale, null)
  assert.ok(!inspect(contexts[0]).includes(sent.token))
})
