// Many rules: the engine's topic index sends a message only to the rules whose FROM matches it,
// so 1000 installed rules cost a message on `hot/x` nothing but the lookup. Prints the engine's
// per-message cost with 10 and with 1000 rules installed (measured, not asserted).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { PublishedMessage } from '../../src/broker/broker-types.js'
import { startJunction, eventually, type TestJunction } from '../support/junction.js'
import { device } from './support.js'

const rules = '/api/v1/deployments/default/rules'

const WARMUP = 5_000
const ROUNDS = 5

/**
 * Cost of one `engine.published` call in microseconds: the best of ROUNDS rounds of `iterations`
 * calls after a warm-up (the best round is the least disturbed by GC and JIT).
 */
function engineCost(j: TestJunction, topic: string, iterations: number): number {
  const engine = j.junction.deployments.runtime('default').engine
  const message: PublishedMessage = {
    topic, payload: Buffer.from('{"temp":21.5,"hum":40}'), qos: 1, retain: false, dup: false,
    clientid: 'bench', username: undefined, peerhost: '127.0.0.1', receivedAt: Date.now(),
  }
  for (let i = 0; i < WARMUP; i++) engine.published(message)
  let best = Infinity
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < iterations; i++) engine.published(message)
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1000 / iterations)
  }
  return best
}

describe('1000 rules', () => {
  let j: TestJunction
  before(async () => { j = await startJunction({ logLevel: 'info' }) })
  after(async () => { await j?.close() })

  it('a message reaches only the rules whose topic filter matches it', async () => {
    const ids: string[] = []
    const create = async (i: number) => {
      const r = await j.api('POST', rules, { name: `dev ${i}`, sql: `SELECT payload.temp AS temp FROM "dev/${i}/#"`, actions: [] })
      assert.equal(r.status, 201, JSON.stringify(r.body))
      ids[i] = r.body.id
    }

    // 10 rules: measure the engine alone (a synthetic message straight into it, no MQTT).
    const t0 = performance.now()
    for (let i = 0; i < 10; i++) await create(i)
    let installMs = performance.now() - t0
    const iterations = 20_000
    const matching10 = engineCost(j, 'dev/3/t', iterations)
    const none10 = engineCost(j, 'nobody/t', iterations)

    // 1000 rules (in batches of 50 concurrent API calls), plus the hot one.
    const t1 = performance.now()
    for (let i = 10; i < 1000; i += 50) await Promise.all(Array.from({ length: Math.min(50, 1000 - i) }, (_, k) => create(i + k)))
    const hot = await j.api('POST', rules, { name: 'hot', sql: 'SELECT payload.n AS n FROM "hot/#"', actions: [] })
    assert.equal(hot.status, 201, JSON.stringify(hot.body))
    installMs += performance.now() - t1
    const matching1000 = engineCost(j, 'dev/3/t', iterations)
    const none1000 = engineCost(j, 'nobody/t', iterations)
    console.log(`1001 rules created through the API in ${Math.round(installMs)} ms`)
    console.log(`engine cost per message, 10 rules:   ${matching10.toFixed(2)} us (1 rule matches), ${none10.toFixed(2)} us (none matches)`)
    console.log(`engine cost per message, 1001 rules: ${matching1000.toFixed(2)} us (1 rule matches), ${none1000.toFixed(2)} us (none matches)`)

    const client = await device(j)
    const N = 200
    await Promise.all(Array.from({ length: N }, (_, i) => client.publishAsync('hot/x', JSON.stringify({ n: i }), { qos: 1 })))
    await client.endAsync()
    await eventually(async () => (await j.api('GET', `${rules}/${hot.body.id}`)).body.metrics.rule.matched, (n) => n === N, `hot rule matched ${N}`)

    const all = (await j.api('GET', rules)).body.data as Array<{ id: string; metrics: any }>
    assert.equal(all.length, 1001)
    const matched = new Map(all.map((r) => [r.id, r.metrics.rule.matched]))
    assert.deepEqual(matched.get(hot.body.id), N)
    const hotRule = all.find((r) => r.id === hot.body.id)!.metrics.rule
    assert.deepEqual([hotRule.passed, hotRule.noResult, hotRule.failed], [N, 0, 0])
    // The synthetic messages went to dev/3 only: twice the warm-up plus the measured calls.
    assert.equal(matched.get(ids[3]!), 2 * (WARMUP + ROUNDS * iterations))
    const others = ids.filter((_, i) => i !== 3)
    assert.equal(others.length, 999)
    assert.deepEqual(others.filter((id) => matched.get(id) !== 0), [], 'no other rule saw a message')
    // The same through the single-rule endpoint, for a sample.
    for (const i of [0, 1, 10, 500, 999]) {
      assert.equal((await j.api('GET', `${rules}/${ids[i]}`)).body.metrics.rule.matched, 0, `rule dev/${i}/#`)
    }
  })
})
