#!/usr/bin/env node
// PERF.md's invite/accept workload through the Node API of invite-core, with its floor
// (better-sqlite3) measured in the same run, and the cost of the hop off the main thread.
//
// Execution: the store lines run the service with `execution: 'inline'` (every call on
// the main thread, an already-settled Promise, no hop to the libuv pool; `--execution
// threadPool` for the pool instead); `dispatchOutbox` runs on the pool in both modes (its
// JavaScript mailer gets each claimed batch in one hop). Every JSON line says which mode
// its figures are in (`"execution"`: `inline` or `threadPool`; the floor is synchronous,
// `inline`).
//
// Setup (untimed): one business, one app enabled for it, one subscription with N + 1
// seats, one role `member`, one business admin. Then, timed:
//   1. invite: N `await service.send(…)` calls, one after the other, each to a new user
//      (`user{i}@example.com`), then `await service.dispatchOutbox(mailer)` into a
//      JavaScript mailer that keeps every email, synchronously as the Rust and Python
//      runners' mailers do (an `async` one adds a Promise and its reaction per email:
//      ~2 µs on this VM);
//   2. accept: N `await service.accept({ token })` calls, each creating the invited user.
// The floor (better-sqlite3 12, synchronous): N bare single-row INSERTs, each in its own
// transaction, on a fresh file in the same mode, then N UPDATEs (`:memory:` for the
// memory store).
// The hop (thread-pool mode): every store call runs on the libuv pool and settles a
// Promise. Measured on the memory store, where the core's own work is about a
// microsecond: N awaited `seatUsage` calls, against N synchronous native calls, N awaited
// sends against one `bulkSend` of N rows (one hop for all), and the same `seatUsage`
// calls kept 64 in flight; for comparison, N awaited `seatUsage` calls of an inline
// service (`inline_per_call_us`), and Node's own round trip through the same pool: N
// awaited `crypto.randomFill` calls of one byte (`node_pool_per_call_us`), which is what
// any pool-backed Node call (`fs.promises`, `crypto`, `zlib`) pays for its hop.
//
// Stores: memory, sqlite-default (`journal_mode=delete&synchronous=full`), sqlite-wal
// (`journal_mode=wal&synchronous=normal`). Each measurement runs in a fresh child process
// (so `peak_rss_mb` is its own), a store's run followed by its floor, round-robin. One
// JSON line per measurement on stdout (PERF.md's shape); medians on stderr.
//
//   node benches/node/workload.mjs                      # every store + hop, 3 runs, N = 2000
//   node benches/node/workload.mjs --stores sqlite-wal --runs 5 --n 5000
//   node benches/node/workload.mjs sqlite-wal 2000      # one run of one store and its floor
//   node benches/node/workload.mjs hop 2000             # one run of the hop measurement
//   node benches/node/workload.mjs --execution threadPool --stores sqlite-wal  # pool mode
//
// Needs a release build of bindings/node (`npm run build` there, or
// `INVITE_NODE_RELEASE=1 scripts/test-node`); a debug build is refused unless
// --allow-debug is given. `npm ci` here installs better-sqlite3.

import { execFileSync } from 'node:child_process'
import { randomFill } from 'node:crypto'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
const binding = require(path.join(here, '..', '..', 'bindings', 'node', 'index.js'))
const { InviteService, buildInfo } = binding
const Database = require('better-sqlite3')

const STORES = ['memory', 'sqlite-default', 'sqlite-wal']
const EXECUTIONS = ['inline', 'threadPool']
/** Per mode: the store URL's query and the pragmas PERF.md's mode means. */
const MODES = {
  'sqlite-default': { query: 'journal_mode=delete&synchronous=full', journal_mode: 'delete', synchronous: 'full' },
  'sqlite-wal': { query: 'journal_mode=wal&synchronous=normal', journal_mode: 'wal', synchronous: 'normal' },
}
const SYNCHRONOUS = ['off', 'normal', 'full', 'extra']
const UNLIMITED = { invitesPerInviterPerDay: null, resendCooldownSeconds: 0, pendingPerBusiness: null }
/** Calls in flight for the pipelined hop figure. */
const IN_FLIGHT = 64
/** Calls per block when the hop and Node's own pool call alternate. */
const HOP_BLOCK = 100

const round1 = (x) => Math.round(x * 10) / 10
const round3 = (x) => Math.round(x * 1000) / 1000
const peakRssMb = () => round1(process.resourceUsage().maxRSS / 1024) // maxRSS is in KiB
const seconds = (started) => Number(process.hrtime.bigint() - started) / 1e9
const now = () => process.hrtime.bigint()

function check(condition, message) {
  if (!condition) throw new Error(`workload: ${message}`)
}

/** PERF.md's setup: business, app, subscription with `seats`, role, admin. */
async function setup(storeUrl, seats, execution = 'threadPool') {
  const service = await InviteService.open({
    store: storeUrl,
    acceptBaseUrl: 'https://app.example.com/accept',
    limits: UNLIMITED,
    execution,
  })
  check(service.config().execution === execution, `the service runs ${service.config().execution}, not ${execution}`)
  const business = await service.createBusiness('Bench Co')
  const app = await service.createApp('Bench App')
  await service.setAppEnabled(business.id, app.id, true)
  const sub = await service.createSubscription({ businessId: business.id, appId: app.id, plan: 'Bench', seats })
  const role = await service.createRole({ appId: app.id, key: 'member', name: 'Member', permissions: ['app.use'] })
  const admin = await service.createUser({ firstName: 'Ada', lastName: 'Admin', email: 'admin@example.com' })
  await service.setBusinessAdmin(business.id, admin.id, true)
  const placement = { businessId: business.id, appId: app.id, subscriptionId: sub.id, roleId: role.id }
  return { service, business, sub, admin, placement }
}

const person = (i) => ({ firstName: `First${i}`, lastName: `Last${i}`, email: `user${i}@example.com` })

async function runWorkload(storeUrl, n, execution) {
  const { service, business, sub, admin, placement } = await setup(storeUrl, n + 1, execution)
  const requests = Array.from({ length: n }, (_, i) => ({ inviterId: admin.id, newUser: person(i), ...placement }))
  const mailbox = []
  const mailer = (email) => {
    mailbox.push(email)
  }

  let started = now()
  const tokens = []
  for (const request of requests) {
    tokens.push((await service.send(request)).token)
  }
  const report = await service.dispatchOutbox(mailer)
  const inviteSecs = seconds(started)
  check(report.delivered === n && mailbox.length === n, `every invitation is mailed (${report.delivered} of ${n})`)

  started = now()
  let created = 0
  for (const token of tokens) {
    if ((await service.accept({ token })).userCreated) created += 1
  }
  const acceptSecs = seconds(started)
  check(created === n, 'every accept creates its user')
  check((await service.seatUsage(business.id, sub.id)).used === n, 'every invitee holds a seat')
  return { invite_per_s: n / inviteSecs, accept_per_s: n / acceptSecs }
}

/** The floor on `file` (or `:memory:`), and the pragmas read back while it ran. */
function runFloor(file, mode, n) {
  const db = new Database(file)
  try {
    if (file !== ':memory:') {
      db.pragma(`journal_mode = ${mode.journal_mode}`)
      db.pragma(`synchronous = ${mode.synchronous}`)
    }
    const modes = {
      journal_mode: String(db.pragma('journal_mode', { simple: true })).toLowerCase(),
      synchronous: SYNCHRONOUS[Number(db.pragma('synchronous', { simple: true }))],
    }
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT NOT NULL, status TEXT NOT NULL)')
    const insert = db.prepare("INSERT INTO t (id, email, status) VALUES (?, ?, 'pending')")
    const update = db.prepare("UPDATE t SET status = 'accepted' WHERE id = ?")
    // Autocommit: every statement is its own transaction (one durable commit each).
    let started = now()
    for (let i = 0; i < n; i++) insert.run(i, `user${i}@example.com`)
    const insertSecs = seconds(started)
    started = now()
    for (let i = 0; i < n; i++) update.run(i)
    const updateSecs = seconds(started)
    return { figures: { invite_per_s: n / insertSecs, accept_per_s: n / updateSecs }, modes }
  } finally {
    db.close()
  }
}

/** The journal mode a file was left in (WAL is persistent: checked, not assumed). */
function journalModeOf(file) {
  const db = new Database(file, { readonly: true })
  try {
    return String(db.pragma('journal_mode', { simple: true })).toLowerCase()
  } finally {
    db.close()
  }
}

/** Microseconds per item of `count` items taking `secs`. */
const perItemUs = (secs, count) => round3((secs * 1e6) / count)

async function measureHop(n) {
  // 1. The round trip: N awaited seatUsage calls (O(1) counters, ~1 µs of core work),
  // against Node's own round trip through the same pool: N awaited `crypto.randomFill`
  // calls of one byte (a libuv pool task with next to no work). The two alternate in
  // blocks, so that the machine's drift weighs on both alike.
  const { service, business, sub, admin, placement } = await setup('memory:', 2 * n + 1)
  const fill = promisify(randomFill)
  const byte = Buffer.alloc(1)
  for (let i = 0; i < 200; i++) {
    await service.seatUsage(business.id, sub.id) // warm-up
    await fill(byte)
  }
  let awaited = 0
  let nodePool = 0
  let started
  for (let done = 0; done < n; done += HOP_BLOCK) {
    const count = Math.min(HOP_BLOCK, n - done)
    started = now()
    for (let i = 0; i < count; i++) await service.seatUsage(business.id, sub.id)
    awaited += seconds(started)
    started = now()
    for (let i = 0; i < count; i++) await fill(byte)
    nodePool += seconds(started)
  }

  // 2. The same count of synchronous native calls (no pool, no Promise): the napi cost.
  started = now()
  for (let i = 0; i < n; i++) service.now()
  const syncCalls = seconds(started)

  // 3. The same seatUsage calls kept IN_FLIGHT at a time: the pool overlaps the hops.
  started = now()
  for (let done = 0; done < n; done += IN_FLIGHT) {
    const batch = Math.min(IN_FLIGHT, n - done)
    await Promise.all(Array.from({ length: batch }, () => service.seatUsage(business.id, sub.id)))
  }
  const pipelined = seconds(started)

  // 4. N awaited sends against one bulkSend of N rows (one hop for all of them).
  const rows = Array.from({ length: n }, (_, i) => ({ newUser: person(i) }))
  started = now()
  for (const row of rows) await service.send({ inviterId: admin.id, newUser: row.newUser, ...placement })
  const sends = seconds(started)
  const other = Array.from({ length: n }, (_, i) => ({ newUser: person(n + i) }))
  started = now()
  const bulk = await service.bulkSend({ inviterId: admin.id, ...placement, rows: other })
  const bulkSecs = seconds(started)
  check(bulk.sent === n, `the bulk send sent every row (${bulk.sent} of ${n})`)

  // 5. The same awaited seatUsage calls on an inline service: no hop at all.
  const inline = await setup('memory:', 1, 'inline')
  for (let i = 0; i < 200; i++) await inline.service.seatUsage(inline.business.id, inline.sub.id) // warm-up
  started = now()
  for (let i = 0; i < n; i++) await inline.service.seatUsage(inline.business.id, inline.sub.id)
  const inlineAwaited = seconds(started)

  const perCall = perItemUs(awaited, n)
  return {
    impl: 'invite-core/node/hop',
    n,
    per_call_us: perCall,
    sync_call_us: perItemUs(syncCalls, n),
    hop_us: round3(perCall - perItemUs(syncCalls, n)),
    node_pool_per_call_us: perItemUs(nodePool, n),
    pipelined_per_call_us: perItemUs(pipelined, n),
    in_flight: IN_FLIGHT,
    send_per_call_us: perItemUs(sends, n),
    bulk_per_row_us: perItemUs(bulkSecs, n),
    inline_per_call_us: perItemUs(inlineAwaited, n),
    peak_rss_mb: peakRssMb(),
    store: 'memory',
    execution: 'threadPool',
  }
}

/** One measurement in this process: `STORE`, `floor:STORE` or `hop`. */
async function measure(target, n, execution) {
  if (target === 'hop') return measureHop(n)
  const floor = target.startsWith('floor:')
  const store = floor ? target.slice('floor:'.length) : target
  check(STORES.includes(store), `unknown store \`${store}\``)
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'invite-bench-node-'))
  try {
    let figures
    let modes = null
    if (store === 'memory') {
      if (floor) ({ figures, modes } = runFloor(':memory:', null, n))
      else figures = await runWorkload('memory:', n, execution)
    } else {
      const mode = MODES[store]
      const expected = { journal_mode: mode.journal_mode, synchronous: mode.synchronous }
      if (floor) {
        ;({ figures, modes } = runFloor(path.join(scratch, 'floor.sqlite'), mode, n))
        check(JSON.stringify(modes) === JSON.stringify(expected), `floor ran in ${JSON.stringify(modes)}`)
      } else {
        const file = path.join(scratch, 'bench.sqlite')
        figures = await runWorkload(`sqlite:${file}?${mode.query}`, n, execution)
        const found = journalModeOf(file) // the store's own setting, checked on the file
        check(found === mode.journal_mode, `${file} is in journal mode ${found}, not ${mode.journal_mode}`)
        modes = expected
      }
    }
    const kind = store.startsWith('sqlite') ? 'sqlite' : store
    return {
      impl: floor ? 'floor/node' : `invite-core/node/${kind}`,
      n,
      invite_per_s: round1(figures.invite_per_s),
      accept_per_s: round1(figures.accept_per_s),
      peak_rss_mb: peakRssMb(),
      sqlite: modes,
      // better-sqlite3 is synchronous: the floor always runs on the calling thread.
      execution: floor ? 'inline' : execution,
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true })
  }
}

/** Runs one measurement in a fresh Node process and returns its JSON line. */
function child(target, n, execution) {
  const args = [fileURLToPath(import.meta.url), '--one', target, '--n', String(n), '--execution', execution, '--allow-debug']
  let out
  try {
    out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  } catch (error) {
    throw new Error(`workload: the ${target} measurement failed (${error.status ?? error.signal})`)
  }
  return JSON.parse(out.trim().split('\n').at(-1))
}

function label(line) {
  const name = line.sqlite ? `${line.impl} (${line.sqlite.journal_mode})` : line.impl
  return line.impl.startsWith('invite-core/node/') && line.impl !== 'invite-core/node/hop' ? `${name} [${line.execution}]` : name
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      n: { type: 'string' },
      runs: { type: 'string' },
      stores: { type: 'string' },
      execution: { type: 'string', default: 'inline' },
      'allow-debug': { type: 'boolean', default: false },
      one: { type: 'string' }, // child mode: one measurement
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    const lines = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1)
    const header = lines.slice(0, lines.findIndex((l) => !l.startsWith('//')))
    console.log(header.map((l) => l.replace(/^\/\/ ?/, '')).join('\n'))
    return
  }
  const execution = values.execution
  check(EXECUTIONS.includes(execution), `--execution must be one of ${EXECUTIONS.join(', ')}, not \`${execution}\``)
  const n = Number(values.n ?? positionals[1] ?? 2000)
  check(Number.isInteger(n) && n > 0, `N must be a positive whole number, not \`${values.n ?? positionals[1]}\``)
  const info = buildInfo()
  if (info.profile !== 'release' && !values['allow-debug']) {
    console.error('workload: bindings/node is a debug build; rebuild with `npm run build` in bindings/node')
    console.error('          (or `INVITE_NODE_RELEASE=1 scripts/test-node`), or pass --allow-debug')
    process.exit(2)
  }
  if (values.one) {
    console.log(JSON.stringify(await measure(values.one, n, execution)))
    return
  }

  // Positional `STORE [N]` (what scripts/bench calls): one run of one store and its floor.
  let targets
  let runs
  if (positionals.length > 0) {
    const store = positionals[0]
    check(store === 'hop' || STORES.includes(store), `unknown store \`${store}\` (known: ${STORES.join(', ')}, hop)`)
    targets = store === 'hop' ? ['hop'] : [store, `floor:${store}`]
    runs = 1
  } else {
    const stores = (values.stores ?? STORES.join(',')).split(',').map((s) => s.trim()).filter(Boolean)
    const unknown = stores.filter((s) => s !== 'hop' && !STORES.includes(s))
    check(unknown.length === 0, `unknown store(s): ${unknown.join(', ')}`)
    targets = stores.flatMap((s) => (s === 'hop' ? ['hop'] : [s, `floor:${s}`]))
    if (values.stores === undefined) targets.push('hop')
    runs = Number(values.runs ?? 3)
    check(Number.isInteger(runs) && runs > 0, 'runs must be a positive whole number')
  }
  if (info.profile !== 'release') console.error('workload: WARNING: debug build, figures are not meaningful')

  const results = new Map()
  for (let run = 0; run < runs; run++) {
    for (const target of targets) {
      const line = child(target, n, execution)
      console.log(JSON.stringify(line))
      const key = label(line)
      if (!results.has(key)) results.set(key, [])
      results.get(key).push(line)
    }
  }
  if (positionals.length > 0) return

  console.error(`\nmedians of ${runs} run(s), n = ${n}:`)
  for (const [name, lines] of results) {
    if (name === 'invite-core/node/hop') {
      const m = (k) => median(lines.map((l) => l[k]))
      console.error(
        `  ${name.padEnd(46)} awaited call ${m('per_call_us').toFixed(1)} µs (sync native call ${m('sync_call_us').toFixed(2)} µs, ` +
          `${IN_FLIGHT} in flight ${m('pipelined_per_call_us').toFixed(1)} µs, inline ${m('inline_per_call_us').toFixed(1)} µs, ` +
          `Node's own pool call ${m('node_pool_per_call_us').toFixed(1)} µs); ` +
          `send ${m('send_per_call_us').toFixed(1)} µs vs bulk ${m('bulk_per_row_us').toFixed(1)} µs/row`,
      )
      continue
    }
    const m = (k) => median(lines.map((l) => l[k]))
    console.error(
      `  ${name.padEnd(46)} invites/s ${Math.round(m('invite_per_s')).toLocaleString('en').padStart(9)}   ` +
        `accepts/s ${Math.round(m('accept_per_s')).toLocaleString('en').padStart(9)}   peak RSS ${m('peak_rss_mb').toFixed(1).padStart(6)} MB`,
    )
  }
  const sqliteVersion = new Database(':memory:').prepare('select sqlite_version() as v').get().v
  console.error(`(node ${process.version}, invite-core ${info.profile} build, better-sqlite3 on SQLite ${sqliteVersion})`)
}

main().catch((error) => {
  console.error(error.stack ?? error)
  process.exit(1)
})
