// Deployments: the default one on first start, the embedded broker a real MQTT client talks to,
// port fallback and port errors, start/stop, and the "connectors only while running" rule.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { after, before, describe, it } from 'node:test'
import mqtt from 'mqtt'
import { sharedPostgres } from '../support/postgres.js'
import { eventually, startJunction, type TestJunction } from '../support/junction.js'

const pgConfig = () => {
  const pg = sharedPostgres()
  return { host: pg.host, port: pg.port, database: pg.database, username: pg.user, resource: { healthCheckIntervalMs: 1000 } }
}

/** Publishes through the broker at `port` and reads the message back with a second client. */
async function roundTrip(port: number): Promise<string> {
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 0 })
  const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 0 })
  try {
    await sub.subscribeAsync('sensors/#', { qos: 1 })
    const got = new Promise<string>((resolve) => sub.once('message', (_t, payload) => resolve(payload.toString())))
    await pub.publishAsync('sensors/1/temp', '{"temp":21.5}', { qos: 1 })
    return await got
  } finally {
    await Promise.all([sub.endAsync(), pub.endAsync()])
  }
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(port, '127.0.0.1', () => resolve(s))
  })
}

describe('deployments', () => {
  let j: TestJunction

  before(async () => { j = await startJunction() })
  after(async () => { await j.close() })

  it('a fresh install has deployment "default", plan dedicated, running an MQTT broker', async () => {
    const list = await j.api('GET', '/api/v1/deployments')
    assert.equal(list.status, 200)
    assert.equal(list.body.data.length, 1)
    const d = list.body.data[0]
    assert.deepEqual([d.id, d.name, d.plan, d.status], ['default', 'default', 'dedicated', 'running'])
    assert.ok(d.mqtt.port > 0)
    assert.equal(await roundTrip(d.mqtt.port), '{"temp":21.5}')
  })

  it('stop: broker closed and connectors stopped; creating a connector is refused with 409', async () => {
    const created = await j.api('POST', '/api/v1/deployments/default/connectors', { name: 'pg', type: 'postgresql', config: pgConfig() })
    assert.equal(created.status, 201)
    const url = `/api/v1/deployments/default/connectors/${created.body.id}`
    await eventually(() => j.api('GET', url), (r) => r.body.status === 'connected', 'connected')
    const port = (await j.api('GET', '/api/v1/deployments/default')).body.mqtt.port

    const stopped = await j.api('POST', '/api/v1/deployments/default/stop')
    assert.equal(stopped.status, 200)
    assert.equal(stopped.body.status, 'stopped')
    assert.deepEqual([stopped.body.mqtt.host, stopped.body.mqtt.port], [null, null], 'no address while stopped; the settings stay')
    assert.equal(stopped.body.mqtt.maxPacketSize, 1024 * 1024)
    await assert.rejects(mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 2000 }))
    const c = await j.api('GET', url)
    assert.equal(c.body.status, 'stopped')
    assert.equal(c.body.statusReason, 'deployment stopped')

    const refused = await j.api('POST', '/api/v1/deployments/default/connectors', { name: 'pg2', type: 'postgresql', config: pgConfig() })
    assert.equal(refused.status, 409)
    assert.equal(refused.body.error.code, 'DEPLOYMENT_NOT_RUNNING')
    assert.match(refused.body.error.hint, /start/)

    const edited = await j.api('PUT', url, { config: { ...pgConfig(), poolSize: 2 } })
    assert.equal(edited.status, 200)
    assert.equal(edited.body.status, 'stopped', 'an edit does not start a connector of a stopped deployment')
    await new Promise((r) => setTimeout(r, 300))
    assert.equal((await j.api('GET', url)).body.status, 'stopped')

    const started = await j.api('POST', '/api/v1/deployments/default/start')
    assert.equal(started.body.status, 'running')
    const after = await eventually(() => j.api('GET', url), (r) => r.body.status === 'connected', 'connected after start')
    assert.equal(after.body.config.poolSize, 2)
    assert.equal(await roundTrip(started.body.mqtt.port), '{"temp":21.5}')

    const notEmpty = await j.api('DELETE', '/api/v1/deployments/default')
    assert.equal(notEmpty.status, 409)
    assert.equal(notEmpty.body.error.code, 'DEPLOYMENT_NOT_EMPTY')
    assert.equal((await j.api('DELETE', `${url}?confirm=${created.body.id}`)).status, 204)
  })

  it('create, rename, re-plan and delete another deployment', async () => {
    const created = await j.api('POST', '/api/v1/deployments', { name: 'factory-2', plan: 'serverless', mqtt: { allowAnonymous: true } })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    assert.match(created.body.id, /^d-[a-z0-9]{8}$/)
    assert.equal(created.body.status, 'running')
    assert.equal(await roundTrip(created.body.mqtt.port), '{"temp":21.5}')
    const dup = await j.api('POST', '/api/v1/deployments', { name: 'factory-2' })
    assert.equal(dup.status, 409)
    const bad = await j.api('POST', '/api/v1/deployments', { name: 'x', plan: 'enterprise' })
    assert.equal(bad.status, 400)
    assert.match(bad.body.error.fields[0].hint, /serverless/)
    const patched = await j.api('PATCH', `/api/v1/deployments/${created.body.id}`, { name: 'factory-two', plan: 'premium' })
    assert.deepEqual([patched.body.name, patched.body.plan], ['factory-two', 'premium'])
    assert.equal((await j.api('DELETE', `/api/v1/deployments/${created.body.id}`)).status, 204)
    assert.equal((await j.api('GET', `/api/v1/deployments/${created.body.id}`)).status, 404)
  })

  it('an explicit port that is taken puts the deployment in error with the reason', async () => {
    const blocker = await occupy(0)
    const port = (blocker.address() as { port: number }).port
    try {
      const r = await j.api('POST', '/api/v1/deployments', { name: 'clash', mqttPort: port })
      assert.equal(r.status, 201)
      assert.equal(r.body.status, 'error')
      assert.match(r.body.statusReason, new RegExp(`${port}.*in use`))
      await new Promise<void>((resolve) => blocker.close(() => resolve()))
      const started = await j.api('POST', `/api/v1/deployments/${r.body.id}/start`)
      assert.equal(started.body.status, 'running')
      assert.equal(started.body.mqtt.port, port)
      assert.equal((await j.api('DELETE', `/api/v1/deployments/${r.body.id}`)).status, 204)
    } finally {
      blocker.close()
    }
  })
})

describe('default MQTT port', () => {
  it('takes the next free port when 1883 is taken and none was set, and says so in the log', async () => {
    const blockers: Server[] = []
    // 1883 is Mosquitto's on these machines; occupy it ourselves where it is free.
    try { blockers.push(await occupy(1883)) } catch { /* taken already */ }
    const j = await startJunction({ mqttPort: undefined })
    try {
      const d = (await j.api('GET', '/api/v1/deployments/default')).body
      assert.equal(d.status, 'running')
      assert.notEqual(d.mqtt.port, 1883)
      assert.ok(d.mqtt.port > 1883 && d.mqtt.port <= 1983)
      assert.match(j.log(), new RegExp(`MQTT port 1883 is in use: deployment default listens on ${d.mqtt.port} instead`))
      assert.equal(await roundTrip(d.mqtt.port), '{"temp":21.5}')
    } finally {
      await j.close()
      for (const b of blockers) b.close()
    }
  })

  it('JUNCTION_MQTT_PORT set to a taken port puts default in error', async () => {
    const blocker = await occupy(0)
    const port = (blocker.address() as { port: number }).port
    const j = await startJunction({ mqttPort: port })
    try {
      const d = (await j.api('GET', '/api/v1/deployments/default')).body
      assert.equal(d.status, 'error')
      assert.match(d.statusReason, /in use/)
    } finally {
      await j.close()
      blocker.close()
    }
  })
})
