// The core's built-in mailers, configured from JavaScript: the file mailer end to end
// (files named by message id, a re-delivery overwrites), every way a configuration can
// be wrong (INVALID_CONFIG, nothing claimed), and an SMTP server that is not there (a
// retried delivery failure). SMTP against real servers: smtp.test.mjs.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

import { Mailer, buildInfo } from '../index.js'
import { HOUR, newPersonRequest, rejectsWith, world } from './helpers.mjs'

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'invite-node-mail-'))
}

async function oneInvitation(email = 'mail@example.com', options = {}) {
  const w = await world(options)
  const sent = await w.service.send(newPersonRequest(w, email))
  const [message] = await w.service.invitationMessages(w.acme.id, sent.invitation.id)
  const delivery = async () => (await w.service.getInvitation(w.acme.id, sent.invitation.id)).delivery
  return { w, sent, messageId: message.id, delivery }
}

const visible = (dir) => fs.readdirSync(dir).sort()

test('the build ships the smtp mailer', () => {
  assert.ok(buildInfo().features.includes('smtp'))
})

test('file mailer from a configuration object: one .json and one .eml per message id', async () => {
  const { w, sent, messageId, delivery } = await oneInvitation()
  const dir = path.join(tempDir(), 'mailbox') // created on the first delivery
  assert.deepEqual(await w.service.dispatchOutbox({ kind: 'file', dir }), { delivered: 1, retrying: 0, failed: 0 })
  assert.deepEqual(visible(dir), [`${messageId}.eml`, `${messageId}.json`])
  const stored = JSON.parse(fs.readFileSync(path.join(dir, `${messageId}.json`), 'utf8'))
  assert.equal(stored.message_id, messageId)
  assert.equal(stored.invitation_id, sent.invitation.id)
  assert.equal(stored.business_id, w.acme.id)
  assert.equal(stored.to, 'mail@example.com')
  assert.equal(stored.accept_link, sent.acceptLink)
  const eml = fs.readFileSync(path.join(dir, `${messageId}.eml`), 'utf8')
  assert.match(eml, /^To: mail@example\.com\r?$/m)
  assert.ok(eml.includes(messageId), 'the Message-ID carries the stable message id')
  assert.equal((await delivery()).state, 'sent')
  // Nothing more is due: a second run writes nothing.
  assert.deepEqual(await w.service.dispatchOutbox({ kind: 'file', dir }), { delivered: 0, retrying: 0, failed: 0 })
  assert.deepEqual(visible(dir), [`${messageId}.eml`, `${messageId}.json`])
})

test('a Mailer built once delivers many invitations, each under its own message id', async () => {
  const w = await world()
  const dir = tempDir()
  const mailer = Mailer.fromConfig({ kind: 'file', dir, from: 'invites@acme.example', fromName: 'Acme Invitations' })
  assert.equal(mailer.kind, 'file')
  const ids = []
  for (const email of ['one@example.com', 'two@example.com', 'three@example.com']) {
    const sent = await w.service.send(newPersonRequest(w, email))
    ids.push((await w.service.invitationMessages(w.acme.id, sent.invitation.id))[0].id)
  }
  assert.equal((await w.service.dispatchOutbox(mailer)).delivered, 3)
  assert.deepEqual(visible(dir), ids.flatMap((id) => [`${id}.eml`, `${id}.json`]).sort())
  const eml = fs.readFileSync(path.join(dir, `${ids[0]}.eml`), 'utf8')
  assert.match(eml, /^From: "?Acme Invitations"? <invites@acme\.example>\r?$/m)
  assert.equal(Mailer.file(dir).kind, 'file')
})

test('a re-delivery of the same message overwrites its files instead of adding copies', async () => {
  const { w, messageId, delivery } = await oneInvitation()
  const dir = tempDir()
  const json = path.join(dir, `${messageId}.json`)
  const eml = path.join(dir, `${messageId}.eml`)
  // A directory where the .json goes: the .eml is written, then the delivery fails.
  fs.mkdirSync(json)
  const mailer = Mailer.file(dir)
  assert.deepEqual(await w.service.dispatchOutbox(mailer), { delivered: 0, retrying: 1, failed: 0 })
  const d = await delivery()
  assert.deepEqual([d.state, d.attempts, typeof d.lastError], ['queued', 1, 'string'])
  const first = fs.statSync(eml)
  const firstText = fs.readFileSync(eml, 'utf8')
  fs.rmdirSync(json)
  // The retry (after the backoff) delivers the same message id again.
  w.clock.advanceSeconds(HOUR)
  assert.deepEqual(await w.service.dispatchOutbox(mailer), { delivered: 1, retrying: 0, failed: 0 })
  assert.deepEqual(visible(dir), [`${messageId}.eml`, `${messageId}.json`], 'no copies, no temporary files')
  assert.notEqual(fs.statSync(eml).ino, first.ino, 'the .eml was replaced (written anew, renamed into place)')
  const messageIdHeader = (text) => text.match(/^Message-ID: (.*)$/m)?.[1]
  assert.ok(messageIdHeader(firstText).includes(messageId))
  assert.equal(messageIdHeader(fs.readFileSync(eml, 'utf8')), messageIdHeader(firstText), 'the same message')
  assert.equal(JSON.parse(fs.readFileSync(json, 'utf8')).message_id, messageId)
  assert.equal((await delivery()).state, 'sent')
})

test('a file mailer that cannot write is a retried delivery failure', async () => {
  const { w, sent, delivery } = await oneInvitation()
  const blocker = path.join(tempDir(), 'a-file')
  fs.writeFileSync(blocker, 'not a directory')
  assert.deepEqual(await w.service.dispatchOutbox({ kind: 'file', dir: blocker }), { delivered: 0, retrying: 1, failed: 0 })
  assert.equal((await delivery()).state, 'queued')
  const events = await w.service.listEvents(w.acme.id, { invitationId: sent.invitation.id })
  assert.equal(events.items.at(-1).kind, 'delivery_failed')
})

const SMTP = { kind: 'smtp', host: '127.0.0.1', port: 2525, tls: 'none', from: 'invites@example.com' }
const SECRET = 'pw-never-shown-3141'
const badConfigs = {
  'an unknown kind': { kind: 'fax', number: '555' },
  'a non-string kind': { kind: 7, dir: '/tmp' },
  'a file mailer without dir': { kind: 'file' },
  'a file mailer with an empty dir': { kind: 'file', dir: '' },
  'a file mailer with a numeric dir': { kind: 'file', dir: 42 },
  'a file mailer with fromName but no from': { kind: 'file', dir: '/tmp/x', fromName: 'Acme' },
  'a file mailer with a bad sender': { kind: 'file', dir: '/tmp/x', from: 'not an address' },
  'a file mailer with an unknown option': { kind: 'file', dir: '/tmp/x', colour: 'red' },
  'smtp without host': { ...SMTP, host: undefined },
  'smtp with an empty host': { ...SMTP, host: '' },
  'smtp with a host with spaces': { ...SMTP, host: 'smtp example com' },
  'smtp port 0': { ...SMTP, port: 0 },
  'smtp port 65536': { ...SMTP, port: 65536 },
  'smtp fractional port': { ...SMTP, port: 25.5 },
  'smtp port as a string': { ...SMTP, port: '25' },
  'smtp NaN port': { ...SMTP, port: Number.NaN },
  'smtp with an unknown tls': { ...SMTP, tls: 'ssl' },
  'smtp without from': { ...SMTP, from: undefined },
  'smtp with a bad from': { ...SMTP, from: 'nope' },
  'smtp username without password': { ...SMTP, username: 'user' },
  'smtp password without username': { ...SMTP, password: SECRET },
  'smtp zero timeout': { ...SMTP, timeoutSeconds: 0 },
  'smtp negative timeout': { ...SMTP, timeoutSeconds: -1 },
  'smtp timeout as a string': { ...SMTP, timeoutSeconds: '5' },
  'smtp with a CA that is not PEM': { ...SMTP, tls: 'starttls', extraRootCertificatePem: 'garbage' },
  'smtp with a misspelt option': { ...SMTP, usename: 'user', password: SECRET },
  'smtp with a hello name that writes a command': { ...SMTP, helloName: 'app.example\r\nRCPT TO:<attacker@evil.test>' },
  'smtp with a hello name with a space': { ...SMTP, helloName: 'app example' },
}

test('every bad configuration is INVALID_CONFIG, thrown by Mailer.fromConfig', () => {
  for (const [name, config] of Object.entries(badConfigs)) {
    assert.throws(
      () => Mailer.fromConfig(config),
      (e) => {
        assert.ok(e instanceof Error, name)
        assert.equal(e.code, 'INVALID_CONFIG', `${name}: ${e.code} ${e.message}`)
        assert.equal(e.kind, 'invalid_input')
        assert.ok(!String(e.message).includes(SECRET), `${name}: the password never shows`)
        return true
      },
      name,
    )
  }
  for (const notAnObject of [null, undefined, 'smtp', 42]) {
    assert.throws(() => Mailer.fromConfig(notAnObject), (e) => e.code === 'INVALID_CONFIG')
  }
  assert.throws(() => Mailer.smtp({ ...SMTP, kind: 'file' }), (e) => e.code === 'INVALID_CONFIG')
  assert.throws(() => Mailer.file(''), (e) => e.code === 'INVALID_CONFIG')
})

test('a bad configuration given to dispatchOutbox rejects with INVALID_CONFIG and claims nothing', async () => {
  const { w, sent, delivery } = await oneInvitation()
  for (const [name, config] of Object.entries(badConfigs)) {
    await rejectsWith(w.service.dispatchOutbox(config), 'INVALID_CONFIG').catch((e) => {
      throw new Error(`${name}: ${e.message}`)
    })
  }
  for (const notAMailer of [42, 'mailer', {}, { send: 'not a function' }, null]) {
    await rejectsWith(w.service.dispatchOutbox(notAMailer), 'INVALID_CONFIG')
  }
  const d = await delivery()
  assert.deepEqual([d.state, d.attempts], ['queued', 0])
  const messages = await w.service.invitationMessages(w.acme.id, sent.invitation.id)
  assert.deepEqual(messages.map((m) => [m.state, m.attempts]), [['queued', 0]])
})

test('valid smtp configurations build without connecting', () => {
  const mailer = Mailer.smtp({
    host: 'smtp.example.com',
    port: 587,
    tls: 'starttls',
    username: 'user',
    password: SECRET,
    timeoutSeconds: 2.5,
    from: 'invites@example.com',
    fromName: 'Acme',
    helloName: 'app.example.com',
  })
  assert.equal(mailer.kind, 'smtp')
  assert.equal(Mailer.fromConfig({ ...SMTP, tls: 'tls', port: 465, fromName: null, username: null, password: null }).kind, 'smtp')
  assert.ok(mailer.describe().includes('smtp.example.com:587'))
  assert.ok(!mailer.describe().includes(SECRET), 'the password never shows')
  assert.ok(Mailer.file('/tmp/mailbox').describe().includes('/tmp/mailbox'))
})

test('an object with a send method is a JavaScript mailer even with a kind', async () => {
  const { w } = await oneInvitation()
  const seen = []
  const transport = { kind: 'smtp', send: (email) => void seen.push(email.to) }
  assert.equal((await w.service.dispatchOutbox(transport)).delivered, 1)
  assert.deepEqual(seen, ['mail@example.com'])
})

/** A loopback port with nothing listening on it. */
async function closedPort() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

test('an smtp server that is not there is a retried delivery failure, then failed', async () => {
  const { w, sent, delivery } = await oneInvitation('nobody@example.com', { delivery: { maxAttempts: 2 } })
  const mailer = Mailer.smtp({ host: '127.0.0.1', port: await closedPort(), tls: 'none', from: 'invites@example.com', timeoutSeconds: 2 })
  assert.deepEqual(await w.service.dispatchOutbox(mailer), { delivered: 0, retrying: 1, failed: 0 })
  let d = await delivery()
  assert.deepEqual([d.state, d.attempts], ['queued', 1])
  assert.ok(d.lastError.length > 0)
  w.clock.advanceSeconds(HOUR)
  assert.deepEqual(await w.service.dispatchOutbox(mailer), { delivered: 0, retrying: 0, failed: 1 })
  d = await delivery()
  assert.deepEqual([d.state, d.attempts], ['failed', 2])
  const kinds = (await w.service.listEvents(w.acme.id, { invitationId: sent.invitation.id })).items.map((e) => e.kind)
  assert.deepEqual(kinds.filter((k) => k === 'delivery_failed').length, 2)
})
