// Type-checked (never run) against the generated index.d.ts: `tsc --noEmit -p __test__`.
// A typo in a method, a wrong field type or an unknown code fails the build.
import {
  InviteForm,
  InviteService,
  Mailer,
  ManualClock,
  USER_OPTIONS,
  buildInfo,
  errorCodes,
  errorKind,
  isInviteError,
  renderDefaultEmail,
  type ErrorCode,
  type Event,
  type EmailContext,
  type Execution,
  type FormView,
  type Invitation,
  type InvitationEmail,
  type InviterRights,
  type MailerKind,
  type RenderedEmail,
  type Role,
  type SmtpMailerConfig,
  type SeatUsage,
  type SendInvitationInput,
  type SentInvitation,
} from '../index.js'

export async function usage(): Promise<void> {
  const clock = new ManualClock(new Date('2026-03-02T09:00:00Z'))
  const service: InviteService = await InviteService.open({
    store: 'memory:',
    acceptBaseUrl: 'https://app.example.com/accept',
    limits: { invitesPerInviterPerDay: null, resendCooldownSeconds: 0 },
    delivery: { maxAttempts: 3 },
    outboxKey: new Uint8Array(32),
    clock,
    eventHook: (events: Event[]) => console.log(events.map((e) => `${e.kind} ${e.at.toISOString()}`)),
    policy: {
      mayInvite: (rights: InviterRights) => (rights.isBusinessAdmin ? true : undefined),
      mayGrant: (rights: InviterRights, role: Role) => role.appId === rights.appId && rights.roles.length >= 0,
    },
  })
  await InviteService.open({
    renderer: (context: EmailContext): RenderedEmail =>
      context.locale === 'nl' ? { subject: `${context.inviterName}`, text: context.acceptLink, html: '' } : renderDefaultEmail(context),
  })
  await InviteService.open({ renderer: { render: (context: EmailContext) => renderDefaultEmail(context) } })
  // @ts-expect-error a policy answers a boolean (or nothing), not a Promise
  await InviteService.open({ policy: { mayInvite: async () => true } })
  // Inline execution: same API, already-settled Promises, no hop to the thread pool.
  const inline: InviteService = await InviteService.open({ store: 'sqlite:invites.db', execution: 'inline' })
  const mode: Execution = inline.config().execution
  await InviteService.open({ execution: 'threadPool' })
  await InviteService.open({ execution: null })
  // @ts-expect-error `execution` is 'threadPool' | 'inline'
  await InviteService.open({ execution: 'fast' })
  console.log(mode satisfies 'threadPool' | 'inline')

  const acme = await service.createBusiness('Acme')
  const app = await service.createApp('Billing')
  await service.setAppEnabled(acme.id, app.id, true)
  const team = await service.createSubscription({ businessId: acme.id, appId: app.id, plan: 'Team', seats: 3 })
  const role = await service.createRole({ appId: app.id, key: 'member', name: 'Member', permissions: [] })
  const ada = await service.createUser({ firstName: 'Ada', lastName: 'Admin', email: 'ada@acme.example' })
  await service.setBusinessAdmin(acme.id, ada.id, true)

  const seats: SeatUsage = await service.seatUsage(acme.id, team.id)
  const available: number | null = seats.available

  const request: SendInvitationInput = {
    inviterId: ada.id,
    newUser: { firstName: 'Bob', lastName: 'Baker', email: 'bob@example.com' },
    businessId: acme.id,
    appId: app.id,
    subscriptionId: team.id,
    roleId: role.id,
    expiresInSeconds: 3600,
  }
  const sent: SentInvitation = await service.send(request)
  const invitation: Invitation = sent.invitation
  const expires: Date = invitation.expiresAt
  const status: 'pending' | 'accepted' | 'declined' | 'revoked' | 'expired' = invitation.status

  try {
    await service.send({ inviterId: ada.id })
  } catch (e) {
    if (!isInviteError(e)) throw e
    const code: ErrorCode = e.code
    if (e.code === 'VALIDATION_FAILED') {
      for (const problem of e.errors ?? []) console.log(problem.field, problem.code satisfies string)
    }
    const retry: number | undefined = e.retryAfterSeconds ?? undefined
    const kind = errorKind(e.code)
    console.log(kind, e.kind, code, retry, e.message, e.help)
  }

  const report = await service.dispatchOutbox(async (email: InvitationEmail) => {
    console.log(email.to, email.subject, email.expiresAt.toISOString())
  })
  await service.dispatchOutbox({ send: (email: InvitationEmail) => Promise.resolve(email.messageId) }, { timeoutSeconds: 5 })
  console.log(report.delivered + report.retrying + report.failed)

  // Built-in mailers: a Mailer built once, or a configuration object per call.
  const smtpConfig: SmtpMailerConfig = {
    kind: 'smtp',
    host: 'smtp.example.com',
    port: 587,
    tls: 'starttls',
    username: 'user',
    password: 'secret',
    timeoutSeconds: 10,
    from: 'invites@example.com',
    fromName: 'Acme',
  }
  const smtp: Mailer = Mailer.fromConfig(smtpConfig)
  const kind: MailerKind = smtp.kind
  await service.dispatchOutbox(smtp)
  await service.dispatchOutbox(Mailer.smtp({ host: '127.0.0.1', port: 25, tls: 'none', from: 'a@example.com' }))
  await service.dispatchOutbox(Mailer.file('/tmp/mailbox'))
  await service.dispatchOutbox({ kind: 'file', dir: '/tmp/mailbox', from: 'invites@example.com' })
  // @ts-expect-error `tls` is 'none' | 'starttls' | 'tls'
  Mailer.fromConfig({ kind: 'smtp', host: 'h', port: 25, tls: 'ssl', from: 'a@example.com' })
  // @ts-expect-error a file mailer needs `dir`
  await service.dispatchOutbox({ kind: 'file' })
  const profile: 'release' | 'debug' = buildInfo().profile
  console.log(kind, profile)

  await service.bulkSend({ inviterId: ada.id, businessId: acme.id, rows: [{ userId: ada.id }, { newUser: { email: 'x@example.com' } }] })
  const page = await service.listInvitations(acme.id, { status: 'pending', limit: 10 })
  const next: string | null = page.nextCursor
  const accepted = await service.accept({ token: sent.token, email: null })
  console.log(accepted.user.firstName, accepted.membership.roleId)

  const form = new InviteForm()
  form.selectBusiness(acme.id)
  form.setField('app_id', app.id)
  const view: FormView = await form.view(service, ada.id)
  const more: boolean = view.usersTruncated && view.users.length === USER_OPTIONS
  console.log(more)
  const outcome = await form.submit(service, ada.id)
  if (!outcome.ok) console.log(outcome.error?.code, outcome.error?.field)

  clock.advanceSeconds(60)
  const codes: ErrorCode[] = errorCodes()
  console.log(available, expires, status, next, view.canSend, codes.length, service.storeKind, service.config().limits)
}
