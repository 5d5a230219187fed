// The README's Node quickstart, extracted and run as written (against this package).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)))

/** The first ```js block after the "## Node quickstart" heading. */
export function quickstart(markdown) {
  const section = markdown.split(/^## Node quickstart$/m)[1]
  assert.ok(section, 'README has a "## Node quickstart" section')
  const match = section.match(/```js\n([\s\S]*?)```/)
  assert.ok(match, 'the quickstart section has a js code block')
  return match[1]
}

const dir = mkdtempSync(join(tmpdir(), 'invite-node-readme-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('the README quickstart runs as written', () => {
  const code = quickstart(readFileSync(join(packageDir, 'README.md'), 'utf8'))
  // A consumer project: `invite-core` resolves to this package, as after `npm install`.
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(packageDir, join(dir, 'node_modules', 'invite-core'), 'dir')
  writeFileSync(join(dir, 'quickstart.mjs'), code)
  const output = execFileSync(process.execPath, [join(dir, 'quickstart.mjs')], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
  assert.match(output, /VALIDATION_FAILED/)
  assert.match(output, /email: INVALID_EMAIL/)
  assert.match(output, /pending https:\/\/app\.example\.com\/invitations\/accept\?token=/)
  assert.match(output, /to bob@example\.com: /)
  assert.match(output, /Ada Admin invites you to Acme \/ Billing/)
  assert.match(output, /SELECT_BUSINESS_FIRST/)
  assert.match(output, /^created sent delivered accepted$/m)
})
