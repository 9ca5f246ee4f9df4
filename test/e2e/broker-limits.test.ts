// A deployment's broker limits, set through the API and tried from outside the way a misbehaving
// device or an attacker would, while the API's health endpoint is timed: a subscriber that never
// reads, packets declaring 256 MB, too many connections, a client publishing too fast. Figures
// come back in /mqtt/stats and /metrics.
import assert from 'node:assert/strict'
import { connect as netConnect, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { stuckSubscriber } from '../broker/support.js'
import { AUTH, eventually, startJunction, type TestJunction } from '../support/junction.js'

const dep = '/api/v1/deployments/default'

/** Times GET /api/v1/health over real HTTP until stopped; returns every latency (ms). */
function pollHealth(base: string): { stop(): Promise<number[]> } {
  const times: number[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      const t0 = performance.now()
      const r = await fetch(`${base}/api/v1/health`)
      await r.arrayBuffer()
      assert.equal(r.status, 200)
      times.push(performance.now() - t0)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()
  return { async stop() { running = false; await loop; return times } }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

describe('broker limits hold, and the API stays responsive', () => {
  let j: TestJunction
  let base: string
  let port: number
  const clients: MqttClient[] = []
  const sockets: Socket[] = []
  const connect = async (opts: IClientOptions) => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, reconnectPeriod: 0, ...opts })
    clients.push(c)
    return c
  }

  before(async () => {
    j = await startJunction()
    base = await j.junction.listen()
    const r = await j.api('PATCH', dep, { mqtt: { maxQueuedMessages: 100, maxPacketSize: 64 * 1024 } })
    assert.equal(r.status, 200, JSON.stringify(r.body))
    port = r.body.mqtt.port
  })
  after(async () => {
    for (const s of sockets) s.destroy()
    await Promise.all(clients.map((c) => c.endAsync(true)))
    await j?.close()
  })

  it('a subscriber that never reads loses its own messages (counted), never the publisher\'s acknowledgements', async () => {
    const baseline = pollHealth(base)
    await new Promise((r) => setTimeout(r, 300))
    const quiet = median(await baseline.stop())

    sockets.push(await stuckSubscriber(port, 'flood/#'))

    const healthy = await connect({ clientId: 'healthy-sub' })
    let got = 0
    healthy.on('message', () => { got++ })
    await healthy.subscribeAsync('flood/#', { qos: 1 })
    const pub = await connect({ clientId: 'flooder' })
    const attack = pollHealth(base)
    const payload = Buffer.alloc(1024, 7)
    const N = 10_000
    let acked = 0
    // Windows of 100 (within a session's inflight 32 + queue 100), each after the healthy
    // subscriber has the previous one: it keeps up, the stuck one cannot, and only the stuck
    // one's queue overflows.
    for (let i = 0; i < N; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, k) => pub.publishAsync(`flood/${(i + k) % 10}`, payload, { qos: 1 }).then(() => { acked++ })))
      await eventually(async () => got, (g) => g >= i + 100, 'the healthy subscriber keeps up', 30_000)
    }
    const during = await attack.stop()
    assert.equal(acked, N, 'every publish was acknowledged')
    assert.equal(got, N)

    const stats = (await j.api('GET', `${dep}/mqtt/stats`)).body
    assert.ok(stats.dropped.queue_full > 0, JSON.stringify(stats))
    assert.ok(stats.queued <= 100 + 1, `the stuck session's queue is capped: ${stats.queued}`)
    const metrics = await (await fetch(`${base}/metrics`, { headers: { authorization: AUTH } })).text()
    assert.match(metrics, /junction_mqtt_delivery_dropped_total\{deployment="default",reason="queue_full"\} [1-9]/)
    assert.match(metrics, /junction_mqtt_connections\{deployment="default"\} \d+/)
    // The API answered throughout; compared with its own quiet latency, never with a fixed figure.
    assert.ok(during.length > 0)
    assert.ok(median(during) < Math.max(quiet * 50, 250), `health median ${median(during)} ms vs ${quiet} ms quiet`)
  })

  it('packets declaring 256 MB are refused from their header, nothing buffered', async () => {
    const rssBefore = process.memoryUsage().rss
    const closed: Array<Promise<unknown>> = []
    for (let i = 0; i < 3; i++) {
      const s = netConnect({ host: '127.0.0.1', port })
      sockets.push(s)
      await new Promise((r) => s.once('connect', r))
      const id = Buffer.from(`big-${i}`)
      s.write(Buffer.concat([Buffer.from([0x10, 12 + id.length, 0, 4]), Buffer.from('MQTT'), Buffer.from([4, 2, 0, 60, 0, id.length]), id]))
      closed.push(new Promise((r) => s.once('close', r)))
      s.on('error', () => {})
      // PUBLISH with remaining length 268,435,455, then 1 MB of its body.
      s.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]))
      s.write(Buffer.alloc(1024 * 1024))
    }
    await Promise.all(closed)
    // Three 256 MB buffers would be 768 MB; allow generous noise for the rest of the process.
    assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024)
    const ok = await connect({ clientId: 'after-big' })
    assert.ok(ok.connected, 'the broker still takes connections')
  })

  it('maxConnections refuses the client past the limit with quota exceeded, and applies without restart', async () => {
    const open = (await j.api('GET', `${dep}/mqtt/stats`)).body.connections
    assert.equal((await j.api('PATCH', dep, { mqtt: { maxConnections: open + 1 } })).status, 200)
    await connect({ clientId: 'last-seat' })
    const err = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'one-too-many', protocolVersion: 5, reconnectPeriod: 0 }).then(
      (c) => { clients.push(c); return undefined },
      (e: { code?: number }) => e,
    )
    assert.equal(err?.code, 0x97)
    assert.equal((await j.api('PATCH', dep, { mqtt: { maxConnections: null } })).status, 200)
    await connect({ clientId: 'seat-again' })
  })

  it('maxMessageRate slows a client down to its rate instead of dropping its messages', async () => {
    assert.equal((await j.api('PATCH', dep, { mqtt: { maxMessageRate: 100 } })).status, 200)
    const sub = await connect({ clientId: 'rate-sub' })
    let got = 0
    sub.on('message', () => { got++ })
    await sub.subscribeAsync('rate/#', { qos: 1 })
    const pub = await connect({ clientId: 'rate-pub' })
    const t0 = performance.now()
    await Promise.all(Array.from({ length: 300 }, (_, i) => pub.publishAsync(`rate/${i}`, 'x', { qos: 1 })))
    const seconds = (performance.now() - t0) / 1000
    // 300 messages at 100/s with a bucket of 100 cannot take less than ~2 s (a lower bound: a slow machine only adds).
    assert.ok(seconds >= 1.8, `${seconds} s`)
    await eventually(async () => got, (g) => g === 300, 'every message', 20_000)
    assert.equal((await j.api('PATCH', dep, { mqtt: { maxMessageRate: null } })).status, 200)
  })
})
