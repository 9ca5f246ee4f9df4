// Nothing a device or an API caller sends may freeze Junction through rule evaluation. Junction
// runs in-process with its real HTTP listener and broker; a real MQTT client sends the attack
// messages while real HTTP requests measure /api/v1/health. Timings are only compared with a
// baseline taken the same way on the same machine, never with absolute numbers.
import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import { after, before, describe, it } from 'node:test'
import type { MqttClient } from 'mqtt'
import { AUTH, eventually, startJunction, type TestJunction } from '../support/junction.js'
import { device } from './support.js'

const RULES = '/api/v1/deployments/default/rules'

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

describe('rule evaluation is bounded: health answers while attacks run', () => {
  let j: TestJunction
  let base: string
  let dev: MqttClient

  before(async () => {
    j = await startJunction({ logLevel: 'silent' })
    base = (await j.junction.listen()).replace(/\/$/, '').replace('://0.0.0.0', '://127.0.0.1')
    // Anonymous, as a device on the embedded broker's defaults.
    dev = await device(j, 'attacker')
  })
  after(async () => {
    await dev?.endAsync()
    await j?.close()
  })

  /** One GET /api/v1/health over real HTTP: its latency in ms. */
  async function health(): Promise<number> {
    const t = performance.now()
    const res = await fetch(`${base}/api/v1/health`)
    assert.equal(res.status, 200)
    assert.equal(((await res.json()) as { status: string }).status, 'ok')
    return performance.now() - t
  }

  async function http(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; bytes: number; ms: number }> {
    const t = performance.now()
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : undefined, bytes: text.length, ms: performance.now() - t }
  }

  /** Latencies of health requests made one after another until `work` settles (at least one). */
  async function healthDuring(work: Promise<unknown>): Promise<number[]> {
    let done = false
    const finished = work.finally(() => {
      done = true
    })
    const latencies: number[] = []
    do latencies.push(await health())
    while (!done)
    await finished
    return latencies
  }

  it('a catastrophic regex on a topic: every attack message is evaluated, health keeps answering', async (t) => {
    const created = await http('POST', RULES, {
      name: 'redos',
      sql: `SELECT regex_match(payload.s, '^(a+)+$') AS m FROM "redos/#"`,
      actions: [{ builtin: 'republish', params: { topic: 'redos-out/1', payload: '${m}', qos: 0 } }],
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const id = created.body.id as string
    const metrics = async () => (await j.api('GET', `${RULES}/${id}`)).body.metrics.rule as { matched: number; passed: number; failed: number; lastError: string | null }

    const baseline: number[] = []
    for (let i = 0; i < 20; i++) baseline.push(await health())

    const N = 20
    /** Publishes N messages with `s` and waits until the rule has evaluated all of them; ms taken. */
    const burst = async (s: string, total: number): Promise<number> => {
      const t = performance.now()
      for (let i = 0; i < N; i++) await dev.publishAsync(`redos/${i}`, JSON.stringify({ s }), { qos: 1 })
      await eventually(metrics, (m) => m.matched >= total, `${total} evaluations`, 60_000)
      return performance.now() - t
    }
    // The same rule on harmless text of the same length: what N messages cost when nothing is wrong.
    const benignMs = await burst(`${'b'.repeat(32)}!`, N)
    // 40 bytes that froze the process ~15 s each under a backtracking engine.
    const attack = `${'a'.repeat(32)}!`
    let attackMs = 0
    const during = await healthDuring(burst(attack, 2 * N).then((ms) => (attackMs = ms)))

    const m = await metrics()
    assert.equal(m.matched, 2 * N)
    assert.equal(m.passed + m.failed, 2 * N, 'every message was evaluated to an end')
    assert.equal(m.failed, 0, `no evaluation failed (${m.lastError})`)
    assert.ok(during.length >= 1)
    const slack = Math.max(median(baseline), 1)
    assert.ok(attackMs < benignMs * 10 + slack * 200, `attack burst ${attackMs.toFixed(0)} ms vs benign ${benignMs.toFixed(0)} ms`)
    t.diagnostic(`health baseline median ${median(baseline).toFixed(2)} max ${Math.max(...baseline).toFixed(2)}; during n=${during.length} median ${median(during).toFixed(2)} max ${Math.max(...during).toFixed(2)}; benign ${benignMs.toFixed(0)} attack ${attackMs.toFixed(0)}`)
    assert.ok(median(during) < slack * 50, `health during the attack: median ${median(during).toFixed(1)} ms vs baseline ${median(baseline).toFixed(1)} ms`)
    assert.ok(Math.max(...during) < Math.max(...baseline, slack) * 100, `health during the attack: max ${Math.max(...during).toFixed(1)} ms vs baseline max ${Math.max(...baseline).toFixed(1)} ms`)
  })

  it('rules/test cannot answer gigantic bodies: growth, decompression bombs and huge FOREACH outputs are 400s', async () => {
    const normal = await http('POST', `${RULES}/test`, { sql: `SELECT pad('x', 10) AS p FROM "t/#"`, context: { topic: 't/1' } })
    assert.equal(normal.status, 200)
    assert.equal(normal.body.output.p, 'x'.padEnd(10))

    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024)).toString('base64')
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [`SELECT pad('x', 100000000) AS p FROM "t/#"`, { topic: 't/1' }, /over the limit of 1048576 for one value/],
      [`SELECT sprintf('~100000000c', 120) AS p FROM "t/#"`, { topic: 't/1' }, /over the limit of 1048576 for one value/],
      [`SELECT gunzip(base64_decode(payload)) AS p FROM "t/#"`, { topic: 't/1', payload: bomb }, /decompressed data is larger than 1048576 bytes/],
      [`SELECT ${Array.from({ length: 30 }, (_, i) => `pad('x', 1000000) AS f${i}`).join(', ')} FROM "t/#"`, { topic: 't/1' }, /one evaluation may make/],
      [`FOREACH [1..100000] AS i FROM "t/#"`, { topic: 't/1', payload: 'p'.repeat(100_000) }, /output is larger than 2097152 characters/],
    ]
    const latencies: number[] = []
    for (const [sql, context, reason] of cases) {
      const res = await http('POST', `${RULES}/test`, { sql, context })
      assert.equal(res.status, 400, sql)
      assert.equal(res.body.error.code, 'VALIDATION_FAILED', sql)
      assert.match(res.body.error.message, reason, sql)
      assert.ok(res.body.error.fields?.[0]?.hint, `a hint for ${sql.slice(0, 40)}`)
      assert.ok(res.bytes < 10_000, `answer of ${res.bytes} bytes for ${sql.slice(0, 40)}`)
      latencies.push(res.ms)
    }
    // JSON nested 100,000 deep in the payload text: the rule engine's limit, a 400, not a stack overflow (500).
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`
    const inText = await http('POST', `${RULES}/test`, { sql: 'SELECT payload.a AS a FROM "t/#"', context: { topic: 't/1', payload: `{"a":${deep}}` } })
    assert.equal(inText.status, 400, JSON.stringify(inText.body).slice(0, 300))
    assert.equal(inText.body.error.code, 'VALIDATION_FAILED')
    assert.match(inText.body.error.message, /more than 1000 levels deep/)
    // As the sample object itself, the request body is too deep for the API's JSON parser (64 levels) before any rule code runs.
    const asObject = await http('POST', `${RULES}/test`, { sql: 'SELECT payload.a AS a FROM "t/#"', context: { topic: 't/1', payload: JSON.parse(`{"a":${deep.slice(0, 4000)}${deep.slice(-4000)}}`) } })
    assert.equal(asObject.status, 400, JSON.stringify(asObject.body).slice(0, 300))
    assert.equal(asObject.body.error.code, 'JSON_TOO_DEEP')
    assert.match(asObject.body.error.fields[0].path, /^context\.payload\.a/)
    // Refusals cost about what a normal test costs (the bomb's request body is 100 KB, the FOREACH makes 100,000 outputs).
    assert.ok(latencies[0]! < Math.max(normal.ms, 1) * 50, `pad refusal ${latencies[0]!.toFixed(1)} ms vs normal test ${normal.ms.toFixed(1)} ms`)
    assert.ok((await health()) >= 0)
  })

  it('deeply nested SQL is a 400 INVALID_SQL with line, column and a hint, on create and on test', async () => {
    const deep = `SELECT ${'('.repeat(1000)}1${')'.repeat(1000)} AS x FROM "t/#"`
    for (const path of [RULES, `${RULES}/test`]) {
      const res = await http('POST', path, path === RULES ? { name: 'deep', sql: deep, actions: [] } : { sql: deep, context: {} })
      assert.equal(res.status, 400, JSON.stringify(res.body).slice(0, 300))
      assert.equal(res.body.error.code, 'INVALID_SQL')
      assert.match(res.body.error.message, /line 1, column \d+: the expression is nested too deeply \(more than 100 levels\)/)
      assert.equal(res.body.error.line, 1)
      assert.equal(typeof res.body.error.column, 'number')
      assert.equal(res.body.error.fields[0].path, 'sql')
      assert.match(res.body.error.hint, /at most 100 levels deep/)
    }
    const chain = `SELECT 1 AS x FROM "t/#" WHERE ${Array.from({ length: 2000 }, (_, i) => `payload = '${i}'`).join(' OR ')}`
    const long = await http('POST', `${RULES}/test`, { sql: chain, context: {} })
    assert.equal(long.status, 400)
    assert.match(long.body.error.message, /too deeply nested \(more than 1000 levels/)
    // A pattern the linear-time engine cannot run is refused at create time, pointing at the pattern.
    const sql = `SELECT regex_match(payload.s, '(a)\\1') AS m FROM "t/#"`
    const backref = await http('POST', RULES, { name: 'backref', sql, actions: [] })
    assert.equal(backref.status, 400)
    assert.equal(backref.body.error.code, 'INVALID_SQL')
    assert.equal(backref.body.error.column, sql.indexOf(`'(a)`) + 1)
    assert.match(backref.body.error.message, /backreferences are not supported/)
    assert.match(backref.body.error.hint, /linear-time engine/)
  })
})
