// A connector's status across nodes (docs/cluster.md): one node alone answers its own status with
// itself as the only entry of `nodes`; when another node reports a different status, the
// connector is `inconsistent` and `nodes` says who sees what.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
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
    assert.deepEqual(r.body.nodes, [{ node: 'solo', status: 'connected', statusReason: null }])
    const nodes = await j.api('GET', '/api/v1/nodes')
    assert.deepEqual(nodes.body.data.map((n: any) => [n.name, n.status, n.self]), [['solo', 'up', true]])
  })

  it('nodes that disagree make it inconsistent; agreeing again makes it connected', async () => {
    let peer: { node: string; status: string; statusReason: string | null } = { node: 'other', status: 'disconnected', statusReason: 'connection refused' }
    j.junction.connectors.useNodes({ name: 'solo', peers: () => [peer] })
    const list = await j.api('GET', connectors)
    assert.equal(list.body.data[0].status, 'inconsistent')
    assert.deepEqual(list.body.data[0].nodes.map((n: any) => [n.node, n.status]), [['solo', 'connected'], ['other', 'disconnected']])
    peer = { node: 'other', status: 'connected', statusReason: null }
    assert.equal((await j.api('GET', `${connectors}/${id}`)).body.status, 'connected')
  })
})
