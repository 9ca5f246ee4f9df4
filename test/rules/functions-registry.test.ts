// The registry (names, arities) agrees with itself and with the README table; UUID, random and
// system functions, whose results are not fixed values.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { RuleFunctionError, ruleFunctionArity, ruleFunctionFamilies, ruleFunctions } from '../../src/rules/functions/index.js'
import { clearEnvCache } from '../../src/rules/functions/system.js'
import { type Case, call, err, runCases } from './functions-cases.js'

const readme = readFileSync(new URL('../../src/rules/functions/README.md', import.meta.url), 'utf8')

interface Row {
  name: string
  arity: string
  status: 'implemented' | 'not yet'
  documented: boolean
}

function readmeRows(): Row[] {
  const rows: Row[] = []
  let documented = true
  let inFunctions = false
  for (const line of readme.split('\n')) {
    if (line.startsWith('## ')) inFunctions = line === '## Functions'
    if (line.startsWith('### In EMQX\'s source')) documented = false
    if (!inFunctions) continue
    const cells = line.replace(/\\\|/g, '').split('|').map((c) => c.trim())
    const m = /^`([a-z0-9_]+)`$/.exec(cells[1] ?? '')
    if (!m || cells.length < 5) continue
    const status = cells[3]!.startsWith('implemented') ? 'implemented' : cells[3]!.startsWith('not yet') ? 'not yet' : undefined
    assert.ok(status, `README row for ${m[1]} has status "${cells[3]}"`)
    rows.push({ name: m[1]!, arity: cells[2]!, status, documented })
  }
  return rows
}

const arityText = (a: { min: number; max: number }): string =>
  a.max === Infinity ? `${a.min}+` : a.min === a.max ? String(a.min) : `${a.min}-${a.max}`

describe('function registry', () => {
  it('has an arity for every function and a function for every arity', () => {
    assert.ok(ruleFunctions.size > 100)
    assert.deepStrictEqual([...ruleFunctionArity.keys()].sort(), [...ruleFunctions.keys()].sort())
    for (const [name, a] of ruleFunctionArity) {
      assert.match(name, /^[a-z][a-z0-9_]*$/, `${name} is not a lower-case name`)
      assert.ok(Number.isInteger(a.min) && a.min >= 0, `${name}: min ${a.min}`)
      assert.ok(a.max === Infinity || (Number.isInteger(a.max) && a.max >= a.min), `${name}: max ${a.max}`)
      assert.equal(typeof ruleFunctions.get(name), 'function')
    }
  })
  it('merges the families without losing or duplicating a name', () => {
    const names = Object.values(ruleFunctionFamilies).flatMap((f) => Object.keys(f))
    assert.equal(new Set(names).size, names.length)
    assert.equal(names.length, ruleFunctions.size)
  })
  it('lists every function in the README as implemented, with its arity', () => {
    const rows = readmeRows()
    const byName = new Map<string, Row>()
    for (const r of rows) {
      assert.ok(!byName.has(r.name), `README lists ${r.name} twice`)
      byName.set(r.name, r)
    }
    for (const [name, a] of ruleFunctionArity) {
      const row = byName.get(name)
      assert.ok(row, `README does not list ${name}`)
      assert.equal(row.status, 'implemented', `README says ${name} is not implemented`)
      assert.equal(row.arity, arityText(a), `README arity of ${name}`)
    }
  })
  it('has every README row marked implemented in ruleFunctions, and none marked not yet', () => {
    for (const r of readmeRows()) {
      if (r.status === 'implemented') assert.ok(ruleFunctions.has(r.name), `README says ${r.name} is implemented; it is not in ruleFunctions`)
      else assert.ok(!ruleFunctions.has(r.name), `README says ${r.name} is not yet implemented; it is in ruleFunctions`)
    }
  })
  it('states counts in the README that match its tables', () => {
    const rows = readmeRows()
    const documented = rows.filter((r) => r.documented)
    const implemented = documented.filter((r) => r.status === 'implemented').length
    const extra = rows.filter((r) => !r.documented && r.status === 'implemented').length
    const m = /documents (\d+) functions[\s\S]*?(\d+) are implemented, (\d+) are not yet\. (\d+) more come from[\s\S]*?for (\d+) in `ruleFunctions`/.exec(readme)
    assert.ok(m, 'README has no counts paragraph')
    assert.deepStrictEqual(m.slice(1).map(Number), [documented.length, implemented, documented.length - implemented, extra, ruleFunctions.size])
  })
})

describe('functions with random or environment-dependent results', () => {
  it('uuid_v4 gives distinct version 4 UUIDs in lowercase hex', () => {
    const ids = Array.from({ length: 50 }, () => call('uuid_v4') as string)
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.equal(new Set(ids).size, ids.length)
  })
  it('uuid_v4_no_hyphen gives 32 hex digits', () => {
    const id = call('uuid_v4_no_hyphen') as string
    assert.match(id, /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/)
    assert.notEqual(id, call('uuid_v4_no_hyphen'))
  })
  it('random gives numbers in [0, 1) that differ', () => {
    const xs = Array.from({ length: 100 }, () => call('random') as number)
    for (const x of xs) assert.ok(x >= 0 && x < 1)
    assert.ok(new Set(xs).size > 90)
  })
  it('getenv reads EMQXVAR_<name> once and keeps it; a missing one is empty', () => {
    clearEnvCache()
    process.env.EMQXVAR_JUNCTION_RULES_TEST = 'first'
    try {
      assert.equal(call('getenv', 'JUNCTION_RULES_TEST'), 'first')
      process.env.EMQXVAR_JUNCTION_RULES_TEST = 'second'
      assert.equal(call('getenv', 'JUNCTION_RULES_TEST'), 'first')
      clearEnvCache()
      assert.equal(call('getenv', 'JUNCTION_RULES_TEST'), 'second')
      assert.equal(call('getenv', 'JUNCTION_RULES_TEST_MISSING'), '')
    } finally {
      delete process.env.EMQXVAR_JUNCTION_RULES_TEST
      clearEnvCache()
    }
  })
  it('throws RuleFunctionError, an Error subclass with its name', () => {
    assert.throws(() => call('abs', 'x'), (e: unknown) => e instanceof RuleFunctionError && e instanceof Error && e.name === 'RuleFunctionError')
  })
})

const checked: Case[] = [
  ['getenv', [1], err(/^getenv: expected a variable name, got 1$/)],
  ['getenv', [undefined], err(/got undefined/)],
]
runCases('system function arguments', checked)
