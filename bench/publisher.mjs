#!/usr/bin/env node
// Load generator for the benchmarks, in its own process so it does not share an event loop with
// what it measures. Publishes `count` messages {seq, ts, temp} to `topic`, at `rate` msg/s
// (0 = as fast as the broker takes them), keeping at most `window` publishes unacknowledged.
//   node bench/publisher.mjs <mqtt-url> <topic> <count> <qos> [rate=0] [window=500]
import mqtt from 'mqtt'

const [url, topic, countArg, qosArg, rateArg = '0', windowArg = '500'] = process.argv.slice(2)
const count = Number(countArg)
const qos = Number(qosArg)
const rate = Number(rateArg)
const window = Number(windowArg)

const client = await mqtt.connectAsync(url, { clientId: `bench-${process.pid}`, protocolVersion: 4, reconnectPeriod: 0 })
client.stream.setNoDelay?.(true)
const t0 = performance.now()
let inflight = 0
let resume
const started = Date.now()
for (let seq = 0; seq < count; seq++) {
  if (rate > 0) {
    const due = started + (seq * 1000) / rate
    const wait = due - Date.now()
    if (wait > 1) await new Promise((r) => setTimeout(r, wait))
  }
  while (inflight >= window) await new Promise((r) => { resume = r })
  inflight++
  const payload = `{"seq":${seq},"ts":${Date.now()},"temp":${(seq % 400) / 10},"site":"plant-${seq % 7}"}`
  client.publish(topic, payload, { qos }, () => {
    inflight--
    if (resume) { const r = resume; resume = undefined; r() }
  })
}
while (inflight > 0) await new Promise((r) => { resume = r })
const elapsedMs = performance.now() - t0
await client.endAsync()
const cpu = process.cpuUsage()
process.stdout.write(JSON.stringify({ sent: count, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000 }) + '\n')
