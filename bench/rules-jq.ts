/**
 * The cost of one rule evaluation that calls jq (jq-web in a worker thread, waited on with
 * Atomics.wait) against the same transformation written with built-in functions, in pairs in the
 * same run: evaluations/s, p50/p99 per evaluation, and the process's memory.
 *
 *   node --import tsx bench/rules-jq.ts [evaluations=2000] [rounds=3]
 */
import { compileRuleSql } from '../src/rules/sql/index.js'

const N = Number(process.argv[2] ?? 2000)
const ROUNDS = Number(process.argv[3] ?? 3)

const payload = JSON.stringify({ device: 'd1', readings: Array.from({ length: 10 }, (_, i) => ({ v: i * 1.5, unit: 'C' })) })
const context = { clientid: 'c1', topic: 't/1', qos: 1, payload }

const variants = {
  builtin: compileRuleSql(`SELECT payload.device AS d, length(payload.readings) AS n FROM "t/#"`),
  jq: compileRuleSql(`SELECT jq('{d: .device, n: (.readings | length)}', payload) AS r FROM "t/#"`),
}

function run(name: keyof typeof variants): { perSecond: number; p50: number; p99: number } {
  const rule = variants[name]
  const times: number[] = []
  const start = performance.now()
  for (let i = 0; i < N; i++) {
    const t = performance.now()
    rule.evaluate(context)
    times.push(performance.now() - t)
  }
  const total = performance.now() - start
  times.sort((a, b) => a - b)
  return { perSecond: (N / total) * 1000, p50: times[Math.floor(N / 2)]!, p99: times[Math.floor(N * 0.99)]! }
}

// The first jq call starts the jq thread (loads the WebAssembly module): not part of a call's cost.
const t0 = performance.now()
variants.jq.evaluate(context)
console.log(`jq thread start + first call: ${(performance.now() - t0).toFixed(0)} ms`)

for (let round = 1; round <= ROUNDS; round++) {
  for (const name of ['builtin', 'jq'] as const) {
    const r = run(name)
    const mem = process.memoryUsage()
    console.log(
      `round ${round} ${name.padEnd(7)} ${r.perSecond.toFixed(0).padStart(8)} evaluations/s  p50 ${(r.p50 * 1000).toFixed(0).padStart(6)} µs  p99 ${(r.p99 * 1000).toFixed(0).padStart(6)} µs  rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB`,
    )
  }
}
