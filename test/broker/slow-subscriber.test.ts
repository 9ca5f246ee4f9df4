/**
 * A subscriber that never reads must not stall anyone else: publishers keep getting PUBACKs,
 * healthy subscribers keep getting everything, and what the broker holds for the stuck one is
 * capped (inflight window + maxQueuedMessages), QoS 0 copies being dropped before QoS 1 ones.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { IPublishPacket } from 'mqtt-packet'
import { clientId, connect, end, rawConnected, sleep, startBroker, until, type TestBroker } from './support.js'

const INFLIGHT = 32
const QUEUED = 100
const TOTAL = 50_000
// The publisher keeps at most WINDOW messages unacknowledged (below the broker's Receive Maximum)
// and at most LEAD ahead of the healthy subscriber (below its inflight + queue, so a subscriber
// that keeps up never overflows its own queue).
const WINDOW = 200
const LEAD = 50

let tb: TestBroker
before(async () => { tb = await startBroker({ limits: { maxInflight: INFLIGHT, maxQueuedMessages: QUEUED } }) })
after(() => tb.close())

test(`a stuck subscriber does not stall ${TOTAL} QoS 1 publishes nor a healthy subscriber; its backlog is capped, QoS 0 dropped first`, async () => {
  const base = `slow/${clientId()}`
  const stuck = await rawConnected(tb)
  stuck.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${base}/a`, qos: 1 }, { topic: `${base}/b`, qos: 0 }] })
  await stuck.next('suback')
  stuck.socket.pause() // reads nothing from now on: the broker's writes to it back up

  const healthy = await connect(tb)
  await healthy.client.subscribeAsync(`${base}/#`, { qos: 1 })
  let healthyCount = 0
  let wake: (() => void) | undefined
  healthy.client.on('message', () => { healthyCount++; wake?.() })

  const pub = await connect(tb)
  const payload = Buffer.alloc(1024, 0x70)
  let acked = 0
  let refused = 0
  let outstanding = 0
  for (let i = 0; i < TOTAL; i++) {
    while (outstanding >= WINDOW || i - healthyCount >= LEAD) {
      const progress = acked + refused + healthyCount
      await Promise.race([new Promise<void>((r) => { wake = r }), sleep(2_000)])
      if (acked + refused + healthyCount === progress) assert.fail(`no progress at message ${i}: ${acked} acked, healthy has ${healthyCount}`)
    }
    outstanding++
    pub.client.publish(`${base}/${i % 2 === 0 ? 'a' : 'b'}`, payload, { qos: 1 }, (err) => {
      outstanding--
      if (err) refused++
      else acked++
      wake?.()
    })
  }
  await until(() => acked + refused === TOTAL, 'every PUBACK', 60_000)
  assert.equal(refused, 0, 'PUBACKs with an error')
  await until(() => healthyCount === TOTAL, `the healthy subscriber's ${TOTAL} messages (has ${healthyCount})`, 30_000)
  assert.equal(stuck.closed(), false, 'the stuck subscriber is still connected')

  // Now read what the broker kept for the stuck subscriber, acknowledging as it comes.
  const ackedIds = new Set<IPublishPacket>()
  stuck.socket.resume()
  let last = -1
  while (stuck.packets.length !== last) {
    last = stuck.packets.length
    for (const p of stuck.packets) {
      if (p.cmd === 'publish' && p.qos === 1 && !ackedIds.has(p)) { ackedIds.add(p); stuck.send({ cmd: 'puback', messageId: p.messageId!, reasonCode: 0 }) }
    }
    await sleep(500)
  }
  const publishes = stuck.packets.filter((p) => p.cmd === 'publish') as IPublishPacket[]
  const qos1 = publishes.filter((p) => p.qos === 1).length
  const qos0 = publishes.filter((p) => p.qos === 0).length
  assert.ok(qos0 < TOTAL / 2, `QoS 0 copies are dropped for a stuck subscriber (got ${qos0} of ${TOTAL / 2})`)
  assert.equal(qos1, INFLIGHT + QUEUED, `QoS 1 copies kept: the inflight window plus a full queue (QoS 0 dropped first); got ${qos1}, QoS 0 ${qos0}`)
  stuck.destroy()
  await end(healthy.client, pub.client)
})
