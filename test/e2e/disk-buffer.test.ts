// With the disk buffer on, messages queued while the resource is down survive Junction being
// killed (SIGKILL, no goodbye): after a restart every one of them is delivered.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import mqtt from 'mqtt'
import { freePort } from '../support/connector-battery.js'
import { API_KEY, API_SECRET, tempDataDir } from '../support/junction.js'
import { startPrivatePostgres, type PrivatePostgres } from '../support/postgres.js'
import { randomName } from './support.js'

const root = new URL('../..', import.meta.url).pathname
const auth = `Basic ${Buffer.from(`${API_KEY}:${API_SECRET}`).toString('base64')}`

async function start(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: { ...process.env, JUNCTION_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d) => { out += String(d) })
  child.stderr!.on('data', (d) => { out += String(d) })
  const end = Date.now() + 30_000
  while (!/ready in \d+ ms/.test(out)) {
    if (Date.now() > end || child.exitCode !== null) assert.fail(`not ready:\n${out}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return child
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 60_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (ok(v)) return v
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(v)}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

describe('disk buffer', () => {
  let server: PrivatePostgres
  const children: ChildProcess[] = []
  const table = randomName('buffered')

  before(async () => {
    server = await startPrivatePostgres()
    await server.sql(`CREATE TABLE ${table} (seq integer NOT NULL)`)
  })
  after(async () => {
    for (const c of children) c.kill('SIGKILL')
    await server?.destroy()
  })

  it('queued messages survive SIGKILL and are delivered after the restart', async () => {
    const httpPort = await freePort()
    const env = {
      JUNCTION_DATA_DIR: tempDataDir(), JUNCTION_HTTP_HOST: '127.0.0.1', JUNCTION_HTTP_PORT: String(httpPort),
      JUNCTION_MQTT_HOST: '127.0.0.1', JUNCTION_MQTT_PORT: String(await freePort()), JUNCTION_MQTT_ALLOW_ANONYMOUS: 'true',
      JUNCTION_API_KEY: API_KEY, JUNCTION_API_SECRET: API_SECRET, JUNCTION_ADMIN_PASSWORD: 'x-admin-password',
    }
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`http://127.0.0.1:${httpPort}/api/v1/deployments/default${path}`, {
        method, headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
      })
      return { status: r.status, body: (await r.json()) as any }
    }
    const first = await start(env)
    children.push(first)
    const c = await api('POST', '/connectors', {
      name: 'pg', type: 'postgresql',
      config: { host: '127.0.0.1', port: server.port, database: 'postgres', username: server.user, connectTimeoutMs: 1000, resource: { healthCheckIntervalMs: 1000, startTimeoutMs: 2000 } },
    })
    assert.equal(c.status, 201)
    const rule = await api('POST', '/rules', {
      name: 'seq', sql: 'SELECT payload.seq AS seq FROM "seq/#"',
      actions: [{ connectorId: c.body.id, params: { sql: `INSERT INTO ${table} (seq) VALUES (\${seq})` }, options: { diskBuffer: true, requestTtlMs: 600_000 } }],
    })
    assert.equal(rule.status, 201, JSON.stringify(rule.body))
    await until(() => api('GET', `/connectors/${c.body.id}`), (r) => r.body.status === 'connected', 'connected')
    await server.stop()

    const N = 200
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${env.JUNCTION_MQTT_PORT}`, { reconnectPeriod: 0 })
    for (let i = 0; i < N; i++) await device.publishAsync('seq/1', JSON.stringify({ seq: i }), { qos: 1 })
    await device.endAsync()
    const held = await until(() => api('GET', `/rules/${rule.body.id}`), (r) => r.body.metrics.actions[0].matched === N, 'all queued')
    assert.equal(held.body.metrics.actions[0].success, 0)

    first.kill('SIGKILL')
    await new Promise((r) => first.once('exit', r))
    await server.start()

    const second = await start(env)
    children.push(second)
    const rows = await until(async () => (await server.sql(`SELECT count(*) || ',' || count(DISTINCT seq) FROM ${table}`)).trim(), (v) => Number(v.split(',')[1]) === N, `${N} distinct rows`, 90_000)
    assert.equal(rows, `${N},${N}`, 'all delivered, none twice')
    second.kill('SIGTERM')
    await new Promise((r) => second.once('exit', r))
  })
})
