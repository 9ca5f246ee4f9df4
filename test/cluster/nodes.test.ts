// Several Junction processes on one PostgreSQL database with the same secret key form one
// installation (docs/cluster.md): a change made through one node's API runs on every node (change
// feed), sessions and API keys work on every node, GET /nodes lists them with their heartbeats,
// a killed node is marked down, and a node with another secret key refuses to start.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import mqtt from 'mqtt'
import pg from 'pg'
import { AUTH } from '../support/junction.js'
import { junctionProcessSetup, startJunctionProcess } from '../support/junction-process.js'
import { privateDatabase } from '../support/postgres.js'

const SECRET_KEY = 'the installation key for the cluster test'
const root = new URL('../..', import.meta.url).pathname

interface Node {
  readonly name: string
  readonly env: Record<string, string>
  readonly mqttPort: number
  child: ChildProcess
  api(method: string, path: string, body?: unknown, authorization?: string): Promise<{ status: number; body: any }>
}

async function nodeSetup(name: string, databaseUrl: string, secretKey = SECRET_KEY): Promise<Omit<Node, 'child'>> {
  const setup = await junctionProcessSetup()
  const env: Record<string, string> = { ...setup.env, JUNCTION_DATABASE_URL: databaseUrl, JUNCTION_SECRET_KEY: secretKey, JUNCTION_NODE_NAME: name }
  return {
    name, env, mqttPort: setup.mqttPort,
    async api(method, path, body, authorization = AUTH) {
      const r = await fetch(`http://127.0.0.1:${env.JUNCTION_HTTP_PORT}${path}`, {
        method, headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await r.text()
      return { status: r.status, body: text ? JSON.parse(text) : undefined }
    },
  }
}

/** Polls until `pred` holds; fails with the last value after `timeoutMs`. */
async function until<T>(what: string, fn: () => Promise<T>, pred: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs
  let last = await fn()
  while (!pred(last)) {
    if (Date.now() > end) assert.fail(`${what}: still ${JSON.stringify(last)}`)
    await new Promise((r) => setTimeout(r, 50))
    last = await fn()
  }
  return last
}

const CONNECTORS = '/api/v1/deployments/default/connectors'
const RULES = '/api/v1/deployments/default/rules'

describe('several nodes on one PostgreSQL', () => {
  const databaseUrl = privateDatabase()
  const nodes: Node[] = []
  const started: ChildProcess[] = []

  before(async () => {
    const setups = await Promise.all(['node-a', 'node-b', 'node-c'].map((n) => nodeSetup(n, databaseUrl)))
    // The first node creates the store; the others join it together.
    const first = await startJunctionProcess(setups[0]!.env)
    started.push(first)
    const rest = await Promise.all(setups.slice(1).map((s) => startJunctionProcess(s.env)))
    started.push(...rest)
    setups.forEach((s, i) => nodes.push({ ...s, child: started[i]! }))
  }, { timeout: 120_000 })

  after(async () => {
    for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await Promise.all(started.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)))
  })

  it('every node lists the three nodes up, itself marked self', async () => {
    for (const n of nodes) {
      const r = await n.api('GET', '/api/v1/nodes')
      assert.equal(r.status, 200, JSON.stringify(r.body))
      assert.deepEqual(r.body.data.map((x: any) => x.name), ['node-a', 'node-b', 'node-c'])
      assert.ok(r.body.data.every((x: any) => x.status === 'up'), JSON.stringify(r.body.data))
      assert.deepEqual(r.body.data.filter((x: any) => x.self).map((x: any) => x.name), [n.name])
      const self = r.body.data.find((x: any) => x.self)
      assert.equal(self.address, `http://127.0.0.1:${n.env.JUNCTION_HTTP_PORT}`)
    }
  })

  it('a connector created on node a connects on b and c; edited on c, it follows on a; deleted on b, it stops running on a', async () => {
    const [a, b, c] = nodes as [Node, Node, Node]
    const created = await a.api('POST', CONNECTORS, { name: 'cache', type: 'redis', config: { servers: '127.0.0.1:6379' } })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const id = created.body.id as string
    for (const n of [b, c]) {
      await until(`connector on ${n.name}`, () => n.api('GET', `${CONNECTORS}/${id}`), (r) => r.body?.status === 'connected')
    }
    // Each node shows every node's status, itself first (the others' as of their last heartbeat).
    const onA = await until('every node connected, seen from a', () => a.api('GET', CONNECTORS), (r) => r.body.data[0]?.nodes.length === 3 && r.body.data[0].nodes.every((n: any) => n.status === 'connected'))
    assert.deepEqual(onA.body.data[0].nodes.map((n: any) => n.node), ['node-a', 'node-b', 'node-c'])
    assert.equal(onA.body.data[0].status, 'connected')

    const disabled = await c.api('PUT', `${CONNECTORS}/${id}`, { enabled: false })
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body))
    for (const n of [a, b]) {
      const r = await until(`disabled on ${n.name}`, () => n.api('GET', `${CONNECTORS}/${id}`), (r) => r.body?.status === 'stopped')
      assert.equal(r.body.statusReason, 'disabled')
    }
    assert.equal((await c.api('PUT', `${CONNECTORS}/${id}`, { enabled: true })).status, 200)
    await until('enabled again on a', () => a.api('GET', `${CONNECTORS}/${id}`), (r) => r.body?.status === 'connected')

    // What runs on each node, as its heartbeat reports it.
    const running = async (node: string) => {
      const db = new pg.Client({ connectionString: databaseUrl })
      await db.connect()
      try {
        const r = await db.query('SELECT report FROM nodes WHERE name = $1', [node])
        return Object.keys(JSON.parse(r.rows[0]?.report ?? '{"connectors":{}}').connectors as object)
      } finally {
        await db.end()
      }
    }
    await until('reported running on a', () => running('node-a'), (ids) => ids.includes(id))
    const removed = await b.api('DELETE', `${CONNECTORS}/${id}?confirm=${id}`)
    assert.equal(removed.status, 204, JSON.stringify(removed.body))
    assert.equal((await a.api('GET', `${CONNECTORS}/${id}`)).status, 404)
    await until('no longer running on a', () => running('node-a'), (ids) => !ids.includes(id))
    await until('no longer running on c', () => running('node-c'), (ids) => !ids.includes(id))
  })

  it('a rule created on node a runs in node c\'s broker', async () => {
    const [a, , c] = nodes as [Node, Node, Node]
    const rule = await a.api('POST', RULES, { name: 'echo', sql: 'SELECT payload FROM "in/#"', actions: [{ builtin: 'republish', params: { topic: 'out/echo', payload: '${payload}' } }] })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    await until('rule installed on c', () => c.api('GET', `${RULES}/${rule.body.id}`), (r) => r.body?.metrics !== null)
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${c.mqttPort}`, { reconnectPeriod: 0 })
    try {
      const got = new Promise<string>((resolve) => client.on('message', (_t, p) => resolve(String(p))))
      await client.subscribeAsync('out/echo', { qos: 1 })
      await client.publishAsync('in/1', 'hello from c', { qos: 1 })
      assert.equal(await Promise.race([got, new Promise((r) => setTimeout(() => r('nothing within 5 s'), 5000))]), 'hello from c')
    } finally {
      await client.endAsync()
    }
    // Counted on c, where the message arrived; every node answers c's counters and the total.
    const seen = await until('c\'s counters seen from a', () => a.api('GET', `${RULES}/${rule.body.id}`), (r) => r.body.totals?.matched === 1 && r.body.nodes?.length === 3)
    assert.deepEqual(seen.body.nodes.map((n: any) => [n.node, n.matched]), [['node-a', 0], ['node-b', 0], ['node-c', 1]])
    assert.equal(seen.body.totals.actions.success, 1)
    assert.equal(seen.body.metrics.rule.matched, 0, 'metrics stay this node\'s own')
    assert.equal((await c.api('DELETE', `${RULES}/${rule.body.id}`)).status, 204)
    await until('rule gone on a', () => a.api('GET', `${RULES}/${rule.body.id}`), (r) => r.status === 404)
  })

  it('per action and per connector, each node\'s counters and health add up to the totals, seen from any node', async () => {
    const [a, b, c] = nodes as [Node, Node, Node]
    const connector = await a.api('POST', CONNECTORS, { name: 'counted', type: 'redis', config: { servers: '127.0.0.1:6379' } })
    assert.equal(connector.status, 201, JSON.stringify(connector.body))
    const cid = connector.body.id as string
    for (const n of nodes) await until(`connector on ${n.name}`, () => n.api('GET', `${CONNECTORS}/${cid}`), (r) => r.body?.status === 'connected')
    // EXPIRE on a key that does not exist answers 0 (delivered); a TTL that is not a number is
    // refused by Redis: a permanent failure, so the action fails on the node that got it.
    const rule = await a.api('POST', RULES, {
      name: 'counted', sql: 'SELECT payload FROM "counted/#"',
      actions: [
        { builtin: 'republish', params: { topic: 'counted-out/echo', payload: '${payload}' } },
        { connectorId: cid, params: { command: ['EXPIRE', 'junction:nodes-test:absent', '${payload.ttl}'] } },
      ],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    const rid = rule.body.id as string
    for (const n of nodes) await until(`rule installed on ${n.name}`, () => n.api('GET', `${RULES}/${rid}`), (r) => r.body?.metrics !== null)

    // Devices on different nodes: 2 messages through a, 3 through b, 5 through c (one with a bad TTL).
    const sent: Record<string, string[]> = { 'node-a': ['10', '10'], 'node-b': ['10', '10', '10'], 'node-c': ['10', '10', '10', '10', '"x"'] }
    for (const n of nodes) {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${n.mqttPort}`, { reconnectPeriod: 0 })
      try {
        for (const ttl of sent[n.name]!) await client.publishAsync(`counted/${n.name}`, `{"ttl":${ttl}}`, { qos: 1 })
      } finally {
        await client.endAsync()
      }
    }

    const settled = (r: { body: any }) => r.body.nodes?.length === 3 && r.body.totals.matched === 10
      && r.body.totals.perAction[0].success === 10 && r.body.totals.perAction[1].success + r.body.totals.perAction[1].failed === 10
    const seen = await until('every node\'s counters, seen from b', () => b.api('GET', `${RULES}/${rid}`), settled)
    const byNode = Object.fromEntries(seen.body.nodes.map((n: any) => [n.node, n]))
    assert.deepEqual(seen.body.nodes.map((n: any) => n.node), ['node-b', 'node-a', 'node-c'], 'the answering node first')
    for (const [name, count] of [['node-a', 2], ['node-b', 3], ['node-c', 5]] as const) {
      const n = byNode[name]
      assert.equal(n.matched, count, name)
      assert.equal(n.perAction.length, 2, name)
      assert.deepEqual(pick(n.perAction[0]), { matched: count, success: count, failed: 0, dropped: 0, queuing: 0, inflight: 0, health: 'ok' }, `${name} republish`)
      const failed = name === 'node-c' ? 1 : 0
      assert.deepEqual(pick(n.perAction[1]), { matched: count, success: count - failed, failed, dropped: 0, queuing: 0, inflight: 0, health: failed ? 'failing' : 'ok' }, `${name} redis`)
      // The summed shape stays what it was: every action of the rule together.
      assert.deepEqual(n.actions, { total: 2 * count, success: 2 * count - failed, failed, discarded: 0 }, `${name} actions`)
    }
    assert.deepEqual(pick(seen.body.totals.perAction[0]), { matched: 10, success: 10, failed: 0, dropped: 0, queuing: 0, inflight: 0, health: 'ok' })
    assert.deepEqual(pick(seen.body.totals.perAction[1]), { matched: 10, success: 9, failed: 1, dropped: 0, queuing: 0, inflight: 0, health: 'failing' }, 'the worst health of the nodes\'')
    assert.deepEqual(seen.body.totals.actions, { total: 20, success: 19, failed: 1, discarded: 0 })
    // This node's entry is its own metrics, in short.
    const own = seen.body.metrics.actions[1]
    assert.deepEqual(pick(byNode['node-b'].perAction[1]), { matched: own.matched, success: own.success, failed: own.failed, dropped: own.dropped, queuing: own.queuing, inflight: own.inflight, health: own.health.state })

    // The connector: what its action sent through it on each node, and the total, from a.
    const conn = await until('the connector\'s counters, seen from a', () => a.api('GET', `${CONNECTORS}/${cid}`),
      (r) => r.body.nodes?.length === 3 && r.body.totals.success + r.body.totals.failed === 10)
    const connByNode = Object.fromEntries(conn.body.nodes.map((n: any) => [n.node, n]))
    assert.deepEqual(Object.keys(connByNode), ['node-a', 'node-b', 'node-c'])
    assert.deepEqual(['node-a', 'node-b', 'node-c'].map((n) => [n, connByNode[n].metrics.matched, connByNode[n].metrics.success, connByNode[n].metrics.failed, connByNode[n].delivery]),
      [['node-a', 2, 2, 0, 'ok'], ['node-b', 3, 3, 0, 'ok'], ['node-c', 5, 4, 1, 'failing']])
    assert.equal(conn.body.status, 'connected', 'the connection is up everywhere: not inconsistent')
    assert.equal(conn.body.delivery.state, 'ok', 'delivery stays a\'s own')
    const { series: _series, ...aOwn } = conn.body.metrics
    assert.deepEqual(connByNode['node-a'].metrics, aOwn, 'a\'s entry is its own metrics')
    for (const k of ['matched', 'success', 'failed', 'dropped', 'queuing', 'inflight', 'retried'] as const) {
      assert.equal(conn.body.totals[k], conn.body.nodes.reduce((s: number, n: any) => s + n.metrics[k], 0), `totals.${k}`)
    }
    assert.equal(conn.body.totals.matched, 10)
    assert.match(conn.body.totals.lastError ?? '', /not an integer/i, 'c\'s error, the only node with one')
    assert.equal(conn.body.totals.lastSuccessAt, [connByNode['node-a'], connByNode['node-b'], connByNode['node-c']].map((n: any) => n.metrics.lastSuccessAt).sort().at(-1))

    assert.equal((await b.api('DELETE', `${RULES}/${rid}`)).status, 204)
    await until('rule gone on a', () => a.api('GET', `${RULES}/${rid}`), (r) => r.status === 404)
    assert.equal((await a.api('DELETE', `${CONNECTORS}/${cid}?confirm=${cid}`)).status, 204)
  })

  it('broker settings changed on node b apply to node a\'s broker at once', async () => {
    const [a, b] = nodes as [Node, Node, Node]
    const anonymous = async () => {
      try {
        const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${a.mqttPort}`, { reconnectPeriod: 0, connectTimeout: 5000 })
        await client.endAsync()
        return 'accepted'
      } catch (err) {
        return `refused: ${(err as Error).message}`
      }
    }
    assert.equal(await anonymous(), 'accepted')
    assert.equal((await b.api('PATCH', '/api/v1/deployments/default', { mqtt: { allowAnonymous: false } })).status, 200)
    await until('anonymous refused on a', anonymous, (r) => r.startsWith('refused'))
    assert.equal((await b.api('PATCH', '/api/v1/deployments/default', { mqtt: { allowAnonymous: true } })).status, 200)
    await until('anonymous accepted on a again', anonymous, (r) => r === 'accepted')
  })

  it('a deployment stopped on node b stops on a; started on c, it runs on a again', async () => {
    const [a, b, c] = nodes as [Node, Node, Node]
    assert.equal((await b.api('POST', '/api/v1/deployments/default/stop')).status, 200)
    await until('stopped on a', () => a.api('GET', '/api/v1/deployments/default'), (r) => r.body.status === 'stopped')
    assert.equal((await c.api('POST', '/api/v1/deployments/default/start')).status, 200)
    const r = await until('running on a', () => a.api('GET', '/api/v1/deployments/default'), (r) => r.body.status === 'running')
    assert.equal(r.body.mqtt.port, a.mqttPort, 'on its own MQTT port')
  })

  it('a login token from node a works on b; a logout on c ends it on every node', async () => {
    const [a, b, c] = nodes as [Node, Node, Node]
    const login = await a.api('POST', '/api/v1/login', { username: 'admin', password: 'x-admin-password' }, '')
    assert.equal(login.status, 200, JSON.stringify(login.body))
    const bearer = `Bearer ${login.body.token}`
    for (const n of nodes) assert.equal((await n.api('GET', '/api/v1/deployments', undefined, bearer)).status, 200, n.name)
    assert.equal((await c.api('POST', '/api/v1/logout', undefined, bearer)).status, 204)
    for (const n of [a, b]) assert.equal((await n.api('GET', '/api/v1/deployments', undefined, bearer)).status, 401, n.name)
  })

  it('an API key created on one node works on all; deleted on b, it is refused on a at once', async () => {
    const [a, b] = nodes as [Node, Node, Node]
    const created = await a.api('POST', '/api/v1/api-keys', { key: 'ops-key', role: 'viewer' })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const basic = `Basic ${Buffer.from(`ops-key:${created.body.secret}`).toString('base64')}`
    for (const n of nodes) assert.equal((await n.api('GET', '/api/v1/deployments', undefined, basic)).status, 200, n.name)
    assert.equal((await b.api('DELETE', '/api/v1/api-keys/ops-key')).status, 204)
    // a verified the key a moment ago (kept a minute); the feed makes it forget.
    await until('key refused on a', () => a.api('GET', '/api/v1/deployments', undefined, basic), (r) => r.status === 401)
  })

  it('a change made while a node\'s feed connection was cut reaches it when the feed reconnects', async () => {
    const [a, b] = nodes as [Node, Node, Node]
    const admin = new pg.Client({ connectionString: databaseUrl })
    await admin.connect()
    try {
      // Cut every LISTEN connection on this database, and make a change right away.
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'")
    } finally {
      await admin.end()
    }
    const created = await a.api('POST', CONNECTORS, { name: 'during-cut', type: 'redis', config: { servers: '127.0.0.1:6379' } })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    await until('connector on b after the reconnect', () => b.api('GET', `${CONNECTORS}/${created.body.id}`), (r) => r.body?.status === 'connected')
    assert.equal((await a.api('DELETE', `${CONNECTORS}/${created.body.id}?confirm=${created.body.id}`)).status, 204)
  })

  it('a node killed with SIGKILL is marked down within about 5 s', async () => {
    const [a, , c] = nodes as [Node, Node, Node]
    c.child.kill('SIGKILL')
    await new Promise((r) => c.child.once('exit', r))
    const r = await until('node-c down', () => a.api('GET', '/api/v1/nodes'), (r) => r.body.data.find((x: any) => x.name === 'node-c')?.status === 'down', 15_000)
    assert.deepEqual(r.body.data.filter((x: any) => x.status === 'up').map((x: any) => x.name), ['node-a', 'node-b'])
  })

  it('a node with another secret key refuses to start, saying why', async () => {
    const wrong = await nodeSetup('node-d', databaseUrl, 'some other key')
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: { ...process.env, ...wrong.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => { out += String(d) })
    child.stderr.on('data', (d) => { out += String(d) })
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    assert.equal(code, 2, out)
    assert.match(out, /refusing to start: the secret key \(JUNCTION_SECRET_KEY/)
    assert.doesNotMatch(out, /ready in/)
    const listed = await nodes[0]!.api('GET', '/api/v1/nodes')
    assert.ok(!listed.body.data.some((x: any) => x.name === 'node-d'), 'it never registered')
  })
})

/** An action's counters without `retried` (retries depend on timing) and `fallback`. */
function pick(c: any): Record<string, unknown> {
  return { matched: c.matched, success: c.success, failed: c.failed, dropped: c.dropped, queuing: c.queuing, inflight: c.inflight, health: c.health }
}
