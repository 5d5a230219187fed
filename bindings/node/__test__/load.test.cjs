// The package loads from CommonJS (`require`) as well as ESM (the other tests import it).
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { after, test } = require('node:test')

const binding = require('..')

test('require() exposes the classes and functions', async () => {
  for (const name of ['InviteService', 'InviteForm', 'ManualClock']) assert.equal(typeof binding[name], 'function', name)
  for (const name of ['errorCodes', 'fieldCodes', 'hintCodes', 'errorKind']) assert.equal(typeof binding[name], 'function', name)
  const service = await binding.InviteService.open()
  const business = await service.createBusiness('CommonJS Inc')
  assert.equal((await service.getBusiness(business.id)).name, 'CommonJS Inc')
  assert.throws(() => new binding.InviteService(), Error, 'InviteService is built with InviteService.open()')
})

const dir = mkdtempSync(join(tmpdir(), 'invite-node-load-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('a consumer project can require and import the package by name', () => {
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(join(__dirname, '..'), join(dir, 'node_modules', 'invite-core'), 'dir')
  writeFileSync(join(dir, 'a.cjs'), "const { errorCodes } = require('invite-core'); console.log(errorCodes().length)")
  writeFileSync(join(dir, 'b.mjs'), "import { errorCodes } from 'invite-core'; import pkg from 'invite-core'; console.log(errorCodes().length === pkg.errorCodes().length)")
  assert.equal(execFileSync(process.execPath, ['a.cjs'], { cwd: dir, encoding: 'utf8' }).trim(), String(binding.errorCodes().length))
  assert.equal(execFileSync(process.execPath, ['b.mjs'], { cwd: dir, encoding: 'utf8' }).trim(), 'true')
})
