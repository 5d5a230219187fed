// A small Node backend for the Invite User page, on plain `node:http`: JSON endpoints for
// every step of the page (options, user search, seats, send) and for the invitee's side
// (peek, accept). Run it with `node examples/node/server.mjs` (after building
// bindings/node); it seeds a demo catalog and prints its address. Emails go to an
// in-memory demo mailbox, or to a built-in mailer configured with `INVITE_MAILER` (JSON):
//   INVITE_MAILER='{"kind":"file","dir":"./mailbox"}' node examples/node/server.mjs
//   INVITE_MAILER='{"kind":"smtp","host":"smtp.example.com","port":587,"tls":"starttls",
//     "username":"…","password":"…","from":"invitations@example.com"}' node examples/node/server.mjs
//
// Endpoints (the signed-in admin is the `X-User-Id` header: a stand-in for your
// session; never trust a client-sent id in production):
//   GET  /api/options/businesses                     businesses the admin may invite into
//   GET  /api/options/apps?businessId=               apps of a business (empty until chosen)
//   GET  /api/options/subscriptions?businessId=&appId=  subscriptions with seat usage
//   GET  /api/options/roles?businessId=&appId=       roles the admin may grant
//   GET  /api/users?query=&cursor=&limit=            existing users, paged
//   GET  /api/seats?businessId=&subscriptionId=      seat information
//   POST /api/form/view                              the form model's view of a page state
//   POST /api/invitations                            send (body: userId | newUser, ids, …)
//   POST /api/invitations/resend | /revoke           { businessId, invitationId }
//   GET  /api/invitations?businessId=&status=        list
//   GET  /api/accept?token=                          peek (never changes anything)
//   POST /api/accept                                 accept ({ token })
//   POST /api/decline                                decline ({ token })
//   POST /api/outbox/dispatch                        deliver queued emails (the mailer)
//   GET  /api/outbox/sent                            the demo mailbox (without INVITE_MAILER)
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'

// In your project: `import { InviteForm, InviteService } from 'invite-core'`.
import { InviteForm, InviteService, Mailer } from '../../bindings/node/index.js'

const MAX_BODY = 64 * 1024

/** HTTP status for an error code's kind. */
const STATUS = {
  invalid_input: 400,
  not_found: 404,
  already_exists: 409,
  conflict: 409,
  limit_exceeded: 409,
  permission_denied: 403,
  storage: 503,
  internal: 500,
}

class HttpError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

function send(res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function sendError(res, error) {
  if (error instanceof HttpError) {
    return send(res, error.status, { error: { code: error.code, message: error.message } })
  }
  if (typeof error?.code === 'string' && typeof error.kind === 'string') {
    const status = error.code === 'RATE_LIMITED' ? 429 : (STATUS[error.kind] ?? 500)
    if (error.retryAfterSeconds) res.setHeader('retry-after', Math.ceil(error.retryAfterSeconds))
    return send(res, status, {
      error: { code: error.code, message: error.message, errors: error.errors ?? [], help: error.help ?? null },
    })
  }
  console.error(error)
  return send(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } })
}

async function readJson(req) {
  let size = 0
  const chunks = []
  for await (const chunk of req) {
    size += chunk.length
    if (size > MAX_BODY) throw new HttpError(413, 'VALIDATION_FAILED', 'request body is too large')
    chunks.push(chunk)
  }
  if (chunks.length === 0) return {}
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object')
    return body
  } catch {
    throw new HttpError(400, 'VALIDATION_FAILED', 'the body must be a JSON object')
  }
}

/** Query parameters as an object; empty values are absent. */
function params(url) {
  const out = {}
  for (const [k, v] of url.searchParams) if (v !== '') out[k] = v
  return out
}

function required(value, name) {
  if (typeof value !== 'string' || value === '') throw new HttpError(400, 'VALIDATION_FAILED', `\`${name}\` is required`)
  return value
}

/** Keeps only string fields (ids and text come from the client as strings). */
function text(value) {
  return typeof value === 'string' ? value : undefined
}

const FORM_FIELDS = ['mode', 'userQuery', 'userId', 'firstName', 'lastName', 'email', 'businessId', 'appId', 'subscriptionId', 'roleId']

/** A form state from the client: its known fields, strings only (anything else is absent). */
function formState(value) {
  const state = {}
  if (value && typeof value === 'object') for (const name of FORM_FIELDS) state[name] = text(value[name])
  return state
}

/**
 * The request handler over a service. `/api/outbox/dispatch` delivers through `mailer`
 * (a `Mailer`, say `Mailer.fromConfig(settings.mail)`); without one, into `mailbox`, a
 * demo mailer.
 */
export function createHandler(service, { mailbox = [], mailer } = {}) {
  mailer ??= async (email) => {
    mailbox.push({ businessId: email.businessId, to: email.to, subject: email.subject, acceptLink: email.acceptLink, messageId: email.messageId })
  }
  /**
   * The business of a read, if the caller may invite into it; else 404 NOT_FOUND, as for
   * a missing one. The service's reads (seat usage, subscriptions, invitation lists)
   * take no actor: the host decides who may read a business (SECURITY.md T7).
   */
  async function visible(businessId, inviter) {
    const id = required(businessId, 'businessId').toLowerCase()
    if (!(await businessIds(inviter)).has(id)) throw new HttpError(404, 'NOT_FOUND', 'business not found')
    return id
  }

  /** The ids of the businesses the caller may invite into. */
  async function businessIds(inviter) {
    return new Set((await service.businessesForInviter(inviter())).map((option) => option.business.id))
  }

  const routes = {
    'GET /api/options/businesses': (q, inviter) => service.businessesForInviter(inviter()),
    'GET /api/options/apps': (q, inviter) => (q.businessId ? service.appsForInviter(inviter(), q.businessId) : []),
    'GET /api/options/subscriptions': async (q, inviter) =>
      q.businessId && q.appId ? service.subscriptionsFor(await visible(q.businessId, inviter), q.appId) : [],
    'GET /api/options/roles': (q, inviter) =>
      q.businessId && q.appId ? service.grantableRoles(inviter(), q.businessId, q.appId) : [],
    'GET /api/users': (q, inviter) => inviter() && service.searchUsers(q.query ?? '', { cursor: q.cursor, limit: q.limit ? Number(q.limit) : undefined }),
    'GET /api/seats': async (q, inviter) =>
      service.seatUsage(await visible(q.businessId, inviter), required(q.subscriptionId, 'subscriptionId')),
    'POST /api/form/view': (q, inviter, body) => new InviteForm(formState(body.state)).view(service, inviter()),
    'POST /api/invitations': async (q, inviter, body) => {
      const newUser = body.newUser && typeof body.newUser === 'object'
        ? { firstName: text(body.newUser.firstName), lastName: text(body.newUser.lastName), email: text(body.newUser.email) }
        : undefined
      const sent = await service.send({
        inviterId: inviter(),
        userId: text(body.userId),
        newUser,
        businessId: text(body.businessId),
        appId: text(body.appId),
        subscriptionId: text(body.subscriptionId),
        roleId: text(body.roleId),
        locale: text(body.locale),
        idempotencyKey: text(body.idempotencyKey),
      })
      // The token travels only in the email; the admin gets the copy-link fallback.
      return { status: 201, body: { invitation: sent.invitation, acceptLink: sent.acceptLink } }
    },
    'GET /api/invitations': async (q, inviter) =>
      service.listInvitations(await visible(q.businessId, inviter), { status: q.status, cursor: q.cursor }),
    'POST /api/invitations/resend': async (q, inviter, body) => {
      const sent = await service.resend({ businessId: text(body.businessId) ?? '', invitationId: text(body.invitationId) ?? '', actorId: inviter() })
      return { invitation: sent.invitation, acceptLink: sent.acceptLink }
    },
    'POST /api/invitations/revoke': (q, inviter, body) =>
      service.revoke({ businessId: text(body.businessId) ?? '', invitationId: text(body.invitationId) ?? '', actorId: inviter() }),
    'GET /api/accept': (q) => service.peek(q.token ?? ''),
    'POST /api/accept': (q, inviter, body) => service.accept({ token: text(body.token) ?? '', email: text(body.email) }),
    'POST /api/decline': (q, inviter, body) => service.decline(text(body.token) ?? ''),
    'POST /api/outbox/dispatch': (q, inviter) => inviter() && service.dispatchOutbox(mailer),
    // The demo mailbox holds live links: each caller sees only their businesses' emails.
    'GET /api/outbox/sent': async (q, inviter) => {
      const mine = await businessIds(inviter)
      return mailbox.filter((email) => mine.has(email.businessId))
    },
  }

  return async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost')
      const route = routes[`${req.method} ${url.pathname}`]
      if (!route) throw new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${url.pathname}`)
      const body = req.method === 'POST' ? await readJson(req) : {}
      const inviter = () => required(req.headers['x-user-id'], 'X-User-Id')
      const result = await route(params(url), inviter, body)
      if (result && typeof result.status === 'number' && 'body' in result) return send(res, result.status, result.body)
      return send(res, 200, result ?? null)
    } catch (error) {
      return sendError(res, error)
    }
  }
}

/** Starts the server; resolves to `{ server, url }`. Port 0 picks a free port. */
export async function start(service, { port = 0, host = '127.0.0.1', mailbox, mailer } = {}) {
  const server = createServer(createHandler(service, { mailbox, mailer }))
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const { address, port: bound } = server.address()
  return { server, url: `http://${address}:${bound}` }
}

/** A demo catalog: Acme with Billing (5 seats) and roles; Ada is the Acme admin. */
export async function seed(service) {
  const acme = await service.createBusiness('Acme')
  const billing = await service.createApp('Billing')
  await service.setAppEnabled(acme.id, billing.id, true)
  const team = await service.createSubscription({ businessId: acme.id, appId: billing.id, plan: 'Team', seats: 5 })
  const member = await service.createRole({ appId: billing.id, key: 'member', name: 'Member', permissions: ['billing.read'] })
  const ada = await service.createUser({ firstName: 'Ada', lastName: 'Admin', email: 'ada@acme.example' })
  await service.setBusinessAdmin(acme.id, ada.id, true)
  const alice = await service.createUser({ firstName: 'Alice', lastName: 'Liddell', email: 'alice@example.com' })
  return { acme, billing, team, member, ada, alice }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // A bad mail configuration stops the start-up here (INVALID_CONFIG), not the first send.
  const mailer = process.env.INVITE_MAILER ? Mailer.fromConfig(JSON.parse(process.env.INVITE_MAILER)) : undefined
  const service = await InviteService.open({
    store: process.env.INVITE_STORE ?? 'memory:',
    acceptBaseUrl: process.env.ACCEPT_BASE_URL ?? 'http://127.0.0.1:3000/accept',
  })
  if ((await service.listBusinesses()).length === 0) await seed(service)
  const ada = await service.findUserByEmail('ada@acme.example')
  const { url } = await start(service, { port: Number(process.env.PORT ?? 3000), mailer })
  console.log(`invite-core example listening on ${url} (X-User-Id: ${ada?.id})`)
  console.log(`emails: ${mailer ? mailer.describe() : 'the demo mailbox (GET /api/outbox/sent)'}`)
}
