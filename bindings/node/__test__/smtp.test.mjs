// The built-in SMTP mailer against real servers on loopback, started by
// scripts/with-smtp (aiosmtpd): plaintext, a server that refuses every message (550),
// STARTTLS with AUTH, and implicit TLS. Without INVITE_TEST_SMTP these tests are
// SKIPPED, and say so: run `scripts/with-smtp node --test __test__/smtp.test.mjs`.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { Mailer } from '../index.js'
import { HOUR, newPersonRequest, world } from './helpers.mjs'

const env = process.env
const MISSING = 'INVITE_TEST_SMTP is not set: run under scripts/with-smtp (scripts/test-node does)'
if (!env.INVITE_TEST_SMTP) {
  console.error(`WARNING: SMTP tests SKIPPED: ${MISSING}`)
}
const needs = (...names) => {
  const missing = names.filter((n) => !env[n])
  return missing.length === 0 ? false : `${missing.join(', ')} not set: run under scripts/with-smtp`
}

function hostPort(name) {
  const [host, port] = env[name].split(':')
  return { host, port: Number(port) }
}

/** A fresh world with one invitation to a unique address. */
async function invitation(tag, options = {}) {
  const w = await world(options)
  const to = `${tag}-${randomUUID().slice(0, 8)}@example.com`
  const sent = await w.service.send(newPersonRequest(w, to))
  const [message] = await w.service.invitationMessages(w.acme.id, sent.invitation.id)
  const delivery = async () => (await w.service.getInvitation(w.acme.id, sent.invitation.id)).delivery
  return { w, to, sent, messageId: message.id, delivery }
}

/** The messages the test servers stored for `to`: their envelope and raw text. */
async function receivedFor(to, { expect = 1, waitMs = 5000 } = {}) {
  const dir = env.INVITE_TEST_SMTP_DIR
  const deadline = Date.now() + waitMs
  for (;;) {
    const found = []
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.eml'))) {
      const stem = path.join(dir, name.slice(0, -'.eml'.length))
      const envelope = JSON.parse(fs.readFileSync(`${stem}.json`, 'utf8'))
      if (envelope.rcpt_tos.includes(to)) found.push({ envelope, raw: fs.readFileSync(`${stem}.eml`, 'utf8') })
    }
    if (found.length >= expect || Date.now() > deadline) return found
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

test('plaintext: the message arrives for the invitation\'s address alone', { skip: needs('INVITE_TEST_SMTP', 'INVITE_TEST_SMTP_DIR') }, async () => {
  const { w, to, messageId, delivery } = await invitation('plain')
  const mailer = Mailer.smtp({ ...hostPort('INVITE_TEST_SMTP'), tls: 'none', from: 'invites@acme.example', fromName: 'Acme Invitations', timeoutSeconds: 10 })
  assert.deepEqual(await w.service.dispatchOutbox(mailer), { delivered: 1, retrying: 0, failed: 0 })
  const [got, ...more] = await receivedFor(to)
  assert.equal(more.length, 0)
  assert.deepEqual(got.envelope.rcpt_tos, [to])
  assert.equal(got.envelope.mail_from, 'invites@acme.example')
  assert.deepEqual([got.envelope.server, got.envelope.tls, got.envelope.auth], ['plain', false, false])
  assert.ok(got.raw.includes(`To: ${to}`))
  assert.ok(got.raw.includes(messageId), 'the Message-ID carries the stable message id')
  assert.equal((await delivery()).state, 'sent')
})

test('a configuration object works as the mailer too', { skip: needs('INVITE_TEST_SMTP', 'INVITE_TEST_SMTP_DIR') }, async () => {
  const { w, to } = await invitation('config')
  const config = { kind: 'smtp', ...hostPort('INVITE_TEST_SMTP'), tls: 'none', from: 'invites@acme.example' }
  assert.equal((await w.service.dispatchOutbox(config)).delivered, 1)
  const [got] = await receivedFor(to)
  assert.deepEqual(got.envelope.rcpt_tos, [to])
})

test('a refusing server (550) is a retried delivery failure, then failed', { skip: needs('INVITE_TEST_SMTP_REFUSE') }, async () => {
  const { w, sent, delivery } = await invitation('refused', { delivery: { maxAttempts: 2 } })
  const config = { kind: 'smtp', ...hostPort('INVITE_TEST_SMTP_REFUSE'), tls: 'none', from: 'invites@acme.example', timeoutSeconds: 10 }
  assert.deepEqual(await w.service.dispatchOutbox(config), { delivered: 0, retrying: 1, failed: 0 })
  let d = await delivery()
  assert.deepEqual([d.state, d.attempts], ['queued', 1])
  assert.equal(typeof d.lastError, 'string')
  assert.ok(d.lastError.length > 0)
  // Not due again before the backoff; then the last attempt gives up.
  assert.deepEqual(await w.service.dispatchOutbox(config), { delivered: 0, retrying: 0, failed: 0 })
  w.clock.advanceSeconds(HOUR)
  assert.deepEqual(await w.service.dispatchOutbox(config), { delivered: 0, retrying: 0, failed: 1 })
  d = await delivery()
  assert.deepEqual([d.state, d.attempts], ['failed', 2])
  const kinds = (await w.service.listEvents(w.acme.id, { invitationId: sent.invitation.id })).items.map((e) => e.kind)
  assert.equal(kinds.filter((k) => k === 'delivery_failed').length, 2)
  assert.ok(!kinds.includes('delivered'))
})

const TLS_VARS = ['INVITE_TEST_SMTP_STARTTLS', 'INVITE_TEST_SMTP_CA', 'INVITE_TEST_SMTP_USER', 'INVITE_TEST_SMTP_PASSWORD', 'INVITE_TEST_SMTP_DIR']

test('STARTTLS with AUTH and a private CA', { skip: needs(...TLS_VARS) }, async () => {
  const { w, to, delivery } = await invitation('starttls')
  const mailer = Mailer.fromConfig({
    kind: 'smtp',
    ...hostPort('INVITE_TEST_SMTP_STARTTLS'),
    tls: 'starttls',
    username: env.INVITE_TEST_SMTP_USER,
    password: env.INVITE_TEST_SMTP_PASSWORD,
    extraRootCertificatePem: fs.readFileSync(env.INVITE_TEST_SMTP_CA, 'utf8'),
    from: 'invites@acme.example',
    timeoutSeconds: 10,
  })
  assert.deepEqual(await w.service.dispatchOutbox(mailer), { delivered: 1, retrying: 0, failed: 0 })
  const [got] = await receivedFor(to)
  assert.deepEqual([got.envelope.server, got.envelope.tls, got.envelope.auth], ['starttls', true, true])
  assert.deepEqual(got.envelope.rcpt_tos, [to])
  assert.equal((await delivery()).state, 'sent')
})

test('STARTTLS: a wrong password or an unknown CA is a delivery failure', { skip: needs(...TLS_VARS) }, async () => {
  const { w, delivery } = await invitation('badauth')
  const base = {
    kind: 'smtp',
    ...hostPort('INVITE_TEST_SMTP_STARTTLS'),
    tls: 'starttls',
    username: env.INVITE_TEST_SMTP_USER,
    password: 'wrong-password',
    extraRootCertificatePem: fs.readFileSync(env.INVITE_TEST_SMTP_CA, 'utf8'),
    from: 'invites@acme.example',
    // Against this test server a refused AUTH ends in the timeout: keep it short.
    timeoutSeconds: 2,
  }
  assert.deepEqual(await w.service.dispatchOutbox(base), { delivered: 0, retrying: 1, failed: 0 })
  assert.ok(!(await delivery()).lastError.includes('wrong-password'), 'the password never shows')
  w.clock.advanceSeconds(HOUR)
  const untrusted = { ...base, password: env.INVITE_TEST_SMTP_PASSWORD, extraRootCertificatePem: null }
  assert.deepEqual(await w.service.dispatchOutbox(untrusted), { delivered: 0, retrying: 1, failed: 0 })
})

test('implicit TLS', { skip: needs('INVITE_TEST_SMTP_TLS', 'INVITE_TEST_SMTP_CA', 'INVITE_TEST_SMTP_DIR') }, async () => {
  const { w, to } = await invitation('tls')
  const mailer = Mailer.smtp({
    ...hostPort('INVITE_TEST_SMTP_TLS'),
    tls: 'tls',
    extraRootCertificatePem: fs.readFileSync(env.INVITE_TEST_SMTP_CA, 'utf8'),
    from: 'invites@acme.example',
    timeoutSeconds: 10,
  })
  assert.equal((await w.service.dispatchOutbox(mailer)).delivered, 1)
  const [got] = await receivedFor(to)
  assert.deepEqual([got.envelope.server, got.envelope.tls], ['tls', true])
})
