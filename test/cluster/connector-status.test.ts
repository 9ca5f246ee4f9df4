// A connector's status across nodes (docs/cluster.md): one node alone answers its own status with
// itself as the only entry of `nodes`; when another node reports a different status, the
// connector is `inconsistent` and `nodes` says who sees what.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { ConnectorNode } from '../../src/control/connector-service.js'
import { startJunction, eventually, type TestJunction } from '../support/junction.js'

describe('connector status across nodes', () => {
  let j: TestJunction
  let id: string
  const connectors = '/api/v1/deployments/default/connectors'

  before(async () => {
    j = await startJunction({ nodeName: 'solo' })
    const r = await j.api('POST', connectors, { name: 'cache', type: 'redis', config: { servers: '127.0.0.1:6379' } })
    assert.equal(r.status, 201, JSON.stringify(r.body))
    id = r.body.id
    await eventually(() => j.api('GET', `${connectors}/${id}`), (r) => r.body.status === 'connected', 'connected')
  })
  after(() => j.close())

  it('a single node: its own status, itself the only node', async () => {
    const r = await j.api('GET', `${connectors}/${id}`)
    assert.equal(r.body.status, 'connected')
    const { series: _series, ...counters } = r.body.metrics
    assert.deepEqual(r.body.nodes, [{ node: 'solo', status: 'connected', statusReason: null, delivery: 'ok', metrics: counters }])
    assert.deepEqual(r.body.totals, counters, 'one node: the totals are its metrics')
    const nodes = await j.api('GET', '/api/v1/nodes')
    assert.deepEqual(nodes.body.data.map((n: any) => [n.name, n.status, n.self]), [['solo', 'up', true]])
  })

  it('nodes that disagree make it inconsistent; agreeing again makes it connected', async () => {
    const metrics = { matched: 5, success: 3, failed: 1, dropped: 1, queuing: 0, inflight: 0, retried: 2, rate: { success: 0.5, failed: 0.1, dropped: 0 }, lastSuccessAt: '2026-01-01T00:00:00.000Z', lastError: 'boom' }
    let peer: ConnectorNode = { node: 'other', status: 'disconnected', statusReason: 'connection refused', delivery: 'failing', metrics }
    j.junction.connectors.useNodes({ name: 'solo', peers: () => [peer] })
    const list = await j.api('GET', connectors)
    assert.equal(list.body.data[0].status, 'inconsistent')
    assert.deepEqual(list.body.data[0].nodes.map((n: any) => [n.node, n.status]), [['solo', 'connected'], ['other', 'disconnected']])
    // The other node's metrics are added to this node's (zeros: nothing sends through it here).
    assert.deepEqual(list.body.data[0].nodes[1], { ...peer })
    assert.deepEqual(list.body.data[0].totals, metrics)
    peer = { ...peer, status: 'connected', statusReason: null }
    assert.equal((await j.api('GET', `${connectors}/${id}`)).body.status, 'connected')
  })
})
