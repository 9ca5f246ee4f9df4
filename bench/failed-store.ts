// A burst of failures into a failed-message store: adds per second and how long the event loop
// was held (p99 / max of its delay while the burst and its writes ran), against the same burst
// into a store-less handler (the baseline). Run: node --import tsx bench/failed-store.ts [N]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { FailedMessageStore } from '../src/runtime/failed-messages.js'

const N = Number(process.argv[2] ?? 200_000)
const quiet = { info() {}, warn() {}, error() {}, debug() {} }
const message = (i: number) => ({ clientid: `sensor-${i % 100}`, seq: i, temp: 20 + (i % 10), topic: 'sensors/room/1', ts: 1_700_000_000_000 + i })

async function burst(label: string, add: (m: Record<string, unknown>) => void): Promise<void> {
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  const t0 = process.hrtime.bigint()
  // In slices of 1,000 per tick, as failures arrive from batches.
  for (let i = 0; i < N; i += 1000) {
    for (let k = i; k < Math.min(N, i + 1000); k++) add(message(k))
    await new Promise((r) => setImmediate(r))
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  await new Promise((r) => setTimeout(r, 200))
  h.disable()
  const mem = process.memoryUsage().heapUsed / 1024 / 1024
  console.log(`${label.padEnd(28)} ${Math.round(N / (ms / 1000)).toLocaleString('en')} adds/s  loop delay p50 ${(h.percentile(50) / 1e6).toFixed(2)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(2)} ms, max ${(h.max / 1e6).toFixed(2)} ms  heap ${mem.toFixed(0)} MiB`)
}

for (let round = 0; round < 2; round++) {
  let sink = 0
  await burst('baseline (no store)', (m) => { sink += (m.seq as number) })
  const dir = mkdtempSync(join(tmpdir(), 'junction-bench-failed-'))
  const store = FailedMessageStore.open(join(dir, 'a'), quiet, { maxMessages: 10_000, maxBytes: 16 * 1024 * 1024 })
  await burst('store (bound 10,000)', (m) => store.add(m, 'queue_full', { attempts: 0 }))
  console.log(`  kept ${store.stats().stored}, evicted ${store.stats().evicted}`)
  store.close()
  rmSync(dir, { recursive: true, force: true })
  if (sink < 0) console.log(sink)
}
