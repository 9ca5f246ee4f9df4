// The Artemis cluster script (scripts/artemis/cluster.mjs) gives a real clustered MQTT broker: an
// MQTT 5 shared subscription with one member on node 1 and one on node 2 splits the messages
// published on node 3 between them, each message delivered once. The cluster is started once per
// run and reused when it already runs.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import mqtt, { type MqttClient } from 'mqtt'
import { startCluster } from '../../scripts/artemis/cluster.mjs'
import { randomName } from '../e2e/support.js'

async function connected(url: string, clientId: string): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 5, clientId, clean: true, reconnectPeriod: 0, connectTimeout: 10_000 })
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', reject)
  })
  return client
}

describe('Artemis cluster script', () => {
  let urls: string[] = []
  const clients: MqttClient[] = []

  before(async () => {
    urls = await startCluster({ log: () => {} })
  }, { timeout: 120_000 })

  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)))
  })

  it('starts three nodes with MQTT on known loopback ports and reuses them when running', async () => {
    assert.equal(urls.length, 3)
    assert.equal(new Set(urls).size, 3)
    for (const u of urls) assert.match(u, /^mqtt:\/\/127\.0\.0\.1:\d+$/)
    const again = await startCluster({ log: () => {} })
    assert.deepEqual(again, urls)
  })

  it('splits a $share subscription across nodes 1 and 2 for messages published on node 3, none lost or duplicated', async () => {
    const topic = `cluster-test/${randomName('t')}/data`
    const group = randomName('g')
    const received = new Map<string, number[]>([['node1', []], ['node2', []]])
    for (const [name, url] of [['node1', urls[0]!], ['node2', urls[1]!]] as const) {
      const sub = await connected(url, `${name}-${group}`)
      clients.push(sub)
      sub.on('message', (_t, payload) => { received.get(name)!.push(Number(String(payload))) })
      await sub.subscribeAsync(`$share/${group}/${topic}`, { qos: 1 })
    }
    const publisher = await connected(urls[2]!, `pub-${group}`)
    clients.push(publisher)
    const n = 400
    // The first messages may reach node 3 before it knows of the remote bindings, so warm up on
    // the same topic until one arrives, then count from a marked start.
    const warmUpDeadline = Date.now() + 20_000
    while (received.get('node1')!.length + received.get('node2')!.length === 0) {
      assert.ok(Date.now() < warmUpDeadline, 'no message crossed the cluster within 20 s')
      await publisher.publishAsync(topic, '-1', { qos: 1 })
      await new Promise((r) => setTimeout(r, 200))
    }
    await new Promise((r) => setTimeout(r, 500))
    for (const list of received.values()) list.length = 0
    for (let i = 0; i < n; i++) await publisher.publishAsync(topic, String(i), { qos: 1 })
    const deadline = Date.now() + 30_000
    const counted = () => [...received.values()].flat().filter((v) => v >= 0)
    while (counted().length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    await new Promise((r) => setTimeout(r, 500)) // a duplicate would arrive after the last original
    const all = counted()
    assert.equal(new Set(all).size, n, `distinct messages received: ${new Set(all).size} of ${n}`)
    assert.equal(all.length, n, `deliveries: ${all.length} for ${n} messages (duplicates)`)
    const one = received.get('node1')!.filter((v) => v >= 0).length
    const two = received.get('node2')!.filter((v) => v >= 0).length
    assert.ok(one > 0 && two > 0, `split between the members: node1 ${one}, node2 ${two}`)
  })
})
