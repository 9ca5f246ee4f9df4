#!/usr/bin/env node
// Load generator for bench/acknowledge.ts, in its own process: like bench/publisher.mjs (count
// messages {seq, ts, temp} over `clients` connections at `rate` msg/s in all, 0 = as fast as
// acknowledged, at most `window` unacknowledged per connection), and it also times each QoS 1
// publish until its PUBACK.
//   node bench/ack-publisher.mjs <mqtt-url> <topic> <count> [rate=0] [window=500] [clients=4]
import mqtt from 'mqtt'

const [url, topic, countArg, rateArg = '0', windowArg = '500', clientsArg = '4'] = process.argv.slice(2)
const count = Number(countArg)
const rate = Number(rateArg)
const window = Number(windowArg)
const clients = Math.max(1, Math.min(Number(clientsArg), count || 1))

const connections = await Promise.all(Array.from({ length: clients }, async (_, k) => {
  const client = await mqtt.connectAsync(url, { clientId: `ackbench-${process.pid}-${k}`, protocolVersion: 4, reconnectPeriod: 0 })
  client.stream.setNoDelay?.(true)
  return client
}))

const latencies = new Float64Array(count)
let failed = 0
const started = Date.now()
const t0 = performance.now()

async function run(client, k) {
  let inflight = 0
  let resume
  for (let seq = k; seq < count; seq += clients) {
    if (rate > 0) {
      const wait = started + (seq * 1000) / rate - Date.now()
      if (wait > 1) await new Promise((r) => setTimeout(r, wait))
    }
    while (inflight >= window) await new Promise((r) => { resume = r })
    inflight++
    const sentAt = performance.now()
    client.publish(topic, `{"seq":${seq},"ts":${Date.now()},"temp":${(seq % 400) / 10}}`, { qos: 1 }, (err) => {
      if (err) failed++
      latencies[seq] = performance.now() - sentAt
      inflight--
      if (resume) { const r = resume; resume = undefined; r() }
    })
  }
  while (inflight > 0) await new Promise((r) => { resume = r })
}

await Promise.all(connections.map((c, k) => run(c, k)))
const elapsedMs = performance.now() - t0
await Promise.all(connections.map((c) => c.endAsync()))
const sorted = Array.from(latencies).sort((a, b) => a - b)
const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
process.stdout.write(JSON.stringify({ sent: count, failed, elapsedMs, p50: q(0.5), p99: q(0.99), max: sorted[sorted.length - 1] }) + '\n')
