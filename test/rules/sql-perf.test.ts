/**
 * Prints how many events per second a compiled rule evaluates. Informational only: nothing here
 * asserts a speed (machines differ), only that the results are right.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileStatement } from '../../src/rules/sql/compiler.js'

const functions = new Map<string, (...args: unknown[]) => unknown>([['upper', (s) => String(s).toUpperCase()]])

function rate(sql: string, make: (i: number) => Record<string, unknown>, n = 300_000): { perSecond: number; matched: number } {
  const rule = compileStatement(sql, { functions })
  const contexts = Array.from({ length: 1000 }, (_, i) => make(i))
  let matched = 0
  for (let i = 0; i < 20_000; i++) matched += rule.evaluate(contexts[i % 1000]!).length // warm up
  matched = 0
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) matched += rule.evaluate(contexts[i % 1000]!).length
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  return { perSecond: Math.round(n / seconds), matched }
}

const message = (i: number) => ({
  id: String(i),
  clientid: `c${i}`,
  username: 'u',
  payload: JSON.stringify({ temp: i % 40, hum: 50, sensors: [{ id: 1, v: i % 7 }, { id: 2, v: i % 5 }] }),
  topic: `s/${i % 10}`,
  qos: 1,
  timestamp: 1700000000000 + i,
})

describe('evaluate throughput (printed, not asserted)', () => {
  it('SELECT payload.temp AS t FROM "s/#" WHERE payload.temp > 20', () => {
    const r = rate('SELECT payload.temp AS t FROM "s/#" WHERE payload.temp > 20', message)
    console.log(`    simple SELECT with WHERE: ${r.perSecond.toLocaleString('en')} events/s`)
    assert.equal(r.matched, (300_000 / 40) * 19)
  })

  it('SELECT with several fields, functions and a topic match', () => {
    const r = rate("SELECT clientid, upper(username) AS u, payload.temp * 2 + 1 AS t2, topic FROM \"s/#\" WHERE topic =~ 's/+' AND payload.hum >= 50", message)
    console.log(`    SELECT with functions and =~: ${r.perSecond.toLocaleString('en')} events/s`)
    assert.equal(r.matched, 300_000)
  })

  it('FOREACH over a two-element array', () => {
    const r = rate('FOREACH payload.sensors AS s DO s.id AS id, s.v AS v, clientid INCASE s.v > 0 FROM "s/#"', message, 100_000)
    console.log(`    FOREACH with DO and INCASE: ${r.perSecond.toLocaleString('en')} events/s`)
    assert.ok(r.matched > 100_000 && r.matched < 200_000)
  })
})
