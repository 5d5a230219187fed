// Drift: the codes JS sees at run time (`errorCodes()`, taken from Rust's
// `ErrorCode::ALL`), the union exported by the generated `index.d.ts`, and the codes
// declared in the Rust source must be the same list. Same for field and hint codes.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import { errorCodes, errorKind, fieldCodes, hintCodes } from '../index.js'

const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8')
const coreSource = (path) => readFileSync(new URL(`../../../invite-core/src/${path}`, import.meta.url), 'utf8')

/** The members of `export type NAME = 'A' | 'B'` in index.d.ts, in order. */
function tsUnion(name) {
  const match = dts.match(new RegExp(`export type ${name} =([^\\n]*(?:\\n\\s*\\|[^\\n]*)*)`))
  assert.ok(match, `index.d.ts exports no union ${name}`)
  return [...match[1].matchAll(/'([^']+)'/g)].map((m) => m[1])
}

/** The string literals of the core's `error_codes!` table (`Variant = "CODE" => Kind,`). */
function rustErrorCodes() {
  return [...coreSource('error.rs').matchAll(/^\s*\w+ = "([A-Z_]+)" => \w+,$/gm)].map((m) => m[1])
}

test('errorCodes() == ErrorCode union in index.d.ts == Rust ErrorCode::ALL', () => {
  const runtime = errorCodes()
  assert.equal(new Set(runtime).size, runtime.length, 'codes are unique')
  assert.deepEqual(tsUnion('ErrorCode'), runtime)
  assert.deepEqual(rustErrorCodes(), runtime)
  for (const code of runtime) {
    assert.match(code, /^[A-Z]+(_[A-Z]+)*$/)
    assert.ok(tsUnion('ErrorKind').includes(errorKind(code)), code)
  }
  assert.equal(errorKind('NO_SUCH_CODE'), null)
})

test('fieldCodes() == FieldCode union', () => {
  assert.deepEqual(tsUnion('FieldCode'), fieldCodes())
  const rust = [...coreSource('error.rs').matchAll(/FieldCode::\w+ => "([A-Z_]+)"/g)].map((m) => m[1])
  assert.deepEqual(rust, fieldCodes())
})

test('hintCodes() == HintCode union', () => {
  assert.deepEqual(tsUnion('HintCode'), hintCodes())
  const rust = [...coreSource('form/view.rs').matchAll(/HintCode::\w+ => "([A-Z_]+)"/g)].map((m) => m[1])
  assert.deepEqual(rust, hintCodes())
})
