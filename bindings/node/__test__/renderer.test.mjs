// Email templates from JavaScript: `renderer` renders every email a dispatch claimed,
// `renderDefaultEmail` is the built-in email; a broken renderer falls back to the
// built-in templates with a process warning, and never blocks delivery.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import { inspect } from 'node:util'

import { InviteService, renderDefaultEmail } from '../index.js'
import { mailbox, newPersonRequest, rejectsWith, world } from './helpers.mjs'

const escape = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** A renderer that keeps every context it was given. */
function brand() {
  const contexts = []
  const render = (context) => {
    contexts.push(context)
    return {
      subject: `[Brand] ${context.inviterName} → ${context.businessName}/${context.appName} as ${context.roleName}`,
      text: `Join: ${context.acceptLink}`,
      html: `<a href="${escape(context.acceptLink)}">Join ${escape(context.businessName)}</a>`,
    }
  }
  return { contexts, render }
}

for (const execution of ['threadPool', 'inline']) {
  test(`every dispatched email comes from the renderer (${execution})`, async () => {
    const r = brand()
    const w = await world({ execution, renderer: r.render })
    const sent = await w.service.send(newPersonRequest(w, 'branded@example.com', { locale: 'fr' }))
    const box = mailbox()
    assert.equal((await w.service.dispatchOutbox(box.send)).delivered, 1)
    const [email] = box.sent
    assert.equal(email.subject, '[Brand] Ada Admin → Acme/Billing as Member')
    assert.equal(email.text, `Join: ${sent.acceptLink}`)
    assert.equal(email.locale, 'fr') // no locale answered: the requested one
    const [context] = r.contexts
    assert.deepEqual(
      { ...Object.fromEntries(Object.entries(context)), expiresAt: context.expiresAt.getTime() },
      {
        inviterName: 'Ada Admin',
        inviteeName: 'New Person',
        businessName: 'Acme',
        appName: 'Billing',
        roleName: 'Member',
        expiresAt: sent.invitation.expiresAt.getTime(),
        acceptLink: sent.acceptLink,
        locale: 'fr',
      },
    )
    // The context carries a live token: logging it must not show it.
    assert.ok(!inspect(context).includes(sent.token))
    assert.ok(inspect(context).includes('<redacted>'))
  })
}

test('an object with a render method is called with its this, and may name its locale', async () => {
  const templates = {
    greeting: 'Hallo',
    render(context) {
      return { subject: `${this.greeting} ${context.inviteeName}`, text: 't', html: 'h', locale: 'de' }
    },
  }
  const w = await world({ renderer: templates })
  await w.service.send(newPersonRequest(w, 'obj@example.com'))
  const box = mailbox()
  await w.service.dispatchOutbox(box.send)
  assert.equal(box.sent[0].subject, 'Hallo New Person')
  assert.equal(box.sent[0].locale, 'de')
})

test('a renderer that throws or answers wrong leaves the email to the built-in templates', async () => {
  for (const render of [
    () => {
      throw new Error('template missing')
    },
    () => {
      throw 'template missing'
    },
    () => ({ subject: 'no bodies' }),
    async () => ({ subject: 's', text: 't', html: 'h' }),
    () => 'Subject only',
    () => true,
    () => false,
    () => ({
      subject: 's',
      text: 't',
      get html() {
        throw new Error('a getter that throws')
      },
    }),
  ]) {
    const w = await world({ renderer: render })
    const sent = await w.service.send(newPersonRequest(w, 'fallback@example.com'))
    const box = mailbox()
    const warned = once(process, 'warning')
    assert.equal((await w.service.dispatchOutbox(box.send)).delivered, 1)
    const [warning] = await warned
    assert.equal(warning.code, 'EMAIL_RENDERER_FAILED')
    const [email] = box.sent
    const expected = renderDefaultEmail({
      inviterName: 'Ada Admin',
      inviteeName: 'New Person',
      businessName: 'Acme',
      appName: 'Billing',
      roleName: 'Member',
      expiresAt: sent.invitation.expiresAt,
      acceptLink: sent.acceptLink,
      locale: null,
    })
    assert.deepEqual([email.subject, email.text, email.html, email.locale], [expected.subject, expected.text, expected.html, 'en'])
  }
})

test('renderDefaultEmail renders the built-in templates in the asked language', () => {
  const context = {
    inviterName: 'Ada Admin',
    inviteeName: null,
    businessName: 'Acme',
    appName: 'Billing',
    roleName: 'Member',
    expiresAt: new Date('2030-01-01T00:00:00Z'),
    acceptLink: 'https://app.example.com/accept?token=x',
    locale: 'fr-CA',
  }
  const french = renderDefaultEmail(context)
  assert.equal(french.locale, 'fr')
  assert.ok(french.text.includes(context.acceptLink))
  assert.notEqual(french.subject, renderDefaultEmail({ ...context, locale: null }).subject)
  assert.equal(renderDefaultEmail({ ...context, locale: 'xx' }).locale, 'en')
  // An expiry no Date in the years 1 to 9999 holds is refused, not read as 1970.
  for (const expiresAt of [new Date(NaN), new Date('+010000-01-01T00:00:00Z')]) {
    assert.throws(
      () => renderDefaultEmail({ ...context, expiresAt }),
      (e) => e.code === 'VALIDATION_FAILED' && e.errors[0].field === 'expires_at' && e.errors[0].code === 'OUT_OF_RANGE',
    )
  }
})

test('a renderer that is not a function or an object with render is INVALID_CONFIG', async () => {
  const throwing = {
    get render() {
      throw new Error('a getter that throws')
    },
  }
  for (const renderer of ['templates', 42, {}, { render: 'no' }, throwing]) {
    await rejectsWith(InviteService.open({ renderer }), 'INVALID_CONFIG')
  }
})
