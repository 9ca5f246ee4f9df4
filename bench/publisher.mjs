#!/usr/bin/env node
// Load generator for the benchmarks, in its own process so it does not share an event loop with
// what it measures. Publishes `count` messages {seq, ts, temp, site} to `topic` over `clients`
// connections (a small fleet: seq k goes over connection k mod clients), at `rate` msg/s in all
// (0 = as fast as the broker takes them), each connection keeping at most `window` publishes
// unacknowledged. With BENCH_TS_FRACTION=1 in its environment, `ts` has microseconds (3 decimals)
// for latencies under a millisecond; it is an integer otherwise (a column of integers takes it).
//   node bench/publisher.mjs <mqtt-url> <topic> <count> <qos> [rate=0] [window=500] [clients=1]
import mqtt from 'mqtt'

const [url, topic, countArg, qosArg, rateArg = '0', windowArg = '500', clientsArg = '1'] = process.argv.slice(2)
const count = Number(countArg)
const qos = Number(qosArg)
const rate = Number(rateArg)
const window = Number(windowArg)
const clients = Math.max(1, Math.min(Number(clientsArg), count || 1))
const now = process.env.BENCH_TS_FRACTION === '1' ? () => (performance.timeOrigin + performance.now()).toFixed(3) : Date.now

const connections = await Promise.all(Array.from({ length: clients }, async (_, k) => {
  const client = await mqtt.connectAsync(url, { clientId: `bench-${process.pid}-${k}`, protocolVersion: 4, reconnectPeriod: 0 })
  client.stream.setNoDelay?.(true)
  return client
}))

const started = Date.now()
const t0 = performance.now()

/** Publishes seq = k, k + clients, k + 2 * clients, ... over connection k. */
async function run(client, k) {
  let inflight = 0
  let resume
  for (let seq = k; seq < count; seq += clients) {
    if (rate > 0) {
      const due = started + (seq * 1000) / rate
      const wait = due - Date.now()
      if (wait > 1) await new Promise((r) => setTimeout(r, wait))
    }
    while (inflight >= window) await new Promise((r) => { resume = r })
    inflight++
    const payload = `{"seq":${seq},"ts":${now()},"temp":${(seq % 400) / 10},"site":"plant-${seq % 7}"}`
    client.publish(topic, payload, { qos }, () => {
      inflight--
      if (resume) { const r = resume; resume = undefined; r() }
    })
  }
  while (inflight > 0) await new Promise((r) => { resume = r })
}

await Promise.all(connections.map((c, k) => run(c, k)))
const elapsedMs = performance.now() - t0
await Promise.all(connections.map((c) => c.endAsync()))
const cpu = process.cpuUsage()
process.stdout.write(JSON.stringify({ sent: count, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000 }) + '\n')
